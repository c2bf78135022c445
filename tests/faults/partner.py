"""A partner province's webhook endpoint that can be taken down: it answers 503, or stops
listening altogether, and comes back. Every request is verified with the ``standardwebhooks``
reference library and recorded, so that deliveries can be counted by ``webhook-id``."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.interagency.support import free_port


@dataclass
class Hit:
    webhook_id: str
    missing_person_id: str | None
    status: int


@dataclass
class FlakyPartner:
    port: int = field(default_factory=free_port)
    secret: str | None = None
    answer: int = 200
    hits: list[Hit] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        status = self.answer
        try:
            assert self.secret is not None
            Webhook(self.secret).verify(body, dict(request.headers))
        except (AssertionError, WebhookVerificationError):
            status = 401
        data = json.loads(body).get("data", {}) if body else {}
        self.hits.append(
            Hit(request.headers.get("webhook-id", ""), data.get("missing_person_id"), status)
        )
        return Response(status_code=status)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
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

    def delivered(self) -> dict[str, set[str]]:
        """missing_person_id -> the webhook-ids answered 2xx."""
        out: dict[str, set[str]] = defaultdict(set)
        for hit in self.hits:
            if 200 <= hit.status < 300 and hit.missing_person_id:
                out[hit.missing_person_id].add(hit.webhook_id)
        return out

    def redelivered(self) -> int:
        """Deliveries answered 2xx more than once under the same webhook-id (at-least-once)."""
        seen: dict[str, int] = defaultdict(int)
        for hit in self.hits:
            if 200 <= hit.status < 300:
                seen[hit.webhook_id] += 1
        return sum(n - 1 for n in seen.values() if n > 1)
