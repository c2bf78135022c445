"""The webhook channel against a real HTTP receiver (a province's gateway) that verifies every
request with the Standard Webhooks reference library: retried to one delivery under one
webhook-id, 410 disabling the gateway, failed deliveries replayed, quiet hours held, and the
administrator's route that sets a gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.directory import SeededDirectory
from libs.common.jurisdiction import is_province_code
from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from tests.integration.notifications.channels import (
    channel_settings,
    deliveries_of,
    local_time,
    notify,
    officer,
    prefer,
)
from tests.integration.notifications.gateway import Gateway
from tests.support import bearer, eventually, running, scraped

pytestmark = pytest.mark.integration

# Provinces of these tests' own gateways, from the end of the list (other tests use 01).
_provinces = [c for c in (f"{n:02d}" for n in range(99, 1, -1)) if is_province_code(c)]


@pytest.fixture(scope="module")
def webhook_settings(settings_for: Callable[..., Any]) -> NotificationsSettings:
    settings: NotificationsSettings = settings_for(NotificationsSettings, **channel_settings(None))
    return settings


@pytest.fixture(scope="module")
async def channels(
    webhook_settings: NotificationsSettings, directory: SeededDirectory
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(webhook_settings, directory)) as client:
        yield client


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[Gateway]:
    receiver = Gateway()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="module")
def admin(webhook_settings: NotificationsSettings) -> dict[str, str]:
    return bearer(webhook_settings, "admin")


@pytest.fixture
async def province(channels: httpx.AsyncClient, gateway: Gateway, admin: dict[str, str]) -> str:
    """A province whose gateway is the test's receiver, with the secret our answer gave."""
    code = _provinces.pop(0)
    response = await channels.put(
        f"/v1/notification-endpoints/{code}", json={"url": gateway.url(code)}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["secret"].startswith("whsec_")
    gateway.secrets[code] = response.json()["secret"]
    return code


async def subscriber(directory: SeededDirectory, db: AsyncEngine) -> str:
    person = officer(directory)
    await prefer(db, person.sub, ["inbox", "webhook"])
    return person.sub


def status_is(db: AsyncEngine, sub: str, status: str) -> Callable[[], Awaitable[Any]]:
    async def probe() -> dict[str, Any] | None:
        rows = await deliveries_of(db, sub)
        return rows[0] if rows and rows[0]["status"] == status else None

    return probe


async def test_a_gateway_answering_503_gets_the_notification_once_signed(
    channels: httpx.AsyncClient,
    gateway: Gateway,
    province: str,
    directory: SeededDirectory,
    db: AsyncEngine,
) -> None:
    sub = await subscriber(directory, db)
    gateway.scripts[province] = [503]
    metric = "ctip_notification_deliveries_total"
    retried = await scraped(channels, metric, channel="webhook", outcome="retry")
    sent = await scraped(channels, metric, channel="webhook", outcome="sent")
    (notification,) = await notify(db, sub, province_code=province, ward_code=None)
    delivery = await eventually(status_is(db, sub, "sent"))
    await asyncio.sleep(0.5)

    first, second = gateway.of(province)
    assert (first.answered, second.answered) == (503, 200)
    assert first.verified and second.verified
    assert first.webhook_id == second.webhook_id == str(delivery["id"])
    assert first.body == second.body
    event = second.event
    assert event["type"] == "vn.ctip.notifications.notification.v1"
    assert event["id"] == str(notification)
    assert event["data"]["recipient"] == sub
    assert event["data"]["kind"] == "deadline.approaching"
    assert event["data"]["province_code"] == province
    assert event["data"]["link"].startswith("/intake/v1/tips/")
    assert delivery["attempts"] == 2 and delivery["last_code"] == 200
    assert await scraped(channels, metric, channel="webhook", outcome="retry") == retried + 1
    assert await scraped(channels, metric, channel="webhook", outcome="sent") == sent + 1


async def test_410_disables_the_gateway_and_the_failed_delivery_is_replayed_once_set_again(
    channels: httpx.AsyncClient,
    gateway: Gateway,
    province: str,
    directory: SeededDirectory,
    db: AsyncEngine,
    admin: dict[str, str],
) -> None:
    sub = await subscriber(directory, db)
    gateway.scripts[province] = [410]
    await notify(db, sub, province_code=province)
    failed = await eventually(status_is(db, sub, "failed"))
    assert failed["attempts"] == 1 and failed["last_code"] == 410

    endpoints = (await channels.get("/v1/notification-endpoints", headers=admin)).json()
    (endpoint,) = [e for e in endpoints if e["province_code"] == province]
    assert endpoint["enabled"] is False and "410" in endpoint["disabled_reason"]
    assert endpoint["secret"] is None
    replay = f"/v1/notification-deliveries/{failed['id']}/replay"
    refused = await channels.post(replay, headers=admin)
    assert refused.status_code == 409 and "disabled" in refused.json()["detail"]

    again = await channels.put(
        f"/v1/notification-endpoints/{province}", json={"url": gateway.url(province)}, headers=admin
    )
    assert again.status_code == 200 and again.json()["secret"] is None  # the secret is kept
    assert (await channels.post(replay, headers=admin)).status_code == 200
    await eventually(status_is(db, sub, "sent"))
    gone, delivered = gateway.of(province)
    assert (gone.answered, delivered.answered) == (410, 200)
    assert gone.webhook_id == delivered.webhook_id == str(failed["id"])


async def test_a_disabled_gateway_holds_its_deliveries_until_enabled(
    channels: httpx.AsyncClient,
    gateway: Gateway,
    province: str,
    directory: SeededDirectory,
    db: AsyncEngine,
    admin: dict[str, str],
) -> None:
    sub = await subscriber(directory, db)
    url = gateway.url(province)
    off = await channels.put(
        f"/v1/notification-endpoints/{province}", json={"url": url, "enabled": False}, headers=admin
    )
    assert off.status_code == 200 and off.json()["enabled"] is False
    await notify(db, sub, province_code=province, count=2)

    async def planned() -> bool:
        return len(await deliveries_of(db, sub)) == 2

    await eventually(planned)
    await asyncio.sleep(1)
    assert gateway.of(province) == []
    assert all(
        d["status"] == "pending" and d["attempts"] == 0 for d in await deliveries_of(db, sub)
    )

    on = await channels.put(
        f"/v1/notification-endpoints/{province}", json={"url": url}, headers=admin
    )
    assert on.status_code == 200

    async def both_sent() -> bool:
        return all(d["status"] == "sent" for d in await deliveries_of(db, sub))

    await eventually(both_sent)
    assert len(gateway.of(province)) == 2


async def test_quiet_hours_hold_the_webhook_until_they_end(
    channels: httpx.AsyncClient,
    gateway: Gateway,
    province: str,
    directory: SeededDirectory,
    db: AsyncEngine,
) -> None:
    person = officer(directory)
    now = datetime.now(UTC)
    ends = now.replace(microsecond=0) + timedelta(seconds=4)
    quiet = (local_time(now - timedelta(hours=2)), local_time(ends))
    await prefer(db, person.sub, ["inbox", "webhook"], quiet=quiet)
    await notify(db, person.sub, province_code=province)
    await asyncio.sleep(2)
    assert gateway.of(province) == []
    await eventually(status_is(db, person.sub, "sent"))
    assert datetime.now(UTC) >= ends
    assert len(gateway.of(province)) == 1


async def test_no_gateway_no_webhook(
    channels: httpx.AsyncClient, gateway: Gateway, directory: SeededDirectory, db: AsyncEngine
) -> None:
    sub = await subscriber(directory, db)
    unset = _provinces.pop(0)
    await notify(db, sub, province_code=unset)
    await asyncio.sleep(1)
    assert await deliveries_of(db, sub) == []


@pytest.mark.parametrize(
    ("code", "body", "field"),
    [
        ("00", {"url": "https://sms.example/hook"}, "province_code"),
        ("01", {"url": "ftp://sms.example/hook"}, "url"),
        ("01", {"url": "https://u:p@sms.example/hook"}, "url"),
        ("01", {"url": "https://sms.example/hook", "secret": "whsec_c2hvcnQ="}, "secret"),
        ("01", {"url": "https://sms.example/hook", "colour": "red"}, "colour"),
    ],
)
async def test_a_gateway_must_be_a_province_an_acceptable_url_and_a_real_secret(
    channels: httpx.AsyncClient, admin: dict[str, str], code: str, body: dict[str, Any], field: str
) -> None:
    response = await channels.put(f"/v1/notification-endpoints/{code}", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert any(field in e["field"] for e in response.json()["errors"])


async def test_only_an_administrator_sets_gateways_or_sees_deliveries(
    channels: httpx.AsyncClient, webhook_settings: NotificationsSettings
) -> None:
    supervisor = bearer(webhook_settings, "supervisor", "01")
    put = await channels.put(
        "/v1/notification-endpoints/01", json={"url": "https://sms.example"}, headers=supervisor
    )
    assert put.status_code == 403
    listed = await channels.get("/v1/notification-deliveries", headers=supervisor)
    assert listed.status_code == 403
    assert (await channels.get("/v1/notification-deliveries")).status_code == 401
