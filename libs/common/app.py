"""``create_service_app``: the one way a ctip service is assembled.

Error handlers, correlation ids and metrics, body size limit, CORS, health and readiness, the
outbox relay and the event consumers (in the API process by default; ops can run them as their
own processes with ``ctip worker``), and the service's routers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.audit import audit_key_from_b64, configure_audit_key
from libs.common.audit_verifier import AuditChainVerifier
from libs.common.auth import TokenVerifier
from libs.common.context import Context, context_factory
from libs.common.crypto import BlindIndex, FieldCipher, configure_cipher
from libs.common.db import Database
from libs.common.docs import install_docs
from libs.common.errors import PROBLEM_RESPONSES, install_error_handlers, problem_response
from libs.common.idempotency import IdempotencyPurger
from libs.common.inbox import EventConsumer, Handler
from libs.common.observability import ObservabilityMiddleware, configure_logging
from libs.common.openapi import install_openapi, operation_id
from libs.common.platform import ServicePlatform
from libs.common.relay import OutboxRelay
from libs.common.settings import ServiceSettings

MAX_BODY_BYTES = 1024 * 1024


class Worker(Protocol):
    """A background loop of a service: the relay, a consumer, a sender."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


# A service's own background loop, built once the database is open (``ctip worker`` runs the same).
WorkerFactory = Callable[[Database, Callable[[Any], Context[Any]]], Worker | None]


class _TooLarge(StarletteHTTPException):
    """An HTTPException so that FastAPI's body parsing lets it through as a 413."""

    def __init__(self) -> None:
        super().__init__(413, "the body exceeds the size limit")


class BodyLimitMiddleware:
    """413 for bodies over the limit, counted as they stream (Content-Length can lie).

    ``larger`` names the paths (full-match regular expressions, e.g. the upload routes) that
    take more than ``max_bytes``, and how much; every other path keeps the small limit."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = [(re.compile(path), limit) for path, limit in (larger or {}).items()]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await self._reject(scope, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        response = problem_response(
            Request(scope),
            413,
            "payload-too-large",
            "Request body too large",
            "the body exceeds the size limit",
        )
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _metrics() -> Response:
    """Prometheus text at exactly ``/metrics`` (a mounted app would answer 307 to ``/metrics/``)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def _kafka_reachable(bootstrap: str, wait_seconds: float = 1.0) -> bool:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, int(port)), wait_seconds
            )
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        return True
    return False


def health_router(settings: ServiceSettings) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @router.get("/readyz", summary="The database and Kafka are reachable")
    async def readyz(request: Request) -> JSONResponse:
        db: Database = request.app.state.db
        checks: dict[str, str] = {}
        try:
            async with db.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 2.0)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["kafka"] = (
            "ok" if await _kafka_reachable(settings.kafka_bootstrap) else "unavailable"
        )
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return router


def create_service_app(
    *,
    settings: ServiceSettings,
    platform: ServicePlatform,
    routers: Sequence[APIRouter],
    handlers: Mapping[str, Handler] | None = None,
    workers: Sequence[WorkerFactory] = (),
    webhooks: Sequence[APIRouter] = (),
    body_limits: Mapping[str, int] | None = None,
    title: str,
    description: str,
) -> FastAPI:
    settings.check_production()
    configure_logging(settings.service_name, settings.log_level)
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    configure_audit_key(audit_key_from_b64(settings.audit_key.get_secret_value()))
    blind_index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    make_context = context_factory(settings, platform, blind_index)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            application_name=f"ctip-{settings.service_name}",
        )
        app.state.db = db
        running: list[Worker] = []
        if settings.run_relay:
            running.append(OutboxRelay(db, platform.outbox, settings))
            # With the relay (in a deployment, the worker): not in every API replica.
            running.append(AuditChainVerifier(db, platform.audit, settings.service_name))
            running.append(
                IdempotencyPurger(
                    db, platform.idempotency.table, settings.idempotency_retention_hours
                )
            )
        if handlers and settings.run_consumers:
            running.append(EventConsumer(db, platform.inbox, settings, handlers, make_context))
        for factory in workers:
            worker = factory(db, make_context)
            if worker is not None:
                running.append(worker)
        tasks = [asyncio.create_task(w.run(), name=type(w).__name__) for w in running]
        app.state.workers = running
        # What the process holds once started (modules, routes, schemas: ~200,000 objects) lives
        # as long as it does: frozen out of the collector's sight, a full collection walks only
        # what requests made since. Without it, one full collection every few national /v1/kpis
        # walked them all: 71 ms of each request on average (bench/README.md, bench.national).
        gc.freeze()
        try:
            yield
        finally:
            for worker in running:
                worker.stop()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=settings.worker_stop_seconds)
                for task in pending:
                    task.cancel()
            await db.dispose()
            gc.unfreeze()  # collectable again: a test process starts and stops many apps

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.platform = platform
    app.state.token_verifier = TokenVerifier(settings)
    app.state.blind_index = blind_index
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "X-Purpose",
                "X-Correlation-ID",
                "Last-Event-ID",  # a browser resuming a notifications stream
            ],
            expose_headers=["X-Correlation-ID"],
        )
    app.add_middleware(BodyLimitMiddleware, larger=body_limits)
    app.add_middleware(ObservabilityMiddleware, service=settings.service_name)
    app.include_router(health_router(settings))
    app.add_api_route("/metrics", _metrics, methods=["GET"], include_in_schema=False)
    for router in routers:
        app.include_router(router, responses=PROBLEM_RESPONSES)
    for documented in webhooks:  # what the service sends, in the OpenAPI `webhooks` section
        app.webhooks.include_router(documented)
    install_openapi(app, routers)
    install_docs(app)
    return app
