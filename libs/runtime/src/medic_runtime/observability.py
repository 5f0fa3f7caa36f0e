"""Logs, traces and metrics every service gets.

- JSON structured logs on stderr (one object a line, with service, instance, trace and span ids).
- OpenTelemetry tracing with W3C trace context carried in Kafka headers end to end.
- Prometheus metrics in a per-service registry, served on ``/metrics``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "JsonFormatter",
    "Metrics",
    "RecentLogs",
    "configure_logging",
    "configure_tracing",
    "current_trace_id",
    "extract_context",
    "inject_headers",
    "keep_recent_logs",
    "recent_logs",
]


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with trace ids and any ``extra`` fields."""

    _RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}

    def __init__(self, service: str, instance: str) -> None:
        super().__init__()
        self.service = service
        self.instance = instance

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "instance": self.instance,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
            entry["span_id"] = f"{span.span_id:016x}"
        for key, value in vars(record).items():
            if key not in self._RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RecentLogs(logging.Handler):
    """The process's latest log lines in a bounded in-memory buffer (what ``/logs`` serves to the dashboard).

    Bounded by line count and by the length of each line, so a flood of long lines cannot grow it.
    """

    def __init__(self, capacity: int = 2000, max_line: int = 4000) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.max_line = max_line

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one line: time, level, logger and the message (with the exception's last line)."""
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f" | {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            self.lines.append(
                {
                    "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                    "level": record.levelname.lower(),
                    "logger": record.name,
                    "msg": text[: self.max_line],
                }
            )
        except Exception:  # a log call must never raise into the caller
            self.handleError(record)

    def tail(self, limit: int, min_level: str = "debug") -> list[dict[str, Any]]:
        """The newest ``limit`` lines at or above ``min_level``, oldest first."""
        floor = logging.getLevelName(min_level.upper())
        floor = floor if isinstance(floor, int) else logging.DEBUG
        picked = [line for line in self.lines if logging.getLevelName(line["level"].upper()) >= floor]
        return picked[-limit:] if limit > 0 else []


#: The buffer every service's ``/logs`` reads; attached to the root logger by :func:`keep_recent_logs`.
recent_logs = RecentLogs()


def keep_recent_logs() -> None:
    """Attach :data:`recent_logs` to the root logger (once)."""
    root = logging.getLogger()
    if recent_logs not in root.handlers:
        root.addHandler(recent_logs)


def configure_logging(*, service: str, instance: str, level: str = "INFO", fmt: str = "json") -> None:
    """Route the root logger to stderr in JSON (or text for humans), and into :data:`recent_logs`."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service, instance))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    keep_recent_logs()
    root.setLevel(level)
    _route_library_loggers_to_root()
    for noisy in ("aiokafka", "faststream", "uvicorn.access", "httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


#: Libraries that install handlers of their own: FastStream puts a coloured stderr/stdout handler, with
#: ``propagate = False``, on ``faststream`` and ``faststream.access.*`` at import; uvicorn would on its own
#: loggers if given a log config. Their lines must go through the root handler (JSON when asked).
_LIBRARY_LOGGERS = ("faststream", "uvicorn")


def _route_library_loggers_to_root() -> None:
    import faststream.kafka  # noqa: F401 - import first, so the handlers it installs exist to be removed

    names = {*_LIBRARY_LOGGERS, "faststream.access", "uvicorn.error", "uvicorn.access"}
    names |= {n for n in logging.root.manager.loggerDict if n.startswith(tuple(f"{p}." for p in _LIBRARY_LOGGERS))}
    for name in sorted(names):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True


_provider: TracerProvider | None = None


def configure_tracing(*, service: str, instance: str, exporter: str = "none", endpoint: str | None = None) -> None:
    """Install an SDK tracer provider once per process, so spans have real trace ids."""
    global _provider  # noqa: PLW0603 - OpenTelemetry's provider is process-global by design
    if _provider is not None:
        return
    # With no exporter nothing would ever read a recorded span: spans are not recorded (ALWAYS_OFF), yet each
    # still gets real trace and span ids, so logs carry trace_id and events carry traceparent across services.
    # Recording them anyway cost about a tenth of a millisecond per API request.
    sampler = ALWAYS_OFF if exporter == "none" else None
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"medic-{service}", "service.instance.id": instance}), sampler=sampler
    )
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    elif exporter == "otlp":  # pragma: no cover - needs an OTLP collector
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore[import-not-found]

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _provider = provider


def inject_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """Add the current trace context (``traceparent``) to a header dict."""
    carrier: dict[str, str] = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | Iterable[tuple[str, bytes]]) -> otel_context.Context:
    """The trace context carried by Kafka headers (str mapping or raw (key, bytes) pairs)."""
    if isinstance(headers, Mapping):
        carrier = dict(headers)
    else:
        carrier = {k: v.decode("utf-8", "replace") for k, v in headers if k in ("traceparent", "tracestate")}
    return propagate.extract(carrier)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex characters, when there is a span."""
    ctx = trace.get_current_span().get_span_context()
    return f"{ctx.trace_id:032x}" if ctx.is_valid else None


class Metrics:
    """The Prometheus metrics of one service, in its own registry."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = ["service"]
        self.service = service
        self.handled = Counter(
            "medic_messages_handled_total",
            "Messages handled successfully.",
            [*labels, "topic", "event_type"],
            registry=self.registry,
        )
        self.failed = Counter(
            "medic_messages_failed_total", "Handler attempts that raised.", [*labels, "topic", "error"], registry=self.registry
        )
        self.duplicates = Counter(
            "medic_messages_duplicate_total",
            "Redelivered messages skipped as already processed.",
            [*labels, "topic"],
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "medic_dlq_total", "Messages sent to the dead-letter topic.", [*labels, "topic"], registry=self.registry
        )
        self.latency = Histogram(
            "medic_handler_seconds",
            "Handler latency per message.",
            [*labels, "topic"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.paused = Gauge("medic_paused", "1 while the service is paused.", labels, registry=self.registry)
        self.outbox_pending = Gauge(
            "medic_outbox_pending", "Events in the outbox not yet acknowledged by the broker.", labels, registry=self.registry
        )
        self.published = Counter(
            "medic_events_published_total", "Events published from the outbox.", [*labels, "topic"], registry=self.registry
        )
        self.work_done = Counter(
            "medic_work_items_total", "Work items finished.", [*labels, "kind", "outcome"], registry=self.registry
        )
        self.work_queued = Gauge("medic_work_items_queued", "Work items waiting.", labels, registry=self.registry)
        self.refused = Counter(
            "medic_side_effects_refused_total",
            "Side effects refused (paused or policy).",
            [*labels, "action"],
            registry=self.registry,
        )
        self.paused.labels(service).set(0)
