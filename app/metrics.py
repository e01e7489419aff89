"""Prometheus metrics at GET /metrics, through prometheus-client (its text exposition format).

- boternity_requests_total{transport, operation_type, outcome}: every HTTP request, once
  answered (transport http), and every graphql-transport-ws subscribe message, once admitted
  or refused (transport ws). operation_type is query, mutation, subscription, batch, or none
  (no GraphQL operation: a download, a health check, a request refused before its document
  was read); outcome is the first error's extensions.code, else OK, else HTTP_<status> for an
  error status without a GraphQL error.
- boternity_request_duration_seconds{operation}: a histogram by operation name. Names are
  chosen by clients, so only the first BOTERNITY_METRICS_MAX_OPERATION_NAMES distinct names get
  their own series; later ones, and invalid ones, count as (other); a request without a name is
  (anonymous), a batch (batch), a request without an operation (none).
- boternity_graphql_errors_total{code}: every GraphQL error sent, by extensions.code.
- boternity_sql_statements_total, boternity_write_queue_depth (write transactions waiting for
  their turn): read from the database when scraped (db/ keeps the counts; nothing in db/
  imports this module). boternity_subscriptions_active: the client subscriptions the WebSocket
  endpoint holds (subscriptions of one selection share one broker subscription, so the broker's
  count would be the number of distinct selections).
- boternity_event_loop_lag_seconds: how late the last 0.25 s timer fired (a loop stalled by a
  long statement shows here).
- boternity_engine_fallbacks_total{reason}: queries the execution engine did not run compiled
  and handed to the reference path (graphql-core on the Strawberry schema), by reason (a fixed
  set, app/engine/); read from the engine's counter when scraped.

/metrics needs an API key of any scope when authentication is on, or the bearer token set in
BOTERNITY_METRICS_TOKEN (for a scraper that should hold no API key).
"""

import asyncio
import collections
import contextlib
import hmac
import re
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.auth import Authenticator
from db.connection import Database
from db.errors import UnauthenticatedError
from db.settings import Settings
from schema.errors import coded_error

LAG_INTERVAL_S = 0.25
OTHER, ANONYMOUS, BATCH, NONE = "(other)", "(anonymous)", "(batch)", "(none)"
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,99}$")
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Live(Collector):
    """Values read when scraped: statements sent, writes queued."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "boternity_sql_statements",
            "SQL statements sent to the database by this process.",
            value=self._db.counter.count,
        )
        yield GaugeMetricFamily(
            "boternity_write_queue_depth",
            "Write transactions waiting for their turn (the write lock or a pool connection).",
            value=self._db.write_queue.depth,
        )


class _Subscriptions(Collector):
    """The client subscriptions open on this process, read when scraped."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "boternity_subscriptions_active",
            "GraphQL subscriptions open on this process.",
            value=self._count(),
        )


class _Fallbacks(Collector):
    """The engine's fallback counts by reason, read when scraped."""

    def __init__(self, fallbacks: collections.Counter[str]) -> None:
        self._fallbacks = fallbacks

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "boternity_engine_fallbacks",
            "Queries the engine handed to the reference path, by reason.",
            labels=["reason"],
        )
        for reason, count in sorted(self._fallbacks.items()):
            family.add_metric([reason], count)
        yield family


class Metrics:
    def __init__(self, settings: Settings, db: Database, authenticator: Authenticator) -> None:
        self._settings = settings
        self._authenticator = authenticator
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "boternity_requests",
            "Requests answered, by transport, operation type and outcome code.",
            ["transport", "operation_type", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "boternity_request_duration_seconds",
            "Request duration by operation name (at most BOTERNITY_METRICS_MAX_OPERATION_NAMES).",
            ["operation"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "boternity_graphql_errors",
            "GraphQL errors sent, by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.loop_lag = Gauge(
            "boternity_event_loop_lag_seconds",
            "How late the last event-loop timer fired.",
            registry=self.registry,
        )
        self.registry.register(_Live(db))
        self._names: set[str] = set()
        self._requests: dict[tuple[str, str], Counter] = {}
        self._durations: dict[str, Histogram] = {}
        self._lag_task: asyncio.Task[None] | None = None

    def watch_subscriptions(self, count: Callable[[], int]) -> None:
        """Expose how many client subscriptions are open (app/ws_feeds.py Feeds.members)."""
        self.registry.register(_Subscriptions(count))

    def watch_fallbacks(self, fallbacks: collections.Counter[str]) -> None:
        """Expose the engine's fallback counter (app/engine/engine.py)."""
        self.registry.register(_Fallbacks(fallbacks))

    def operation_label(self, name: str | None) -> str:
        """The label for a client's operation name, from a bounded set."""
        if name is None:
            return ANONYMOUS
        if name in self._names:
            return name
        if len(self._names) >= self._settings.metrics_max_operation_names or not _NAME.match(name):
            return OTHER
        self._names.add(name)
        return name

    def observe(
        self, operation_type: str, operation: str, outcome: str, codes: list[str], seconds: float
    ) -> None:
        """Count one answered HTTP request (children are cached: labels() costs microseconds,
        and every label set is bounded)."""
        key = (operation_type, outcome)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels("http", *key)
        counter.inc()
        histogram = self._durations.get(operation)
        if histogram is None:
            histogram = self._durations[operation] = self.duration.labels(operation)
        histogram.observe(seconds)
        for code in codes:
            self.errors.labels(code).inc()

    def observe_ws(self, operation_type: str, outcome: str, codes: list[str]) -> None:
        """Count one subscribe message of graphql-transport-ws, when it is admitted (outcome OK)
        or refused (its first error code). How long a subscription lasts is not a request
        duration, so the histogram leaves WebSocket operations out."""
        self.requests.labels("ws", operation_type, outcome).inc()
        for code in codes:
            self.errors.labels(code).inc()

    async def endpoint(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = self._settings.metrics_token
        if not (token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())):
            try:
                await self._authenticator.authenticate(header or None)
            except UnauthenticatedError as error:
                body = {"errors": [coded_error(error.message, error.code)]}
                return JSONResponse(body, 401, {"WWW-Authenticate": "Bearer"})
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def start(self) -> None:
        self._lag_task = asyncio.create_task(self._measure_lag())

    async def stop(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task

    async def _measure_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + LAG_INTERVAL_S
            await asyncio.sleep(LAG_INTERVAL_S)
            self.loop_lag.set(max(0.0, loop.time() - expected))
