"""Interagency's figures summed from the daily rollups equal a recount of the alerts and their
deliveries: bulletins sent to one or two partners and partners' alerts received, backdated over
months (the deliveries follow their alert's new day), deliveries moved to every status, read
through ``GET /v1/kpis`` with the rollups and from an app that counts the rows again, for periods
whose edges fall inside months and on their first days; before and after the fold."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.interagency.app import create_app
from services.interagency.models import ROLLUPS
from services.interagency.settings import InteragencySettings
from testkit.interagency import partner_event, person_found, post_signed
from tests.integration.interagency.conftest import PartnerHandle, Register
from tests.integration.rollup_support import assert_equal_to_a_recount, fold, periods
from tests.support import eventually, running

pytestmark = pytest.mark.integration

DOC = {"title": "Circular on victim reception", "url": "https://example.org/c.pdf"}


@pytest.fixture
async def recount(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Interagency counting its figures over the rows on every request, as before rollups."""
    settings = settings_for(
        InteragencySettings,
        kpi_rollups=False,
        run_relay=False,
        run_consumers=False,
        run_delivery_worker=False,
    )
    async with running(create_app(settings)) as client:
        yield client


async def bulletin(
    client: httpx.AsyncClient, headers: dict[str, str], codes: list[str], n: int
) -> str:
    response = await client.post(
        "/v1/bulletins",
        json={
            "title": f"Situation {n}",
            "summary": "Brokers recruit on social media for restaurant work across the border.",
            "period": "2026-Q3",
            "documents": [{**DOC, "sha256": f"{n:064x}"}],
            "partner_codes": codes,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def received(client: httpx.AsyncClient, partner: PartnerHandle, n: int) -> str:
    body = partner_event(partner.code, person_found(full_name=f"Synthetic Person {n}"))
    response = await post_signed(client, partner.code, partner.inbound_secret, body)
    assert response.status_code == 202, response.text
    return str(response.json()["alert_id"])


async def settled(db: AsyncEngine, alert_id: str) -> bool:
    """Whether the sender has finished with the alert's deliveries (the receiver answers 2xx)."""
    async with db.connect() as conn:
        due = await conn.scalar(
            text(
                "SELECT count(*) FROM interagency.deliveries"
                " WHERE alert_id = :id AND status = 'pending'"
            ),
            {"id": alert_id},
        )
    return due == 0


async def random_alerts(
    client: httpx.AsyncClient,
    officer: dict[str, str],
    partners: list[PartnerHandle],
    db: AsyncEngine,
    rng: random.Random,
) -> None:
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(14):
        if n == 13 or rng.random() < 0.6:  # the last one after the last fold
            codes = [p.code for p in rng.sample(partners, rng.randint(1, 2))]
            alert_id = await bulletin(client, officer, codes, n)
            await eventually(lambda alert_id=alert_id: settled(db, alert_id))  # type: ignore[misc]
            # a delivery the partner refused for good, or one waiting for its next attempt
            status = rng.choice(["delivered", "failed", "pending"])
            async with db.begin() as conn:
                await conn.execute(
                    text(
                        "UPDATE interagency.deliveries SET status = :s,"
                        " next_attempt_at = now() + interval '1 day'"
                        " WHERE alert_id = :id AND partner_code = :c"
                    ),
                    {"s": status, "id": alert_id, "c": codes[0]},
                )
        else:
            alert_id = await received(client, rng.choice(partners), n)
        created = midnight - timedelta(days=rng.randint(0, 120), hours=rng.randint(-12, 12))
        async with db.begin() as conn:
            await conn.execute(
                text("UPDATE interagency.alerts SET created_at = :at WHERE id = :id"),
                {"at": created, "id": alert_id},
            )
        if n % 5 == 2:  # the last alerts stay pending
            await fold(db, ROLLUPS)


@pytest.mark.parametrize("seed", [7, 2026])
async def test_rolled_up_figures_equal_a_recount(
    interagency: httpx.AsyncClient,
    recount: httpx.AsyncClient,
    officer: dict[str, str],
    auth: Callable[..., dict[str, str]],
    register: Register,
    db: AsyncEngine,
    seed: int,
) -> None:
    rng = random.Random(seed)
    partners = [await register(), await register()]
    await random_alerts(interagency, officer, partners, db, rng)
    async with db.connect() as conn:
        pending = [
            await conn.scalar(text(f"SELECT count(*) FROM {r.qualified} WHERE NOT folded"))
            for r in ROLLUPS
        ]
    today = datetime.now(UTC).date()
    callers = {"hanoi": auth("supervisor", "01")}
    await assert_equal_to_a_recount(interagency, recount, callers, periods(today, rng), db, ROLLUPS)
    assert all(pending), "the figures were read from pending rows too, before the fold"
    figures = (await interagency.get("/v1/kpis", headers=callers["hanoi"])).json()
    for partner in partners:
        assert (
            partner.code in figures["sent_by_partner"]
            or partner.code in (figures["received_by_partner"])
        )
    async with db.connect() as conn:
        for rollup in ROLLUPS:
            assert await rollup.check(conn) == [], rollup.name


async def test_the_check_finds_a_wrong_delivery_row(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    register: Register,
    db: AsyncEngine,
) -> None:
    partner = await register()
    alert_id = await bulletin(interagency, officer, [partner.code], 99)
    await eventually(lambda: settled(db, alert_id))
    await fold(db, ROLLUPS)
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE interagency.delivery_rollup SET deliveries = 5"
                " WHERE partner_code = :c AND grain = 'd'"
            ),
            {"c": partner.code},
        )
    async with db.connect() as conn:
        wrong = await ROLLUPS[1].check(conn)
    assert {(r["grain"], r["side"], r["partner_code"], r["deliveries"]) for r in wrong} == {
        ("d", "recount", partner.code, 1),
        ("d", "rollup", partner.code, 5),
    }
    async with db.begin() as conn:
        await ROLLUPS[1].backfill(conn)
    async with db.connect() as conn:
        assert await ROLLUPS[1].check(conn) == []
