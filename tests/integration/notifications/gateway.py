"""A province's SMS or Zalo gateway in a test: a small Starlette app served by uvicorn on a free
127.0.0.1 port, in the test's event loop. It verifies every request with the ``standardwebhooks``
reference library (401 if none of its secrets does), answers from a script per province (e.g.
``[503]`` then 200, or ``[410]``), and records what it saw."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testkit.mailserver import free_port


@dataclass
class Hit:
    province: str
    webhook_id: str
    body: bytes
    verified: bool
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Gateway:
    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    def url(self, province: str) -> str:
        return f"http://127.0.0.1:{self.port}/sms/{province}"

    async def _hook(self, request: Request) -> Response:
        province = request.path_params["province"]
        body = await request.body()
        verified = False
        secret = self.secrets.get(province)
        if secret is not None:
            try:
                Webhook(secret).verify(body, dict(request.headers))
                verified = True
            except WebhookVerificationError:
                verified = False
        script = self.scripts.setdefault(province, [])
        status = (script.pop(0) if script else 200) if verified else 401
        self.hits.append(
            Hit(province, request.headers.get("webhook-id", ""), body, verified, status)
        )
        return Response(status_code=status)

    def of(self, province: str) -> list[Hit]:
        return [h for h in self.hits if h.province == province]

    async def start(self) -> None:
        app = Starlette(routes=[Route("/sms/{province}", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
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
