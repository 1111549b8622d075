"""The web side: the agent desktop, the wallboard and the back office, served by aiohttp."""
