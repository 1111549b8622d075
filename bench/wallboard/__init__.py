"""Wallboard benchmark: event-to-screen latency with many clients under load."""
