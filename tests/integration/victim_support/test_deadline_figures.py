"""The dashboard's deadline figures of victims (issue 18): ``GET /v1/kpis`` counts, per ward of the
caller's jurisdiction, the persons whose 3-day verification (Law 53/2024 Art. 27) falls within 5
days and those past it, and ``GET /v1/victims?deadline=due_soon|missed&ward_code=`` lists exactly
the persons counted, with no personal data.

A reception is moved in time in the database, the person's clock and its watch alike; deciding
the verification (identified or not) settles the watch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.jurisdiction import name_of
from services.victim_support.app import create_app
from services.victim_support.settings import VictimSupportSettings
from tests.integration.victim_support.support import (
    OTHER_PROVINCE,
    PROVINCE,
    identify,
    receive,
    supervisor,
    worker,
)
from tests.support import fresh_ward, running

pytestmark = pytest.mark.integration

PERSONAL = {"person", "full_name", "date_of_birth", "id_number", "phone", "address", "notes"}


@pytest.fixture(scope="module")
async def places(
    settings_for: Callable[..., Any], owner_database_url: str
) -> AsyncIterator[dict[str, Any]]:
    """Two wards of Hà Nội and one of Hồ Chí Minh City that no other test uses, holding:

    * ward: a person received now (verification due in 3 days), one whose verification is due in
      10 days, one 1 day past due, one past due and then identified, one found not a victim;
    * other: one person past due; far (province 79): one past due and one due in 3 days.
    """
    ward, other, far = fresh_ward(PROVINCE), fresh_ward(PROVINCE), fresh_ward(OTHER_PROVINCE)
    engine = create_async_engine(owner_database_url)
    people: dict[str, str] = {}
    app = create_app(settings_for(VictimSupportSettings, run_relay=False))
    async with running(app) as client:

        async def person(name: str, where: str, *, days_ago: float = 0) -> str:
            headers = worker(OTHER_PROVINCE if where == far else PROVINCE)
            people[name] = str((await receive(client, where, headers=headers))["id"])
            async with engine.begin() as conn:
                for sql in (
                    "UPDATE victim_support.victims SET verification_due_at ="
                    " verification_due_at - make_interval(secs => :s) WHERE id = :id",
                    "UPDATE victim_support.deadline_watches SET due_at ="
                    " due_at - make_interval(secs => :s) WHERE record_id = :id",
                ):
                    await conn.execute(text(sql), {"s": days_ago * 86400, "id": people[name]})
            return people[name]

        await person("soon", ward)
        await person("later", ward, days_ago=-7)
        await person("missed", ward, days_ago=4)
        await identify(client, await person("identified", ward, days_ago=4))
        await identify(client, await person("not_a_victim", ward), outcome="not_a_victim")
        await person("other_missed", other, days_ago=5)
        await person("far_missed", far, days_ago=4)
        await person("far_soon", far)
    await engine.dispose()
    yield {"ward": ward, "other": other, "far": far, "people": people}


async def kpis(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get("/v1/kpis", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["deadlines"]


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get("/v1/victims", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


def row(ward: str, due_soon: int, missed: int) -> dict[str, Any]:
    return {"ward_code": ward, "ward_name": name_of(ward), "due_soon": due_soon, "missed": missed}


async def test_only_open_verifications_due_within_5_days_or_past_due_are_counted_per_ward(
    victim_support: httpx.AsyncClient, places: dict[str, Any]
) -> None:
    ward, other = places["ward"], places["other"]
    figures = await kpis(victim_support, supervisor(ward, other))
    assert figures == {
        "record_type": "victim",
        "deadline_kind": "verification",
        "horizon_days": 5.0,
        "due_soon": 1,
        "missed": 2,
        "by_ward": sorted([row(ward, 1, 1), row(other, 0, 1)], key=lambda r: r["ward_code"]),
    }


async def test_wards_outside_the_jurisdiction_are_never_shown(
    victim_support: httpx.AsyncClient, places: dict[str, Any]
) -> None:
    hanoi = await kpis(victim_support, supervisor(PROVINCE))
    shown = {r["ward_code"] for r in hanoi["by_ward"]}
    assert {places["ward"], places["other"]} <= shown and places["far"] not in shown
    assert row(places["ward"], 1, 1) in hanoi["by_ward"]
    far = await kpis(victim_support, supervisor(places["far"]))
    assert far["by_ward"] == [row(places["far"], 1, 1)]


async def test_the_kpis_ward_filter_narrows_the_figures_to_that_ward(
    victim_support: httpx.AsyncClient, places: dict[str, Any]
) -> None:
    figures = await kpis(victim_support, supervisor(PROVINCE), ward_code=places["other"])
    assert (figures["due_soon"], figures["missed"]) == (0, 1)
    assert figures["by_ward"] == [row(places["other"], 0, 1)]


async def test_the_list_behind_each_figure_holds_exactly_the_persons_counted(
    victim_support: httpx.AsyncClient, places: dict[str, Any]
) -> None:
    people, ward = places["people"], places["ward"]
    soon = await listed(victim_support, supervisor(), deadline="due_soon", ward_code=ward)
    assert ids(soon) == {people["soon"]}
    missed = await listed(victim_support, supervisor(), deadline="missed", ward_code=ward)
    assert ids(missed) == {people["missed"]}
    both = await listed(victim_support, supervisor(ward, places["other"]), deadline="missed")
    assert ids(both) == {people["missed"], people["other_missed"]}
    assert not PERSONAL & set(missed[0]), "the list a figure opens holds no personal data"


async def test_the_ward_filter_alone_lists_the_wards_persons(
    victim_support: httpx.AsyncClient, places: dict[str, Any]
) -> None:
    people = places["people"]
    listed_ids = ids(await listed(victim_support, supervisor(), ward_code=places["other"]))
    assert listed_ids == {people["other_missed"]}


async def test_the_deadline_filter_is_scoped_as_the_list_is(
    victim_support: httpx.AsyncClient, places: dict[str, Any]
) -> None:
    people = places["people"]
    hanoi = ids(await listed(victim_support, worker(PROVINCE), deadline="missed"))
    assert people["missed"] in hanoi and people["far_missed"] not in hanoi
    far = ids(await listed(victim_support, supervisor(places["far"]), deadline="due_soon"))
    assert far == {people["far_soon"]}


@pytest.mark.parametrize("params", [{"deadline": "overdue"}, {"ward_code": "256"}])
async def test_a_malformed_filter_is_422(
    victim_support: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await victim_support.get("/v1/victims", params=params, headers=supervisor())
    assert response.status_code == 422
    assert set(params) <= {e["field"] for e in response.json()["errors"]}
