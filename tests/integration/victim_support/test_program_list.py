"""``GET /v1/programs``: an NGO lists its own programs, an admin every program, newest first and
a page at a time (``limit``, ``cursor``), without the enrollments (those are on the program)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.victim_support.support import (
    PROBLEM_JSON,
    admin,
    new_org,
    ngo,
    supervisor,
    worker,
)
from tests.integration.victim_support.test_programs import new_program

pytestmark = pytest.mark.integration


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get("/v1/programs", headers=headers, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_an_ngo_lists_its_own_programs_newest_first(
    victim_support: httpx.AsyncClient,
) -> None:
    org, other = new_org(), new_org()
    older = await new_program(victim_support, org, name="Older program (synthetic)")
    newer = await new_program(victim_support, org)
    await new_program(victim_support, other)
    page = await listed(victim_support, ngo(org))
    assert [p["id"] for p in page["items"]] == [newer, older]
    assert page["next_cursor"] is None
    assert set(page["items"][0]) == {
        "id",
        "name",
        "org",
        "funder",
        "support_types",
        "period",
        "created_at",
    }
    assert {p["org"] for p in page["items"]} == {org}


async def test_an_ngo_pages_through_its_programs(victim_support: httpx.AsyncClient) -> None:
    org = new_org()
    made = [await new_program(victim_support, org) for _ in range(3)]
    first = await listed(victim_support, ngo(org), limit=2)
    assert [p["id"] for p in first["items"]] == made[:0:-1]
    second = await listed(victim_support, ngo(org), limit=2, cursor=first["next_cursor"])
    assert [p["id"] for p in second["items"]] == made[:1]
    assert second["next_cursor"] is None


async def test_an_admin_lists_every_organisations_programs(
    victim_support: httpx.AsyncClient,
) -> None:
    mine, theirs = (
        await new_program(victim_support, new_org()),
        await new_program(victim_support, new_org()),
    )
    page = await listed(victim_support, admin(), limit=200)
    ids = [p["id"] for p in page["items"]]
    assert ids.index(theirs) < ids.index(mine)  # newest first, across organisations


@pytest.mark.parametrize("who", ["social_worker", "supervisor"])
async def test_other_roles_cannot_list_programs(
    victim_support: httpx.AsyncClient, who: str
) -> None:
    headers = worker() if who == "social_worker" else supervisor()
    response = await victim_support.get("/v1/programs", headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


async def test_a_cursor_that_was_not_issued_is_refused(victim_support: httpx.AsyncClient) -> None:
    response = await victim_support.get(
        "/v1/programs", headers=ngo(new_org()), params={"cursor": "not-a-cursor"}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "cursor", "message": "not a cursor we issued", "code": "cursor.invalid"}
    ]
