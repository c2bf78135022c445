"""End-to-end fixtures: the services with figures as real HTTP servers on free loopback ports,
on this session's own database and Kafka topics (the integration fixtures, reused), and Debian's
Chromium for Playwright (never a browser downloaded by a test tool).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.integration.conftest import *  # noqa: F403  (stack, database_url, topic_prefix, settings_for)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ENSURE_CHROMIUM = ROOT / "deploy/local/ensure-chromium.sh"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: drives the real services over HTTP in a headless browser"
    )


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed by ``deploy/local/ensure-chromium.sh`` when missing."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None:
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium ({ENSURE_CHROMIUM})")
        done = subprocess.run(
            [str(ENSURE_CHROMIUM)], capture_output=True, text=True, timeout=900, check=False
        )
        if done.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(
                f"could not install chromium; run {ENSURE_CHROMIUM} by hand:\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    return CHROMIUM


@dataclass
class Served:
    """One service listening on a loopback port, in this test session's event loop."""

    name: str
    app: FastAPI
    sock: socket.socket
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        if self.sock.fileno() == -1:  # stopped before: listen again on the same port
            self.sock = _listening_socket(self.port)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name=self.name)
        async with httpx.AsyncClient(timeout=3) as client:
            for _ in range(240):
                if self.task.done():
                    self.task.result()
                    pytest.fail(f"{self.name} stopped while starting")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.25)
        pytest.fail(f"{self.name} did not become ready at {self.url}")

    async def stop(self) -> None:
        if self.server is None or self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=30)
        self.server = None
        self.task = None
        self.sock.close()


def _listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@pytest.fixture(scope="session")
async def services(settings_for: Callable[..., Any]) -> AsyncIterator[dict[str, Served]]:
    """intake, casework, victim_support and outreach, each a real uvicorn server; outreach
    knows where the others are, and every one of them lets outreach's origin call it (CORS)."""
    from services.casework.app import create_app as casework_app
    from services.casework.settings import CaseworkSettings
    from services.intake.app import create_app as intake_app
    from services.intake.settings import IntakeSettings
    from services.outreach.app import create_app as outreach_app
    from services.outreach.settings import OutreachSettings
    from services.victim_support.app import create_app as victim_support_app
    from services.victim_support.settings import VictimSupportSettings

    sockets = {name: _listening_socket() for name in SERVICES}
    url = {name: f"http://127.0.0.1:{s.getsockname()[1]}" for name, s in sockets.items()}
    cors = {"cors_origins": [url["outreach"]]}
    apps = {
        "intake": intake_app(settings_for(IntakeSettings, **cors)),
        "casework": casework_app(settings_for(CaseworkSettings, intake_url=url["intake"], **cors)),
        "victim_support": victim_support_app(settings_for(VictimSupportSettings, **cors)),
        "outreach": outreach_app(
            settings_for(
                OutreachSettings,
                intake_url=url["intake"],
                casework_url=url["casework"],
                victim_support_url=url["victim_support"],
                interagency_url="http://127.0.0.1:9",
                report_timeout_seconds=5.0,
                **cors,
            )
        ),
    }
    running = {name: Served(name, apps[name], sockets[name]) for name in SERVICES}
    try:
        await asyncio.gather(*(s.start() for s in running.values()))
        yield running
    finally:
        for served in running.values():
            await served.stop()
        for sock in sockets.values():
            sock.close()


SERVICES = ("intake", "casework", "victim_support", "outreach")
