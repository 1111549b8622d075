"""Routing decision latency at the FastAGI socket: ``python -m bench.routing``."""
