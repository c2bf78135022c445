"""The dashboard's deadline figures of tips (issue 18): ``GET /v1/kpis`` counts, per ward of the
caller's jurisdiction, the open tips whose resolution is due within 5 days and those past it,
and ``GET /v1/tips?deadline=due_soon|missed&ward_code=`` lists exactly the tips counted.

Clocks are moved with ``support.advance`` (the tip, its receipt and its watches, as if the time
had passed), so each tip is counted by the watches filing and verification really keep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.jurisdiction import name_of, province_of
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import advance, classify, file_tip, verify
from tests.support import fresh_ward, running

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
async def places(settings_for: Callable[..., Any], auth: Auth, owner_database_url: str) -> Any:
    """Two wards of Hà Nội and one of Hồ Chí Minh City that no other test uses, holding:

    * ward: a tip due in 2 days, one due in 10 days, one 1 day past due, one past due and then
      verified (resolved), one just filed (due in 20 days);
    * other: one tip past due; far (province 79): one tip past due and one due in 2 days.
    """
    ward, other, far = fresh_ward("01"), fresh_ward("01"), fresh_ward("79")
    tips: dict[str, str] = {}
    db = create_async_engine(owner_database_url)
    app = create_app(settings_for(IntakeSettings, run_relay=False))
    async with running(app) as intake:

        async def tip(name: str, where: str, *, by: timedelta | None = None) -> str:
            officer = auth("intake_officer", province_of(where) or where)
            tips[name] = str((await file_tip(intake, officer, incident_ward_code=where))["id"])
            if by is not None:  # filed with 20 days to resolve; ``by`` of them have passed
                await advance(db, tips[name], by)
            return tips[name]

        await tip("soon", ward, by=18 * DAY)
        await tip("later", ward, by=10 * DAY)
        await tip("missed", ward, by=21 * DAY)
        resolved = await tip("resolved", ward, by=21 * DAY)
        await tip("fresh", ward)
        await tip("other_missed", other, by=22 * DAY)
        await tip("far_missed", far, by=21 * DAY)
        await tip("far_soon", far, by=18 * DAY)
        officer = auth("intake_officer", "01")
        await classify(intake, officer, resolved)
        assert (await verify(intake, officer, resolved, "unsubstantiated")).status_code == 200
    await db.dispose()
    return {"ward": ward, "other": other, "far": far, "tips": tips}


async def kpis(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get("/v1/kpis", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["deadlines"]


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[str]:
    response = await client.get("/v1/tips", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def row(ward: str, due_soon: int, missed: int) -> dict[str, Any]:
    return {"ward_code": ward, "ward_name": name_of(ward), "due_soon": due_soon, "missed": missed}


async def test_only_open_tips_due_within_5_days_or_past_due_are_counted_once_per_ward(
    intake: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    """Due in 10 or 20 days: not counted; resolved: not counted; the tip due in 2 days counts
    as due soon though its last day to ask for an extension (3 days ago) has passed: a tip is
    counted by its resolution clock alone, once."""
    ward, other = places["ward"], places["other"]
    figures = await kpis(intake, auth("supervisor", ward, other))
    assert figures == {
        "record_type": "tip",
        "deadline_kind": "resolution",
        "horizon_days": 5.0,
        "due_soon": 1,
        "missed": 2,
        "by_ward": sorted([row(ward, 1, 1), row(other, 0, 1)], key=lambda r: r["ward_code"]),
    }


async def test_wards_outside_the_jurisdiction_are_never_shown(
    intake: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    hanoi = await kpis(intake, auth("supervisor", "01"))
    shown = {r["ward_code"] for r in hanoi["by_ward"]}
    assert {places["ward"], places["other"]} <= shown
    assert places["far"] not in shown
    assert {province_of(code) for code in shown - {None}} == {"01"}
    assert row(places["ward"], 1, 1) in hanoi["by_ward"]
    assert await kpis(intake, auth("supervisor", places["ward"])) == {
        **hanoi,
        "due_soon": 1,
        "missed": 1,
        "by_ward": [row(places["ward"], 1, 1)],
    }
    far = await kpis(intake, auth("supervisor", places["far"]))
    assert far["by_ward"] == [row(places["far"], 1, 1)]


async def test_the_kpis_ward_filter_narrows_the_figures_to_that_ward(
    intake: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    figures = await kpis(intake, auth("supervisor", "01"), ward_code=places["other"])
    assert (figures["due_soon"], figures["missed"]) == (0, 1)
    assert figures["by_ward"] == [row(places["other"], 0, 1)]


async def test_the_list_behind_each_figure_holds_exactly_the_tips_counted(
    intake: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    tips, ward = places["tips"], places["ward"]
    supervisor = auth("supervisor", "01")
    assert await listed(intake, supervisor, deadline="due_soon", ward_code=ward) == {tips["soon"]}
    assert await listed(intake, supervisor, deadline="missed", ward_code=ward) == {tips["missed"]}
    both = await listed(intake, auth("supervisor", ward, places["other"]), deadline="missed")
    assert both == {tips["missed"], tips["other_missed"]}


async def test_the_deadline_filter_is_scoped_as_the_list_is(
    intake: httpx.AsyncClient, auth: Auth, places: dict[str, Any]
) -> None:
    tips = places["tips"]
    hanoi = await listed(intake, auth("supervisor", "01"), deadline="missed")
    assert tips["missed"] in hanoi and tips["far_missed"] not in hanoi
    mine = await listed(intake, auth("intake_officer", places["far"]), deadline="missed")
    assert mine == {tips["far_missed"]}


async def test_an_unknown_deadline_window_is_422(intake: httpx.AsyncClient, auth: Auth) -> None:
    response = await intake.get(
        "/v1/tips", params={"deadline": "overdue"}, headers=auth("supervisor", "01")
    )
    assert response.status_code == 422
    assert "deadline" in [e["field"] for e in response.json()["errors"]]
