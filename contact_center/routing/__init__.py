"""Routing: where an inbound call goes, decided from who is calling."""
