"""The supervisor wallboard: the board (pure), where its inputs come from, today's figures,
and the feed that pushes its changes to every wallboard of a web process."""
