"""The dashboard's deadline figures of cases (issue 18): ``GET /v1/kpis`` counts, per ward of the
caller's jurisdiction, the open cases whose stage deadline falls within 5 days and those past it,
and ``GET /v1/cases?deadline=due_soon|missed&ward_code=`` lists exactly the cases counted.

A stage's deadline is moved in the database, on the case and on its watch alike (as a step that
sets a new deadline would); a stage without one (suspended) settles the watch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.jurisdiction import name_of
from tests.integration.casework.support import HANOI, HCMC, Auth, Casework
from tests.support import fresh_ward

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
async def places(
    casework: httpx.AsyncClient, auth: Auth, database_url: str
) -> AsyncIterator[dict[str, Any]]:
    """Two wards of Hà Nội and one of Hồ Chí Minh City that no other test uses, holding:

    * ward: a case investigating due in 2 days, one due in 10 days, one 1 day past due, one
      past due and then suspended (no stage deadline), one just opened (no deadline yet);
    * other: a case past due; far (province 79): a case past due.
    """
    ward, other, far = fresh_ward(HANOI), fresh_ward(HANOI), fresh_ward(HCMC)
    hanoi, hcmc = Casework(casework, auth), Casework(casework, auth, province=HCMC)
    engine = create_async_engine(database_url)
    cases: dict[str, str] = {}

    async def case(name: str, cw: Casework, where: str, due_in: timedelta | None) -> str:
        opened = await (cw.case_in("investigating", where) if due_in else cw.open(where))
        cases[name] = opened["id"]
        if due_in is not None:
            due = datetime.now(UTC) + due_in
            async with engine.begin() as conn:
                for table, column in (("cases", "stage_due_at"), ("deadline_watches", "due_at")):
                    key = "id" if table == "cases" else "record_id"
                    await conn.execute(
                        text(f"UPDATE casework.{table} SET {column} = :due WHERE {key} = :id"),
                        {"due": due, "id": cases[name]},
                    )
        return cases[name]

    try:
        await case("soon", hanoi, ward, 2 * DAY)
        await case("later", hanoi, ward, 10 * DAY)
        await case("missed", hanoi, ward, -DAY)
        suspended = await case("suspended", hanoi, ward, -DAY)
        await case("fresh", hanoi, ward, None)
        await case("other_missed", hanoi, other, -2 * DAY)
        await case("far_missed", hcmc, far, -DAY)
        await hanoi.step(suspended, "suspend")
    finally:
        await engine.dispose()
    yield {"ward": ward, "other": other, "far": far, "cases": cases}


async def kpis(cw: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await cw.get("/v1/kpis", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["deadlines"]


async def listed(cw: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[str]:
    response = await cw.get("/v1/cases", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def row(ward: str, due_soon: int, missed: int) -> dict[str, Any]:
    return {"ward_code": ward, "ward_name": name_of(ward), "due_soon": due_soon, "missed": missed}


async def test_only_open_stages_due_within_5_days_or_past_due_are_counted_per_ward(
    casework: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    ward, other = places["ward"], places["other"]
    figures = await kpis(casework, auth("supervisor", ward, other))
    assert figures == {
        "record_type": "case",
        "deadline_kind": "stage",
        "horizon_days": 5.0,
        "due_soon": 1,
        "missed": 2,
        "by_ward": sorted([row(ward, 1, 1), row(other, 0, 1)], key=lambda r: r["ward_code"]),
    }


async def test_wards_outside_the_jurisdiction_are_never_shown(
    casework: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    hanoi = await kpis(casework, auth("supervisor", HANOI))
    shown = {r["ward_code"] for r in hanoi["by_ward"]}
    assert {places["ward"], places["other"]} <= shown and places["far"] not in shown
    assert row(places["ward"], 1, 1) in hanoi["by_ward"]
    far = await kpis(casework, auth("supervisor", HCMC))
    assert row(places["far"], 0, 1) in far["by_ward"]
    assert not {places["ward"], places["other"]} & {r["ward_code"] for r in far["by_ward"]}


async def test_the_kpis_ward_filter_narrows_the_figures_to_that_ward(
    casework: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    figures = await kpis(casework, auth("supervisor", HANOI), ward_code=places["ward"])
    assert (figures["due_soon"], figures["missed"]) == (1, 1)
    assert figures["by_ward"] == [row(places["ward"], 1, 1)]


async def test_the_list_behind_each_figure_holds_exactly_the_cases_counted(
    casework: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    cases, ward = places["cases"], places["ward"]
    supervisor = auth("supervisor", HANOI)
    assert await listed(casework, supervisor, deadline="due_soon", ward_code=ward) == {
        cases["soon"]
    }
    assert await listed(casework, supervisor, deadline="missed", ward_code=ward) == {
        cases["missed"]
    }
    both = await listed(casework, auth("supervisor", ward, places["other"]), deadline="missed")
    assert both == {cases["missed"], cases["other_missed"]}


async def test_the_deadline_filter_is_scoped_as_the_list_is(
    casework: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    cases = places["cases"]
    hanoi = await listed(casework, auth("investigator", HANOI), deadline="missed")
    assert cases["missed"] in hanoi and cases["far_missed"] not in hanoi
    far = await listed(casework, auth("supervisor", places["far"]), deadline="missed")
    assert far == {cases["far_missed"]}


async def test_an_unknown_deadline_window_is_422(casework: httpx.AsyncClient, auth: Auth) -> None:
    response = await casework.get(
        "/v1/cases", params={"deadline": "late"}, headers=auth("supervisor", HANOI)
    )
    assert response.status_code == 422
    assert "deadline" in [e["field"] for e in response.json()["errors"]]
