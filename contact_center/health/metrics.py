"""One process's metrics in the Prometheus text format, through `prometheus_client`.

No global registry: each process builds one `Metrics` and passes it down. Hot paths pay
nothing for it: the bridge counts AMI events in a plain int, and what it knows (calls in
progress, queue figures, error counts) is read only when a scrape comes, by the sources
registered with `add_source`. Only the routing histogram is observed as it happens (once
per FastAGI call). A scrape builds the sources' families on the event loop (they read live
objects), then renders the text in a thread (the process collector reads /proc).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
ROUTING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0)
"""Seconds; 1.5 is CC_AGI_ROUTE_TIMEOUT's default, past which the dialplan falls back."""

Source = Callable[[], Awaitable[Iterable[Metric]]]
"""Builds metric families from live objects, on the event loop, at scrape time."""


class _Snapshot(Collector):
    """Yields the families built on the loop just before rendering."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class _Process(Collector):
    """prometheus_client's process collector (CPU, memory, open files), made at the first
    scrape: it reads /proc, so it runs in the rendering thread, never on the loop."""

    def __init__(self) -> None:
        self._inner: ProcessCollector | None = None

    def collect(self) -> Iterable[Metric]:
        if self._inner is None:
            self._inner = ProcessCollector(registry=None)
        return self._inner.collect()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.routing_seconds = Histogram(
            "cc_routing_seconds",
            "Time to answer a FastAGI routing request (decision and both commands).",
            buckets=ROUTING_BUCKETS,
            registry=self.registry,
        )
        self.http_errors = Counter(
            "cc_http_errors",
            "Web requests answered with a server error (5xx or an exception; not /health/).",
            registry=self.registry,
        )
        self._sources: list[Source] = []
        self._snapshot = _Snapshot()
        self.registry.register(self._snapshot)
        self.registry.register(_Process())
        self._lock = asyncio.Lock()

    def add_source(self, source: Source) -> None:
        self._sources.append(source)

    async def render(self) -> bytes:
        """The text exposition of every metric (one scrape at a time)."""
        async with self._lock:
            families: list[Metric] = []
            for source in self._sources:
                families.extend(await source())
            self._snapshot.families = families
            return await asyncio.to_thread(generate_latest, self.registry)
