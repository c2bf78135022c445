"""Correlation ids, JSON logs and Prometheus metrics shared by every service.

A correlation id enters with the HTTP request (``X-Correlation-ID``, or a new one), is kept in a
context variable, written into each outbox event (CloudEvents extension ``correlationid``),
copied to Kafka headers by the relay and restored by the consumer before its handler runs, so
one id follows a tip from the web form to the case it opens.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CORRELATION_SCOPE_KEY = "ctip.correlation_id"

HTTP_REQUESTS = Counter(
    "ctip_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "ctip_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PENDING = Gauge("ctip_outbox_pending", "Outbox rows not yet published", ["service"])
OUTBOX_LAG = Gauge(
    "ctip_outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_PUBLISHED = Counter("ctip_outbox_published_total", "Events published", ["service"])
CONSUMER_LAG = Gauge(
    "ctip_consumer_lag", "Records behind the partition end", ["service", "topic", "partition"]
)
CONSUMED = Counter("ctip_consumed_total", "Events handled", ["service", "topic", "outcome"])
DLT_SENT = Counter("ctip_dlt_total", "Events sent to a dead-letter topic", ["service", "topic"])
# What ops act on beyond the plumbing: partners not receiving, and legal deadlines passing.
WEBHOOK_DELIVERIES = Counter(
    "ctip_webhook_deliveries_total",
    "Webhook delivery attempts by partner and outcome (delivered, failed, gone)",
    ["service", "partner", "outcome"],
)
PARTNERS_DISABLED = Counter(
    "ctip_partners_disabled_total", "Partners disabled, by why", ["service", "partner", "reason"]
)
PARTNER_CIRCUIT = Gauge(
    "ctip_partner_circuit",
    "A partner's circuit breaker: 0 closed, 1 half-open (a probe is due), 2 open (deliveries wait)",
    ["service", "partner"],
)
DEADLINE_SIGNALS = Counter(
    "ctip_deadline_signals_total",
    "Legal deadlines signalled, by kind (approaching, missed)",
    ["service", "kind"],
)
NOTIFICATION_DELIVERIES = Counter(
    "ctip_notification_deliveries_total",
    "E-mail and webhook attempts of notifications, by channel and outcome (sent, retry, failed,"
    " gone)",
    ["service", "channel", "outcome"],
)
DEADLINES_OVERDUE = Gauge(
    "ctip_deadlines_overdue", "Open records past a legal deadline, by kind", ["service", "kind"]
)


_SAFE_LOC = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _loc(loc: Iterable[Any]) -> str:
    """A validation error's location with the field names and list indexes of our models kept;
    anything else (a dict key taken from the input) could be data, and is shown as ``*``."""
    parts = [
        str(p) if isinstance(p, int) or (isinstance(p, str) and _SAFE_LOC.match(p)) else "*"
        for p in loc
    ]
    return ".".join(parts) or "-"


def _validation_errors(exc: BaseException) -> list[Mapping[str, Any]] | None:
    """The error list of a pydantic or FastAPI validation error; None for anything else."""
    from fastapi.exceptions import RequestValidationError, ResponseValidationError
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return [dict(e) for e in exc.errors(include_url=False, include_input=False)]
    if isinstance(exc, RequestValidationError | ResponseValidationError):
        return list(exc.errors())
    return None


def describe_error(exc: BaseException) -> str:
    """What may be logged or put in a DLT header about an exception.

    ``str()`` of a pydantic ``ValidationError`` quotes the input (``input_value={'full_name':
    ...}``) and SQLAlchemy's quotes the statement's parameters: a victim's name or a reporter's
    phone number would land in log files and Kafka headers, which are neither encrypted nor
    audited. Validation errors are therefore told by the type and location of each error only,
    database errors by their class and SQLSTATE; other exceptions keep their message, which our
    code writes without personal data."""
    from sqlalchemy.exc import StatementError

    name = type(exc).__name__
    errors = _validation_errors(exc)
    if errors is not None:
        shown = "; ".join(f"{e.get('type', '?')} at {_loc(e.get('loc', ()))}" for e in errors[:20])
        more = f"; and {len(errors) - 20} more" if len(errors) > 20 else ""
        return f"{name}: {len(errors)} error(s): {shown}{more}"
    if isinstance(exc, StatementError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        return f"{name} ({type(orig).__name__}{f', SQLSTATE {state}' if state else ''})"
    return f"{name}: {str(exc)[:500]}"


def redacted_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes: every frame (file, line, code), and each
    exception as :func:`describe_error` tells it, never its raw message."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    parts: list[str] = []
    for item in reversed(chain):
        frames = traceback.format_list(traceback.extract_tb(item.__traceback__))
        parts.append(
            "Traceback (most recent call last):\n" + "".join(frames) + describe_error(item)
        )
    return "\n\nThe above led to:\n\n".join(parts)


class RedactExceptionsFilter(logging.Filter):
    """Rewrites a record's exception, and any exception passed as a ``%s`` argument, with
    :func:`describe_error`, before any handler formats it. On the root handler and on
    ``uvicorn.error`` (which logs an exception that reached the server with its own handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1])
            record.exc_info = None
        if isinstance(record.args, tuple) and any(
            isinstance(a, BaseException) for a in record.args
        ):
            record.args = tuple(
                describe_error(a) if isinstance(a, BaseException) else a for a in record.args
            )
        return True


_REDACT = RedactExceptionsFilter()


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation_id.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout with the service and correlation id on every record."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    handler.addFilter(_REDACT)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # httpx logs every request's full URL at INFO; a URL can carry a query worth keeping out.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        server = logging.getLogger(name)
        if _REDACT not in server.filters:
            server.addFilter(_REDACT)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class ObservabilityMiddleware:
    """Pure ASGI middleware: correlation id in and out, request count and latency by route."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-correlation-id":
                incoming = value.decode("latin-1")
                break
        cid = incoming if incoming and _SAFE_ID.match(incoming) else new_correlation_id()
        # Kept in the scope too: the 500 handler runs outside this middleware, once the context
        # variable is reset, and still names the request it logs.
        scope[CORRELATION_SCOPE_KEY] = cid
        token = correlation_id.set(cid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-correlation-id", cid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(
                time.perf_counter() - started
            )
            correlation_id.reset(token)
