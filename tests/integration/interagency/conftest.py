"""Fixtures of interagency's integration tests: the app with a compressed retry schedule, a real
HTTP receiver acting as partner provinces, tokens by role, and registered partners."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.interagency.app import create_app
from services.interagency.settings import InteragencySettings
from tests.integration.interagency.support import Receiver, forget_partner, fresh_partner_code
from tests.support import bearer, running

COMPRESSED = [0.2, 0.5, 1.0]
CIRCUIT_OPEN = 1.0  # then 2, 4, at most 4 s
CIRCUIT_MAX_OPEN = 4.0


@pytest.fixture(scope="session")
def ia_settings(settings_for: Callable[..., Any]) -> InteragencySettings:
    settings: InteragencySettings = settings_for(
        InteragencySettings,
        retry_schedule_seconds=COMPRESSED,
        retry_jitter=0.1,
        delivery_poll_seconds=0.1,
        delivery_timeout_seconds=3.0,
        delivery_lease_seconds=10.0,
        circuit_open_seconds=CIRCUIT_OPEN,
        circuit_max_open_seconds=CIRCUIT_MAX_OPEN,
        circuit_gauge_seconds=0.2,
        run_consumers=False,
    )
    return settings


@pytest.fixture
async def interagency(ia_settings: InteragencySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The interagency API in-process with its relay and delivery worker (no Kafka consumer)."""
    async with running(create_app(ia_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def admin(ia_settings: InteragencySettings) -> dict[str, str]:
    return bearer(ia_settings, "admin")


@pytest.fixture(scope="session")
def officer(ia_settings: InteragencySettings) -> dict[str, str]:
    """An intake officer of Hà Nội (province 01)."""
    return bearer(ia_settings, "intake_officer", "01")


@pytest.fixture(scope="session")
def auth(ia_settings: InteragencySettings) -> Callable[..., dict[str, str]]:
    def build(role: str, *jurisdiction: str) -> dict[str, str]:
        return bearer(ia_settings, role, *jurisdiction)

    return build


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    partner = Receiver()
    await partner.start()
    yield partner
    await partner.stop()


@dataclass
class PartnerHandle:
    code: str
    outbound_secret: str
    inbound_secret: str
    record: dict[str, Any]


Register = Callable[..., Awaitable[PartnerHandle]]


@pytest.fixture
async def register(
    interagency: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    db: AsyncEngine,
) -> AsyncIterator[Register]:
    """``await register(alert_types=[...])``: a partner of a fresh province at the receiver.
    Partners and what they exchanged are removed when the test ends, freeing the code."""
    codes: list[str] = []

    async def build(**fields: Any) -> PartnerHandle:
        code = fields.pop("code", None) or fresh_partner_code()
        body = {
            "code": code,
            "name": f"Synthetic partner {code}",
            "webhook_url": receiver.url(code),
            "border_countries": ["CN"],
            **fields,
        }
        response = await interagency.post("/v1/partners", json=body, headers=admin)
        assert response.status_code == 201, response.text
        created = response.json()
        receiver.secrets[code] = [created["outbound_secret"]]
        codes.append(code)
        return PartnerHandle(code, created["outbound_secret"], created["inbound_secret"], created)

    yield build
    for code in codes:
        await forget_partner(db, code)
