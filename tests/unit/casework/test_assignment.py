"""Giving a case to an investigator, with a fake context and a seeded directory: who may take
it, the order of the refusals, and what an assignment writes (audit, event, the watch)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from libs.common.directory import SeededDirectory
from libs.common.errors import (
    Conflict,
    DependencyUnavailable,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    Unprocessable,
)
from services.casework import assignment, repository
from tests.unit.casework.test_use_cases import HANOI, HCMC, a_case, context, officer

DIRECTORY = SeededDirectory.of(
    [
        {"sub": "inv-hn", "roles": ["investigator"], "jurisdiction": ["01"]},
        {"sub": "inv-ward", "roles": ["investigator"], "jurisdiction": [HANOI]},
        {"sub": "inv-hcm", "roles": ["investigator"], "jurisdiction": ["79"]},
        {"sub": "io-hn", "roles": ["intake_officer"], "jurisdiction": ["01"]},
        {"sub": "inv-gone", "roles": ["investigator"], "jurisdiction": ["01"], "enabled": False},
    ]
)
PURPOSE = "case assignment"


def nothing_written(platform: Any) -> bool:
    return not (platform.outbox.events or platform.audit.entries or platform.deadlines.calls)


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    held: dict[str, Any] = {"case": None}

    async def get_case(session: Any, case_id: uuid.UUID, *, for_update: bool = False) -> Any:
        case = held["case"]
        return case if case is not None and case.id == case_id else None

    monkeypatch.setattr(repository, "get_case", get_case)
    return held


@pytest.mark.parametrize("sub", ["inv-hn", "inv-ward"])
async def test_an_investigator_of_the_cases_ward_takes_it(stored: dict[str, Any], sub: str) -> None:
    stored["case"] = case = a_case("investigating")
    ctx, platform, _ = context(officer("supervisor"))

    out = await assignment.assign(ctx, case.id, sub, DIRECTORY, PURPOSE, '"3"')

    assert (out.assignee, out.version, case.assignee) == (sub, 4, sub)
    (event,) = platform.outbox.events
    assert event.type == "vn.ctip.casework.case.assigned.v1"
    assert (event.data["assignee"], event.data["previous"], event.data["assigned_by"]) == (
        sub,
        None,
        "supervisor-1",
    )
    assert event.data["jurisdiction"] == {"ward_code": HANOI, "province_code": "01"}
    (entry,) = platform.audit.entries
    assert (entry["action"], entry["record_type"], entry["purpose"]) == ("assign", "case", PURPOSE)
    assert entry["details"] == {"assignee": sub, "previous": None}
    assert platform.deadlines.calls == [("assign", "case", case.id)]


@pytest.mark.parametrize(
    "sub", ["nobody", "inv-hcm", "io-hn", "inv-gone"], ids=["unknown", "elsewhere", "role", "off"]
)
async def test_anyone_else_gets_one_and_the_same_422(stored: dict[str, Any], sub: str) -> None:
    stored["case"] = case = a_case("investigating")
    ctx, platform, _ = context(officer("investigator"))

    with pytest.raises(Unprocessable) as refused:
        await assignment.assign(ctx, case.id, sub, DIRECTORY, PURPOSE, None)

    assert refused.value.errors == [
        {
            "field": "sub",
            "message": "not an investigator of the case's jurisdiction",
            "code": "assignee_not_eligible",
        }
    ]
    assert (case.assignee, case.version) == (None, 3)
    assert nothing_written(platform)


async def test_the_same_investigator_again_changes_nothing(stored: dict[str, Any]) -> None:
    stored["case"] = case = a_case("investigating", assignee="inv-hn")
    ctx, platform, _ = context(officer("investigator"))

    out = await assignment.assign(ctx, case.id, "inv-hn", DIRECTORY, PURPOSE, None)

    assert (out.assignee, out.version) == ("inv-hn", 3)
    assert nothing_written(platform)


async def test_a_reassignment_names_the_previous_assignee(stored: dict[str, Any]) -> None:
    stored["case"] = case = a_case("investigating", assignee="inv-ward")
    ctx, platform, _ = context(officer("investigator"))
    await assignment.assign(ctx, case.id, "inv-hn", DIRECTORY, PURPOSE, None)
    assert platform.outbox.events[0].data["previous"] == "inv-ward"


async def test_refusals_come_in_the_order_of_every_action(stored: dict[str, Any]) -> None:
    """404, 403, 412, 409 before the assignee is judged: an ineligible sub learns nothing."""
    ctx, _, _ = context(officer("investigator"))
    with pytest.raises(NotFound):
        await assignment.assign(ctx, uuid.uuid4(), "nobody", DIRECTORY, PURPOSE, None)
    stored["case"] = case = a_case("investigating", ward_code=HCMC)
    with pytest.raises(Forbidden, match="outside your jurisdiction"):
        await assignment.assign(ctx, case.id, "nobody", DIRECTORY, PURPOSE, None)
    stored["case"] = case = a_case("investigating")
    with pytest.raises(PreconditionFailed):
        await assignment.assign(ctx, case.id, "nobody", DIRECTORY, PURPOSE, '"2"')
    stored["case"] = case = a_case("closed")
    with pytest.raises(Conflict, match="the case is closed"):
        await assignment.assign(ctx, case.id, "nobody", DIRECTORY, PURPOSE, None)


class Unreachable(SeededDirectory):
    async def person(self, sub: str) -> Any:
        raise DependencyUnavailable("connection refused")


async def test_an_unreachable_directory_is_a_503(stored: dict[str, Any]) -> None:
    stored["case"] = case = a_case("investigating")
    ctx, _, _ = context(officer("investigator"))
    with pytest.raises(ServiceUnavailable, match="directory of officers"):
        await assignment.assign(ctx, case.id, "inv-hn", Unreachable(), PURPOSE, None)
