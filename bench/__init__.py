"""Benchmarks: each prints its figures; see bench/README.md."""
