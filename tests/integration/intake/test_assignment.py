"""``POST /v1/tips/{id}/assignment`` on the real stack: the directory (a seeded file, as the local
stack's) decides who may be given a tip; the assignment is audited, emitted, shown on the tip,
carried by its deadline signals, and filters the list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import issue_dev_token
from libs.common.db import Database
from libs.common.jurisdiction import wards_of
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.integration.intake.support import (
    HAI_BA_TRUNG,
    HANOI,
    HCMC,
    advance,
    classify,
    deadline_signals,
    file_tip,
    outbox_events,
    verify,
    watches,
)
from tests.integration.intake.test_deadlines import worker
from tests.support import running

pytestmark = pytest.mark.integration

OTHER_WARD = next(w for w in wards_of(HANOI) if w != HAI_BA_TRUNG)
PEOPLE = [
    {"sub": "io-hanoi", "roles": ["intake_officer"], "jurisdiction": [HANOI]},
    {"sub": "io-ward", "roles": ["intake_officer"], "jurisdiction": [HAI_BA_TRUNG]},
    {"sub": "io-other-ward", "roles": ["intake_officer"], "jurisdiction": [OTHER_WARD]},
    {"sub": "io-hcmc", "roles": ["intake_officer"], "jurisdiction": [HCMC]},
    {"sub": "inv-hanoi", "roles": ["investigator"], "jurisdiction": [HANOI]},
    {"sub": "io-left", "roles": ["intake_officer"], "jurisdiction": [HANOI], "enabled": False},
]


@pytest.fixture(scope="module")
def directory_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("directory") / "directory.json"
    path.write_text(json.dumps({"people": PEOPLE}), encoding="utf-8")
    return path


@pytest.fixture
def settings(settings_for: Callable[..., Any], directory_file: Path) -> IntakeSettings:
    built: IntakeSettings = settings_for(
        IntakeSettings, run_relay=False, directory_file=str(directory_file)
    )
    return built


@pytest.fixture
async def client(settings: IntakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as client:
        yield client


@pytest.fixture
def token(settings: IntakeSettings) -> Callable[..., dict[str, str]]:
    """``token("io-hanoi", "intake_officer", "01")``: the caller's Authorization header."""

    def build(sub: str, role: str, *jurisdiction: str) -> dict[str, str]:
        issued = issue_dev_token(settings, roles=[role], jurisdiction=jurisdiction, sub=sub)
        return {"Authorization": f"Bearer {issued}"}

    return build


@pytest.fixture
def officer(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("io-hanoi", "intake_officer", HANOI)


async def assign(
    client: httpx.AsyncClient, headers: dict[str, str], tip_id: str, sub: str, **extra: str
) -> httpx.Response:
    return await client.post(
        f"/v1/tips/{tip_id}/assignment", json={"sub": sub}, headers={**headers, **extra}
    )


async def audit_of(db: AsyncEngine, tip_id: str) -> list[Any]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT actor, action, purpose, details FROM intake.audit_log"
                " WHERE record_type = 'tip' AND record_id = :id AND action = 'assign' ORDER BY seq"
            ),
            {"id": tip_id},
        )
        return list(rows)


async def assigned_events(db: AsyncEngine, tip_id: str) -> list[dict[str, Any]]:
    return [d for t, d in await outbox_events(db, tip_id) if t.endswith(".tip.assigned.v1")]


async def test_a_tip_is_given_to_an_intake_officer_of_its_place(
    client: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    tip = await file_tip(client, officer)
    response = await assign(client, officer, tip["id"], "io-ward")
    assert response.status_code == 200, response.text
    assert (response.json()["assignee"], response.json()["version"]) == ("io-ward", 2)
    record = (await client.get(f"/v1/tips/{tip['id']}", headers=officer)).json()
    assert record["assignee"] == "io-ward"
    ((event),) = await assigned_events(db, tip["id"])
    assert {k: v for k, v in event.items() if k != "assigned_at"} == {
        "record_type": "tip",
        "record_id": tip["id"],
        "assignee": "io-ward",
        "previous": None,
        "assigned_by": "io-hanoi",
        "jurisdiction": {"ward_code": HAI_BA_TRUNG, "province_code": HANOI},
    }
    ((entry),) = await audit_of(db, tip["id"])
    assert (entry.actor, entry.purpose) == ("io-hanoi", "tip assignment")
    assert entry.details == {"assignee": "io-ward", "previous": None}
    assert {w.assignee for w in (await watches(db, tip["id"])).values()} == {"io-ward"}


async def test_a_supervisor_reassigns_and_the_event_names_who_had_it(
    client: httpx.AsyncClient,
    officer: dict[str, str],
    token: Callable[..., dict[str, str]],
    db: AsyncEngine,
) -> None:
    tip = await file_tip(client, officer)
    assert (await assign(client, officer, tip["id"], "io-ward")).status_code == 200
    supervisor = token("sup-hanoi", "supervisor", HANOI)
    response = await assign(client, supervisor, tip["id"], "io-hanoi")
    assert response.status_code == 200, response.text
    events = await assigned_events(db, tip["id"])
    assert [(e["assignee"], e["previous"], e["assigned_by"]) for e in events] == [
        ("io-ward", None, "io-hanoi"),
        ("io-hanoi", "io-ward", "sup-hanoi"),
    ]


async def test_the_current_assignee_again_is_a_200_that_changes_nothing(
    client: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    tip = await file_tip(client, officer)
    first = await assign(client, officer, tip["id"], "io-ward")
    again = await assign(client, officer, tip["id"], "io-ward")
    assert again.status_code == 200
    assert again.json()["version"] == first.json()["version"] == 2
    assert len(await assigned_events(db, tip["id"])) == 1
    assert len(await audit_of(db, tip["id"])) == 1


@pytest.mark.parametrize(
    "sub",
    ["nobody-we-know", "io-hcmc", "io-other-ward", "inv-hanoi", "io-left"],
    ids=["unknown", "other-province", "other-ward", "investigator", "disabled"],
)
async def test_anyone_else_is_the_same_422_and_nothing_is_written(
    client: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, sub: str
) -> None:
    tip = await file_tip(client, officer)
    response = await assign(client, officer, tip["id"], sub)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"] == [
        {
            "field": "sub",
            "message": "not an intake officer of the tip's jurisdiction",
            "code": "assignee_not_eligible",
        }
    ]
    assert problem["detail"] == "sub names no intake officer who may take this tip"
    record = (await client.get(f"/v1/tips/{tip['id']}", headers=officer)).json()
    assert (record["assignee"], record["version"]) == (None, 1)
    assert await assigned_events(db, tip["id"]) == [] and await audit_of(db, tip["id"]) == []


async def test_the_refusal_reads_in_vietnamese_when_asked(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    tip = await file_tip(client, officer)
    response = await assign(client, officer, tip["id"], "io-hcmc", **{"Accept-Language": "vi"})
    problem = response.json()
    assert problem["detail"] == "sub không chỉ tới cán bộ tiếp nhận nào có thể nhận tin báo này"
    assert (
        problem["errors"][0]["message"] == "Không phải cán bộ tiếp nhận thuộc địa bàn của tin báo"
    )
    assert problem["errors"][0]["code"] == "assignee_not_eligible"


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        (("io-hcmc", "intake_officer", HCMC), 403),
        (("io-other-ward", "intake_officer", OTHER_WARD), 403),
        (("inv-hanoi", "investigator", HANOI), 403),
        (("sup-hcmc", "supervisor", HCMC), 403),
    ],
    ids=["officer-elsewhere", "officer-of-another-ward", "investigator", "supervisor-elsewhere"],
)
async def test_who_may_not_assign_is_refused_as_for_other_actions(
    client: httpx.AsyncClient,
    officer: dict[str, str],
    token: Callable[..., dict[str, str]],
    caller: tuple[str, ...],
    status: int,
) -> None:
    tip = await file_tip(client, officer)
    response = await assign(client, token(*caller), tip["id"], "io-ward")
    assert response.status_code == status, response.text


async def test_no_such_tip_is_404_and_no_token_401(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    missing = "01900000-0000-7000-8000-000000000000"
    assert (await assign(client, officer, missing, "io-ward")).status_code == 404
    response = await client.post(f"/v1/tips/{missing}/assignment", json={"sub": "io-ward"})
    assert response.status_code == 401


async def test_a_stale_version_is_412_and_the_current_one_is_accepted(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    tip = await file_tip(client, officer)
    stale = await assign(client, officer, tip["id"], "io-ward", **{"If-Match": '"7"'})
    assert stale.status_code == 412
    current = await assign(client, officer, tip["id"], "io-ward", **{"If-Match": '"1"'})
    assert current.status_code == 200, current.text


async def test_a_verified_tip_is_given_to_no_one(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    tip = await file_tip(client, officer)
    await classify(client, officer, tip["id"])
    assert (await verify(client, officer, tip["id"], "referred")).status_code == 200
    response = await assign(client, officer, tip["id"], "io-ward")
    assert response.status_code == 409
    assert "assign" not in response.json()["allowed_actions"]


async def test_the_list_filters_by_assignee_and_me(
    client: httpx.AsyncClient,
    officer: dict[str, str],
    token: Callable[..., dict[str, str]],
) -> None:
    mine = [await file_tip(client, officer) for _ in range(2)]
    theirs = await file_tip(client, officer)
    for tip in mine:
        assert (await assign(client, officer, tip["id"], "io-ward")).status_code == 200
    assert (await assign(client, officer, theirs["id"], "io-hanoi")).status_code == 200
    ward_officer = token("io-ward", "intake_officer", HAI_BA_TRUNG)

    async def listed(headers: dict[str, str], assignee: str) -> set[str]:
        response = await client.get(f"/v1/tips?assignee={assignee}&limit=200", headers=headers)
        assert response.status_code == 200, response.text
        return {t["id"] for t in response.json()["items"]}

    assert {t["id"] for t in mine} <= await listed(ward_officer, "me")
    assert theirs["id"] not in await listed(ward_officer, "me")
    assert await listed(ward_officer, "me") == await listed(officer, "io-ward")
    assert theirs["id"] in await listed(officer, "me")
    assert not {t["id"] for t in mine} & await listed(officer, "me")


async def test_an_unlocated_tip_goes_to_an_officer_of_the_triage_province(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    tip = await file_tip(client, officer, incident_ward_code=None)
    assert (await assign(client, officer, tip["id"], "io-ward")).status_code == 422
    assert (await assign(client, officer, tip["id"], "io-hanoi")).status_code == 200


async def test_the_deadline_signals_name_the_assignee(
    client: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    settings: IntakeSettings,
) -> None:
    tip = await file_tip(client, officer)
    assert (await assign(client, officer, tip["id"], "io-ward")).status_code == 200
    await advance(db, tip["id"], timedelta(days=10, minutes=1))
    database = Database(settings.database_url, pool_size=2)
    try:
        await worker(settings, database).once()
    finally:
        await database.dispose()
    ((signal),) = await deadline_signals(db, tip["id"])
    assert (signal["deadline_kind"], signal["assignee"]) == ("extension_request", "io-ward")
