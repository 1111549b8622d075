"""Agents at work: their queue log-ins, pauses and click-to-call (commands the web sends to
the bridge), and the configurable pause reasons and disposition codes."""
