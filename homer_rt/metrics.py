"""Prometheus metrics of one app: a registry of its own (tests and embedders create many apps in one
process), held in the app under METRICS and handed to the services that count something.

Counting costs about a microsecond (a lock and an addition) and never awaits, so it sits on the chat send
path. Each process counts its own traffic and serves it on its own /metrics (handlers.metrics): Prometheus
scrapes every process and sums.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pymongo import monitoring

# Latencies of requests, sends and store commands: from a fast in-memory answer to a request that timed out.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LOOP_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# How often the event-loop probe wakes up; what it reports is how late it woke.
LOOP_LAG_PROBE_SECONDS = 0.5

EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # CPU, resident memory, open files of this process
        GCCollector(registry=registry)

        self.http_requests = Counter(
            "homer_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_request_seconds = Histogram(
            "homer_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status (WebSocket upgrades, "
            "which last as long as their connection, are not observed)",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.socket_connections = Gauge(
            "homer_socket_connections",
            "Authenticated Socket.IO connections open in this process, by namespace",
            ["namespace"],
            registry=registry,
        )
        self.chat_messages_sent = Counter(
            "homer_chat_messages_sent",
            "Chat messages stored (REST and Socket.IO; a retried client_msg_id is not counted again)",
            registry=registry,
        )
        self.chat_messages_delivered = Counter(
            "homer_chat_messages_delivered",
            "Chat messages emitted to their participants' live connections",
            registry=registry,
        )
        self.chat_messages_refused = Counter(
            "homer_chat_messages_refused",
            "Chat sends refused by the chat service, by error code",
            ["code"],
            registry=registry,
        )
        self.chat_send_seconds = Histogram(
            "homer_chat_send_duration_seconds",
            "Time the chat service takes to check, store and emit one message",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.logins = Counter(
            "homer_logins",
            "Sign-ins with a password, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.rate_limit_refusals = Counter(
            "homer_rate_limit_refusals",
            "Actions refused by a rate limiter, by limiter",
            ["limiter"],
            registry=registry,
        )
        self.store_command_seconds = Histogram(
            "homer_store_command_duration_seconds",
            "MongoDB commands as the driver timed them, by command and outcome (not the embedded store)",
            ["command", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.event_loop_lag_seconds = Histogram(
            "homer_event_loop_lag_seconds",
            f"How late a task asking to sleep {LOOP_LAG_PROBE_SECONDS} s woke up: time the event loop was "
            "busy with something else",
            buckets=_LOOP_LAG_BUCKETS,
            registry=registry,
        )
        self.store_listener = StoreCommandListener(self.store_command_seconds)

    def refusal_counter(self, limiter: str) -> Callable[[], None]:
        """What a rate limiter calls on each refusal (ratelimit.SlidingWindowLimiter's ``refused``)."""
        return self.rate_limit_refusals.labels(limiter=limiter).inc

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format (thread-safe: the handler runs it off the event loop)."""
        return generate_latest(self.registry)

    async def probe_event_loop_lag(self, *, interval: float = LOOP_LAG_PROBE_SECONDS) -> None:
        """One measurement: sleep ``interval`` and record how much longer it took."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(interval)
        self.event_loop_lag_seconds.observe(max(0.0, loop.time() - started - interval))

    async def run_event_loop_probe(self) -> None:
        """Measure event-loop lag for as long as the app runs (a background task, cancelled at shutdown)."""
        while True:
            await self.probe_event_loop_lag()


class StoreCommandListener(monitoring.CommandListener):
    """pymongo's command monitoring, feeding the store latency histogram. It sees every command the driver
    sends, whichever code path sent it, with the driver's own timing. The embedded store (mongomock) sends
    no commands, so it is not measured: it is for demos and tests, and the chat send histogram covers its
    hot path. Called on the driver's threads: prometheus_client's metrics are thread-safe."""

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._histogram.labels(command=event.command_name, outcome="ok").observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._histogram.labels(command=event.command_name, outcome="error").observe(
            event.duration_micros / 1e6
        )
