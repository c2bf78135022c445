"""A partner province in a test: a real HTTP receiver, and helpers that sign like a partner.

The receiver is a small Starlette app served by uvicorn on a free 127.0.0.1 port, in the test's
event loop. It verifies every request with the ``standardwebhooks`` reference library, answers
from a script per partner (e.g. ``[503, 503]`` then 200), and records everything it saw.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.jurisdiction import is_province_code

# Hà Nội (01) is where our own synthetic reports are; partners are other provinces.
_free_codes = [c for c in (f"{n:02d}" for n in range(2, 100)) if is_province_code(c)]


def fresh_partner_code() -> str:
    """A province code no running test uses. There are only 33, so a test hands its code back
    with :func:`forget_partner` when it ends."""
    return _free_codes.pop(0)


async def forget_partner(db: AsyncEngine, code: str) -> None:
    """Remove a test's partner and everything exchanged with it, and free its code."""
    statements = [
        "DELETE FROM interagency.matches WHERE partner_code = :c",
        "DELETE FROM interagency.delivery_attempts WHERE delivery_id IN"
        " (SELECT id FROM interagency.deliveries WHERE partner_code = :c)",
        "DELETE FROM interagency.deliveries WHERE partner_code = :c",
        "DELETE FROM interagency.alerts WHERE partner_code = :c",
        "DELETE FROM interagency.inbound_receipts WHERE partner_code = :c",
        "DELETE FROM interagency.partners WHERE code = :c",
    ]
    # The app's delivery worker may still be recording an attempt: retry until it has let go.
    for attempt in range(20):
        try:
            async with db.begin() as conn:
                for statement in statements:
                    await conn.execute(text(statement), {"c": code})
            break
        except IntegrityError:
            if attempt == 19:
                raise
            await asyncio.sleep(0.25)
    _free_codes.append(code)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    code: str
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    answered: int
    verified_with: list[str]
    at: float

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Script:
    statuses: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """Partner endpoints at ``/hooks/{code}``; ``secrets[code]`` are the outbound secrets we
    handed to that partner (any of them may verify, as during a rotation)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.secrets: dict[str, list[str]] = {}
        self.scripts: dict[str, Script] = {}
        self.received: list[Received] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(routes=[Route("/hooks/{code}", self._hook, methods=["POST"])])

    def url(self, code: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{code}"

    async def _hook(self, request: Request) -> Response:
        code = request.path_params["code"]
        body = await request.body()
        headers = dict(request.headers)
        verified = []
        for secret in self.secrets.get(code, []):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(secret)
            except WebhookVerificationError:
                pass
        script = self.scripts.setdefault(code, Script())
        status = script.statuses.pop(0) if script.statuses else 200
        if not verified:
            status = 401
        self.received.append(
            Received(
                code=code,
                webhook_id=headers.get("webhook-id", ""),
                timestamp=headers.get("webhook-timestamp", ""),
                signature=headers.get("webhook-signature", ""),
                body=body,
                answered=status,
                verified_with=verified,
                at=time.monotonic(),
            )
        )
        if script.delay:
            await asyncio.sleep(script.delay)
        extra = script.headers if status >= 300 else {}
        return Response(status_code=status, headers=extra)

    def of(self, code: str, *, delivered_only: bool = False) -> list[Received]:
        return [
            r
            for r in self.received
            if r.code == code and (not delivered_only or 200 <= r.answered < 300)
        ]

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None


async def matched(db: AsyncEngine, alert_id: str) -> bool:
    """True once our consumer has handled the ``interagency.alert.received`` event of a partner's
    alert, i.e. matching ran (it runs after the webhook was answered, never in it)."""
    async with db.connect() as conn:
        row = await conn.execute(
            text(
                "SELECT 1 FROM interagency.inbox AS i"
                " JOIN interagency.outbox AS o ON i.event_id = o.id::text"
                " WHERE o.key = :k AND o.type = 'vn.ctip.interagency.alert.received.v1'"
            ),
            {"k": alert_id},
        )
        return row.first() is not None
