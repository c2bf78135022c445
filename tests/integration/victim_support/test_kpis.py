"""The plan's victim figures over a controlled data set in a ward only this module uses: verified,
identified within the 3-day deadline (Art. 27), protected, supported when in need, overdue, by
status and hotspots, each with numerator and denominator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.victim_support.support import (
    KPI_WARD,
    OTHER_PROVINCE,
    OTHER_PROVINCE_WARD,
    TODAY,
    backdate,
    identify,
    ngo,
    protect,
    receive,
    supervisor,
    support,
    worker,
)
from tests.support import fresh_ward

pytestmark = pytest.mark.integration
WARD = KPI_WARD


@pytest.fixture(scope="module")
def data_set() -> dict[str, Any]:
    """Filled once by the first test that needs it (the app fixture is per test)."""
    return {}


async def ensure_data_set(
    client: httpx.AsyncClient, db: AsyncEngine, made: dict[str, Any]
) -> dict[str, Any]:
    """Five people received in WARD:

    * ``protected_supported``: identified in time, protected, needs medical, supported;
    * ``late``: identified 5 days after reception (after the deadline), needs schooling, no support;
    * ``not_a_victim``: decided in time;
    * ``overdue``: still presumed 4 days after reception;
    * ``fresh``: still presumed, within the 3 days.
    """
    if made:
        return made
    protected_supported = (await receive(client, WARD, needs=["medical"]))["id"]
    await identify(client, protected_supported)
    await protect(client, protected_supported)
    assert (await support(client, protected_supported, "medical")).status_code == 201
    late = (await receive(client, WARD, source="repatriated", needs=["schooling"]))["id"]
    await backdate(db, late, days=5)
    await identify(client, late)
    not_a_victim = (await receive(client, WARD, source="self_report"))["id"]
    await identify(client, not_a_victim, "not_a_victim")
    overdue = (await receive(client, WARD))["id"]
    await backdate(db, overdue, days=4)
    fresh = (await receive(client, WARD))["id"]
    made.update(
        protected_supported=protected_supported,
        late=late,
        not_a_victim=not_a_victim,
        overdue=overdue,
        fresh=fresh,
    )
    return made


async def kpis(
    client: httpx.AsyncClient,
    db: AsyncEngine,
    made: dict[str, Any],
    query: str = "",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    await ensure_data_set(client, db, made)
    response = await client.get(
        f"/v1/kpis?ward_code={WARD}{query}", headers=headers or supervisor()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figure(body: dict[str, Any], name: str) -> tuple[int, int]:
    return body[name]["numerator"], body[name]["denominator"]


async def test_received_counts_everyone_received_in_the_ward(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    body = await kpis(victim_support, db, data_set)
    assert body["received"] == 5
    assert body["ward_code"] == WARD


async def test_verified_ratio_is_decisions_over_receptions(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    body = await kpis(victim_support, db, data_set)
    assert figure(body, "verified_ratio") == (3, 5)
    assert body["verified_ratio"]["value"] == 0.6


async def test_identified_within_deadline_counts_late_decisions_and_overdue_files_against_it(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    body = await kpis(victim_support, db, data_set)
    assert figure(body, "identified_within_deadline_ratio") == (2, 4)


async def test_protected_ratio_is_protected_over_identified(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    body = await kpis(victim_support, db, data_set)
    assert figure(body, "protected_ratio") == (1, 2)


async def test_supported_ratio_is_supported_over_identified_people_with_needs(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    body = await kpis(victim_support, db, data_set)
    assert figure(body, "supported_ratio") == (1, 2)


async def test_overdue_counts_presumed_victims_past_the_three_days(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    assert (await kpis(victim_support, db, data_set))["overdue"] == 1


async def test_by_status_counts_every_status(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    body = await kpis(victim_support, db, data_set)
    assert body["by_status"] == {
        "supported": 1,
        "identified": 1,
        "not_a_victim": 1,
        "under_verification": 2,
    }


async def test_hotspots_count_receptions_by_ward_and_source(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    hotspots = (await kpis(victim_support, db, data_set))["hotspots"]
    assert hotspots["by_ward"] == [{"ward_code": WARD, "victims_received": 5}]
    assert hotspots["by_source"] == {"rescued": 3, "repatriated": 1, "self_report": 1}


async def test_a_period_counts_only_people_received_in_it(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    since = (TODAY - timedelta(days=1)).isoformat()
    body = await kpis(victim_support, db, data_set, f"&from={since}")
    assert body["received"] == 3
    assert figure(body, "verified_ratio") == (2, 3)
    assert body["overdue"] == 0


async def test_a_social_worker_sees_the_same_figures(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    as_supervisor = await kpis(victim_support, db, data_set)
    as_worker = await kpis(victim_support, db, data_set, headers=worker())
    assert as_worker == as_supervisor


async def test_every_ratio_carries_numerator_and_denominator(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    body = await kpis(victim_support, db, data_set)
    for name in (
        "verified_ratio",
        "identified_within_deadline_ratio",
        "protected_ratio",
        "supported_ratio",
    ):
        assert set(body[name]) == {"value", "numerator", "denominator"}


async def test_a_ward_nobody_used_has_no_values(victim_support: httpx.AsyncClient) -> None:
    response = await victim_support.get(f"/v1/kpis?ward_code={fresh_ward()}", headers=supervisor())
    body = response.json()
    assert body["received"] == 0
    assert body["verified_ratio"] == {"value": None, "numerator": 0, "denominator": 0}


async def test_a_ward_outside_the_jurisdiction_is_forbidden(
    victim_support: httpx.AsyncClient,
) -> None:
    response = await victim_support.get(
        f"/v1/kpis?ward_code={OTHER_PROVINCE_WARD}", headers=supervisor()
    )
    assert response.status_code == 403


async def test_a_supervisor_of_another_province_does_not_count_the_ward(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    await ensure_data_set(victim_support, db, data_set)
    response = await victim_support.get("/v1/kpis", headers=supervisor(OTHER_PROVINCE))
    wards = [w["ward_code"] for w in response.json()["hotspots"]["by_ward"]]
    assert WARD not in wards


async def test_a_national_supervisor_reads_one_province_with_province_code(
    victim_support: httpx.AsyncClient, db: AsyncEngine, data_set: dict[str, Any]
) -> None:
    """What the plan report of one province asks: the figures its own supervisor sees."""
    await ensure_data_set(victim_support, db, data_set)
    national = supervisor("01", OTHER_PROVINCE)
    hanoi = await victim_support.get("/v1/kpis?province_code=01", headers=national)
    alone = await victim_support.get("/v1/kpis", headers=supervisor("01"))
    assert hanoi.status_code == 200, hanoi.text
    assert hanoi.json()["received"] == alone.json()["received"]
    assert hanoi.json()["hotspots"] == alone.json()["hotspots"]
    other = await victim_support.get(f"/v1/kpis?province_code={OTHER_PROVINCE}", headers=national)
    assert WARD not in [w["ward_code"] for w in other.json()["hotspots"]["by_ward"]]
    refused = await victim_support.get(
        "/v1/kpis?province_code=01", headers=supervisor(OTHER_PROVINCE)
    )
    assert refused.status_code == 403


async def test_an_ngo_cannot_read_the_figures(victim_support: httpx.AsyncClient) -> None:
    response = await victim_support.get(f"/v1/kpis?ward_code={WARD}", headers=ngo("ngo-hoa-sen"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "query", ["ward_code=1", "ward_code=abcde", "from=yesterday", "to=2026-02-30"]
)
async def test_a_bad_query_is_refused(victim_support: httpx.AsyncClient, query: str) -> None:
    response = await victim_support.get(f"/v1/kpis?{query}", headers=supervisor())
    assert response.status_code == 422
