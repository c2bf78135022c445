"""Casework's plan figures over a controlled data set: wards that no other
test uses, so that every numerator and denominator is known exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.integration.casework.support import (
    HANOI,
    INVESTIGATOR,
    Auth,
    Casework,
    substantiate_tip,
    the_case_of,
)
from tests.support import eventually, fresh_ward

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def ward(casework: httpx.AsyncClient, auth: Auth, database_url: str) -> AsyncIterator[str]:
    """A ward holding exactly these cases:

    * convicted: initiated, indicted, mobile trial, convicted
    * scheduled: initiated, indicted, model trial (no verdict yet)
    * returned: initiated, indicted, standard trial, returned for investigation (not tried)
    * late: initiated, its investigation deadline set in the past
    * fresh: open only
    """
    cw = Casework(casework, auth)
    code = fresh_ward()
    ids: dict[str, str] = {}
    for name in ("convicted", "scheduled", "returned", "late", "fresh"):
        ids[name] = (await cw.open(code))["id"]
    for name in ("convicted", "scheduled", "returned"):
        suspect = await cw.add_suspect(ids[name])
        await cw.step(ids[name], "initiate")
        await cw.step(ids[name], "indict", party_id=suspect)
        trial = {"convicted": "mobile", "scheduled": "model", "returned": "standard"}[name]
        await cw.step(ids[name], "schedule_trial", trial_type=trial)
        if name == "convicted":
            sentence = {"party_id": suspect, "article": 150, "imprisonment_months": 84}
            await cw.step(ids[name], "record_verdict", outcome="convicted", sentences=[sentence])
        if name == "returned":
            await cw.step(ids[name], "record_verdict", outcome="returned_for_investigation")
    await cw.step(ids["late"], "initiate")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE casework.cases SET stage_due_at = now() - interval '3 days' "
                    "WHERE id = :id"
                ),
                {"id": ids["late"]},
            )
    finally:
        await engine.dispose()
    yield code


async def _kpis(cw: Casework, **params: Any) -> dict[str, Any]:
    response = await cw.client.get("/v1/kpis", params=params, headers=cw.as_("supervisor"))
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def cw(casework: httpx.AsyncClient, auth: Auth) -> Casework:
    return Casework(casework, auth)


async def test_cases_opened_counts_every_case_of_the_ward(cw: Casework, ward: str) -> None:
    assert (await _kpis(cw, ward_code=ward))["cases_opened"] == 5


async def test_indicted_ratio_is_indicted_over_initiated(cw: Casework, ward: str) -> None:
    figure = (await _kpis(cw, ward_code=ward))["indicted_ratio"]
    assert figure == {"value": 0.75, "numerator": 3, "denominator": 4}


async def test_tried_ratio_counts_verdicts_on_the_merits_over_indicted(
    cw: Casework, ward: str
) -> None:
    figure = (await _kpis(cw, ward_code=ward))["tried_ratio"]
    assert figure == {"value": 0.3333, "numerator": 1, "denominator": 3}


async def test_trials_are_counted_by_type(cw: Casework, ward: str) -> None:
    trials = (await _kpis(cw, ward_code=ward))["trials"]
    assert trials == {"standard": 1, "mobile": 1, "model": 1}


async def test_overdue_counts_open_cases_past_their_stage_deadline(cw: Casework, ward: str) -> None:
    assert (await _kpis(cw, ward_code=ward))["overdue"] == 1


async def test_the_overdue_filter_lists_only_the_late_case(cw: Casework, ward: str) -> None:
    late = await cw.client.get(
        "/v1/cases", params={"ward_code": ward, "overdue": "true"}, headers=cw.as_(INVESTIGATOR)
    )
    assert [c["overdue"] for c in late.json()["items"]] == [True]


async def test_the_not_overdue_filter_lists_every_other_case(cw: Casework, ward: str) -> None:
    on_time = await cw.client.get(
        "/v1/cases", params={"ward_code": ward, "overdue": "false"}, headers=cw.as_(INVESTIGATOR)
    )
    assert [c["overdue"] for c in on_time.json()["items"]] == [False] * 4


async def test_a_period_before_the_data_counts_nothing(cw: Casework, ward: str) -> None:
    figures = await _kpis(cw, ward_code=ward, **{"from": "2000-01-01", "to": "2000-12-31"})
    assert figures["cases_opened"] == 0
    assert figures["indicted_ratio"] == {"value": None, "numerator": 0, "denominator": 0}
    assert figures["trials"] == {"standard": 0, "mobile": 0, "model": 0}


async def test_the_hotspots_count_the_wards_cases(cw: Casework, ward: str) -> None:
    by_ward = (await _kpis(cw))["hotspots"]["by_ward"]
    assert {"ward_code": ward, "cases": 5} in by_ward


@pytest.mark.parametrize("role", [INVESTIGATOR, "prosecutor", "court_clerk"])
async def test_officers_read_the_figures_too(cw: Casework, ward: str, role: str) -> None:
    response = await cw.client.get("/v1/kpis", params={"ward_code": ward}, headers=cw.as_(role))
    assert response.status_code == 200
    assert response.json()["cases_opened"] == 5


async def test_figures_of_a_ward_outside_the_jurisdiction_are_forbidden(
    cw: Casework, auth: Auth
) -> None:
    response = await cw.client.get(
        "/v1/kpis", params={"ward_code": fresh_ward("79")}, headers=auth("supervisor", HANOI)
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "params",
    [{"ward_code": "abc"}, {"from": "2026-13-01"}, {"to": "yesterday"}],
)
async def test_a_malformed_figures_query_is_422(cw: Casework, params: dict[str, str]) -> None:
    response = await cw.client.get("/v1/kpis", params=params, headers=cw.as_("supervisor"))
    assert response.status_code == 422


async def test_initiated_ratio_is_initiated_cases_over_substantiated_tips(
    intake: httpx.AsyncClient, cw: Casework, intake_auth: Auth, db: AsyncEngine
) -> None:
    code = fresh_ward()
    substantiated = [await substantiate_tip(intake, intake_auth, ward=code) for _ in range(2)]
    other = await substantiate_tip(intake, intake_auth, ward=code, outcome="unsubstantiated")
    cases = [await the_case_of(cw.client, cw.as_(INVESTIGATOR), t) for t in substantiated]

    async def recorded() -> Any:
        async with db.connect() as conn:
            return (
                await conn.execute(
                    text("SELECT outcome FROM casework.tip_refs WHERE tip_id = :t"), {"t": other}
                )
            ).scalar_one_or_none()

    await eventually(recorded, timeout=60)
    await cw.step(cases[0]["id"], "initiate")

    figure = (await _kpis(cw, ward_code=code))["initiated_ratio"]

    assert figure == {"value": 0.5, "numerator": 1, "denominator": 2}


async def test_the_worker_sets_the_overdue_gauge_ops_alert_on(
    ward: str, casework_settings: Any, database_url: str
) -> None:
    from prometheus_client import REGISTRY

    from libs.common.context import context_factory
    from libs.common.crypto import BlindIndex
    from libs.common.db import Database
    from libs.common.gauges import GaugeRefresher
    from libs.common.observability import DEADLINES_OVERDUE
    from libs.common.platform import platform_of
    from services.casework.kpis import overdue_cases
    from services.casework.models import metadata

    key = casework_settings.blind_index_key.get_secret_value()
    make = context_factory(casework_settings, platform_of(metadata), BlindIndex.from_b64(key))
    db = Database(database_url)
    labels = {"service": "casework"}
    try:
        await GaugeRefresher(db, make, DEADLINES_OVERDUE, labels, "kind", overdue_cases).refresh()
        async with db.engine.connect() as conn:
            late = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM casework.cases WHERE status = 'investigating' "
                        "AND stage_due_at < now()"
                    )
                )
            ).scalar_one()
    finally:
        await db.dispose()
    shown = REGISTRY.get_sample_value(
        "ctip_deadlines_overdue", {"service": "casework", "kind": "case_investigating"}
    )
    assert late >= 1 and shown == late
