"""The push channel to the browser: one bus listener per web process fans messages out to
the websockets of the users they are addressed to (see `hub`); `/push` is the websocket
(see `views`)."""
