"""Fault injection on a stack of the suite's own (see ``stack.py``): other ports, other data,
started here and stopped at the end. The services under test:

* intake, victim_support and interagency as real HTTP servers in this process (with their
  relays, consumers and the webhook sender), on the fault stack;
* casework as ``uv run ctip worker casework``, a process of its own that a test may SIGKILL;
* a partner province (``FlakyPartner``) that a test may take down.

Run with ``uv run pytest -q tests/faults -m faults``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.common.auth import issue_dev_token
from libs.common.migrations import migrate, services_with_migrations
from libs.common.settings import ServiceSettings
from tests.e2e.conftest import Served, _listening_socket
from tests.faults.partner import FlakyPartner
from tests.faults.stack import FaultStack, Worker

PARTNER = "20"
RETRIES = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0]  # ~47 s: outlives a 30 s outage


REPORTS: list[dict[str, Any]] = []
"""One line per fault: what was sent, acknowledged, counted downstream, dead-lettered."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORTS:
        terminalreporter.section("fault injection: counts after recovery")
        for report in REPORTS:
            terminalreporter.write_line(json.dumps(report, ensure_ascii=False))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only with ``-m faults``: a plain ``pytest`` (``make test``) does not start a second stack
    and spend minutes killing it."""
    if "faults" in (config.getoption("markexpr") or ""):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="fault injection runs with -m faults (make test-faults)")
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(skip)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: kills and restarts parts of a stack of its own (tests/faults)"
    )


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[FaultStack]:
    stack = FaultStack.create()
    try:
        stack.up()
        for service in services_with_migrations():
            migrate(service, stack.owner_database_url, stack.database_url)
        yield stack
    finally:
        try:
            stack.down()
        finally:
            stack.remove()


@dataclass
class System:
    stack: FaultStack
    prefix: str
    served: dict[str, Served]
    casework: Worker
    partner: FlakyPartner
    engine: AsyncEngine
    officer: dict[str, str]

    @property
    def intake_url(self) -> str:
        return self.served["intake"].url


def _settings(cls: type[ServiceSettings], stack: FaultStack, prefix: str, **extra: Any) -> Any:
    return cls(
        database_url=stack.database_url,
        kafka_bootstrap=stack.kafka_bootstrap,
        topic_prefix=prefix,
        environment="test",
        log_level="ERROR",
        relay_poll_seconds=0.5,
        **extra,
    )


@pytest.fixture(scope="session")
async def system(fault_stack: FaultStack) -> AsyncIterator[System]:
    from services.intake.app import create_app as intake_app
    from services.intake.settings import IntakeSettings
    from services.interagency.app import create_app as interagency_app
    from services.interagency.settings import InteragencySettings
    from services.victim_support.app import create_app as victim_support_app
    from services.victim_support.settings import VictimSupportSettings

    prefix = f"f{uuid.uuid4().hex[:10]}."
    apps = {
        "intake": intake_app(_settings(IntakeSettings, fault_stack, prefix)),
        "victim_support": victim_support_app(_settings(VictimSupportSettings, fault_stack, prefix)),
        "interagency": interagency_app(
            _settings(
                InteragencySettings,
                fault_stack,
                prefix,
                retry_schedule_seconds=RETRIES,
                retry_jitter=0.1,
                delivery_poll_seconds=0.2,
                delivery_timeout_seconds=2.0,
                delivery_lease_seconds=10.0,
            )
        ),
    }
    served = {name: Served(name, app, _listening_socket()) for name, app in apps.items()}
    casework = Worker("casework", fault_stack, prefix)
    partner = FlakyPartner()
    engine = create_async_engine(fault_stack.database_url, pool_pre_ping=True)
    settings = ServiceSettings()
    officer = issue_dev_token(settings, roles=["intake_officer"], jurisdiction=["01"])
    admin = issue_dev_token(settings, roles=["admin"], jurisdiction=[])
    try:
        await asyncio.gather(*(s.start() for s in served.values()))
        await partner.start()
        casework.start()
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{served['interagency'].url}/v1/partners",
                json={
                    "code": PARTNER,
                    "name": "Lạng Sơn (fault suite)",
                    "webhook_url": partner.url,
                    "alert_types": ["missing_person"],
                    "border_countries": ["CN"],
                },
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert response.status_code == 201, response.text
            partner.secret = response.json()["outbound_secret"]
        yield System(
            fault_stack,
            prefix,
            served,
            casework,
            partner,
            engine,
            {"Authorization": f"Bearer {officer}"},
        )
    finally:
        casework.stop()
        await partner.stop()
        for s in served.values():
            await s.stop()
        await engine.dispose()
