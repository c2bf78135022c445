"""A tip's watched clocks and its assignment, as the use cases drive them, with a fake context:
filing arms both clocks in the filing's one statement, an extension moves them (and the
procuracy's ends the last day to ask), placing the tip moves its watches with it, verifying
settles them; assignment asks the directory, and answers anyone ineligible the same way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.auth import Principal
from libs.common.directory import SeededDirectory
from libs.common.errors import (
    Conflict,
    DependencyUnavailable,
    Forbidden,
    ServiceUnavailable,
    Unprocessable,
)
from libs.common.jurisdiction import province_of
from services.intake import assignment, domain, repository, tips
from services.intake.filing_rows import Filing
from services.intake.models import Tip
from services.intake.schemas import ClassificationIn, ExtensionIn, TipCreate, VerificationIn
from services.intake.settings import IntakeSettings
from tests.fakes import FakeDeadlines, FakePlatform, fake_context

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WARD, OTHER_WARD = "00256", "00004"  # two wards of Hà Nội (01)
FAR_WARD = "26506"  # Vũng Tàu, province 79
OFFICER = Principal(sub="officer-7", roles=frozenset({"intake_officer"}), jurisdiction=("01",))
SUPERVISOR = Principal(sub="chief-1", roles=frozenset({"supervisor"}), jurisdiction=("01",))
ELSEWHERE = Principal(sub="officer-9", roles=frozenset({"intake_officer"}), jurisdiction=("79",))
DIRECTORY = SeededDirectory.of(
    [
        {"sub": "hn-officer", "roles": ["intake_officer"], "jurisdiction": ["01"]},
        {"sub": "ward-officer", "roles": ["intake_officer"], "jurisdiction": [WARD]},
        {"sub": "other-ward-officer", "roles": ["intake_officer"], "jurisdiction": [OTHER_WARD]},
        {"sub": "far-officer", "roles": ["intake_officer"], "jurisdiction": ["79"]},
        {"sub": "hn-investigator", "roles": ["investigator"], "jurisdiction": ["01"]},
        {"sub": "hn-supervisor", "roles": ["supervisor"], "jurisdiction": ["01"]},
        {"sub": "gone", "roles": ["intake_officer"], "jurisdiction": ["01"], "enabled": False},
    ]
)


class FakeSession:
    def add_all(self, rows: Any) -> None:
        return None

    async def flush(self) -> None:
        return None


def context(principal: Principal | None) -> tuple[Any, FakePlatform]:
    settings = IntakeSettings(environment="test", triage_province="01")
    return fake_context(settings, principal, session=FakeSession(), now=NOW)


def deadlines(platform: FakePlatform) -> FakeDeadlines:
    return platform.deadlines


def a_tip(status: str = "received", ward: str | None = WARD, **fields: Any) -> Tip:
    received = NOW - timedelta(days=2)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "channel": "hotline",
        "status": status,
        "description": "Synthetic: a broker recruits girls for work.",
        "incident_ward_code": ward,
        "province_code": province_of(ward) if ward else None,
        "exploitation_types": ["forced_labour"],
        "anonymous": True,
        "extensions": [],
        "received_at": received,
        "resolution_due_at": received + timedelta(days=20),
        "updated_at": received,
        "version": 1,
    }
    return Tip(**(values | fields))


def stored(monkeypatch: pytest.MonkeyPatch, tip: Tip) -> None:
    async def get_tip(session: Any, tip_id: uuid.UUID, *, for_update: bool = False) -> Tip:
        return tip

    monkeypatch.setattr(repository, "get_tip", get_tip)


def filed_watches(platform: FakePlatform, tip: Tip, assignee: str | None = None) -> None:
    """The watches filing armed (in its one statement, which the fake does not see)."""
    for kind, due in domain.watched_clocks(tip.resolution_due_at, []).items():
        deadlines(platform).watched[("tip", tip.id, kind.value)] = (due, assignee)


def watched(platform: FakePlatform, tip: Tip) -> dict[str, tuple[Any, ...]]:
    """The tip's watches by kind: (due_at, assignee, ward, province)."""
    fake = deadlines(platform)
    return {
        key[2]: (*value, *fake.where.get(key, ("?", "?")))
        for key, value in fake.watched.items()
        if key[:2] == ("tip", tip.id)
    }


# Filing ------------------------------------------------------------------------------------------


async def file(monkeypatch: pytest.MonkeyPatch, **body: Any) -> tuple[Filing, Any]:
    written: list[tuple[Any, ...]] = []

    async def insert_filing(*args: Any) -> None:
        written.append(args)

    monkeypatch.setattr(repository, "insert_filing", insert_filing)
    ctx, platform = context(None)
    data = TipCreate.model_validate(
        {"channel": "hotline", "description": "Synthetic: a broker at the market."} | body
    )
    await tips.file_tip(ctx, data)
    ((_, outbox, watches, filing, _),) = written
    assert outbox is platform.outbox.table and watches is deadlines(platform).table
    assert platform.outbox.types() == ["vn.ctip.intake.tip.received.v1"]
    return filing, platform


async def test_filing_arms_the_resolution_and_the_last_day_to_ask_in_its_one_statement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filing, _ = await file(monkeypatch, incident_ward_code=WARD)
    due = NOW + timedelta(days=20)
    assert filing.tip.resolution_due_at == due
    assert [(w["deadline_kind"], w["due_at"], w["fire_at"]) for w in filing.watches] == [
        ("resolution", due, due - timedelta(days=5)),
        ("extension_request", due - timedelta(days=5), due - timedelta(days=10)),
    ]
    for watch in filing.watches:
        assert (watch["record_type"], watch["record_id"]) == ("tip", filing.tip.id)
        assert (watch["ward_code"], watch["province_code"]) == (WARD, "01")
        assert (watch["armed_at"], watch["last_threshold_seconds"], watch["assignee"]) == (
            NOW,
            None,
            None,
        )


async def test_a_tip_filed_without_a_ward_is_watched_for_the_triage_province(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filing, _ = await file(monkeypatch)
    assert {(w["ward_code"], w["province_code"]) for w in filing.watches} == {(None, "01")}


# Moving, placing and settling the clocks ---------------------------------------------------------


async def test_a_complex_case_period_moves_both_clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    tip = a_tip()
    stored(monkeypatch, tip)
    ctx, platform = context(OFFICER)
    body = ExtensionIn.model_validate({"kind": "complex_case", "reason": "many suspects"})
    await tips.extend_deadline(ctx, tip.id, body, None)
    due = tip.received_at + timedelta(days=59)  # 2 months from 28 February
    assert tip.resolution_due_at == due
    assert watched(platform, tip) == {
        "resolution": (due, None, WARD, "01"),
        "extension_request": (due - timedelta(days=5), None, WARD, "01"),
    }


async def test_the_procuracys_extension_moves_the_deadline_and_ends_the_last_day_to_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tip = a_tip(assignee="ward-officer")
    stored(monkeypatch, tip)
    ctx, platform = context(OFFICER)
    filed_watches(platform, tip, "ward-officer")
    body = ExtensionIn.model_validate({"kind": "procuracy", "reason": "awaiting a translation"})
    await tips.extend_deadline(ctx, tip.id, body, None)
    assert watched(platform, tip) == {
        "resolution": (tip.resolution_due_at, "ward-officer", WARD, "01"),
    }


async def test_a_refused_extension_moves_no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    tip = a_tip(extensions=["procuracy"])
    stored(monkeypatch, tip)
    ctx, platform = context(OFFICER)
    body = ExtensionIn.model_validate({"kind": "procuracy", "reason": "once more, please"})
    with pytest.raises(Conflict, match="already granted"):
        await tips.extend_deadline(ctx, tip.id, body, None)
    assert deadlines(platform).calls == []


@pytest.mark.parametrize("outcome", ["substantiated", "unsubstantiated", "referred"])
async def test_verifying_or_closing_settles_every_clock(
    monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    tip = a_tip("triaged")
    stored(monkeypatch, tip)

    async def no_persons(*args: Any) -> list[Any]:
        return []

    monkeypatch.setattr(repository, "persons_of", no_persons)
    ctx, platform = context(OFFICER)
    filed_watches(platform, tip)
    await tips.verify(ctx, tip.id, VerificationIn.model_validate({"outcome": outcome}), None)
    assert watched(platform, tip) == {}
    assert deadlines(platform).calls == [("settle", "tip", tip.id)]


def classification(**fields: Any) -> ClassificationIn:
    return ClassificationIn.model_validate(
        {"trafficking_related": "yes", "priority": "high"} | fields
    )


async def test_placing_an_unlocated_tip_moves_its_watches_to_the_ward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tip = a_tip(ward=None)
    stored(monkeypatch, tip)
    ctx, platform = context(OFFICER)
    await tips.classify(ctx, tip.id, classification(incident_ward_code=WARD), None)
    due = tip.resolution_due_at
    assert watched(platform, tip) == {
        "resolution": (due, None, WARD, "01"),
        "extension_request": (due - timedelta(days=5), None, WARD, "01"),
    }


@pytest.mark.parametrize("ward", [None, WARD], ids=["no-ward-given", "the-same-ward"])
async def test_a_classification_that_leaves_the_ward_leaves_the_watches(
    monkeypatch: pytest.MonkeyPatch, ward: str | None
) -> None:
    tip = a_tip()
    stored(monkeypatch, tip)
    ctx, platform = context(OFFICER)
    await tips.classify(ctx, tip.id, classification(incident_ward_code=ward), None)
    assert deadlines(platform).calls == []


# Assignment ---------------------------------------------------------------------------------------


async def assign(
    monkeypatch: pytest.MonkeyPatch, tip: Tip, sub: str, principal: Principal = OFFICER
) -> tuple[Any, FakePlatform]:
    stored(monkeypatch, tip)
    ctx, platform = context(principal)
    summary = await assignment.assign(ctx, tip.id, sub, DIRECTORY, "tip assignment", None)
    return summary, platform


@pytest.mark.parametrize(
    ("principal", "sub"),
    [(OFFICER, "hn-officer"), (OFFICER, "ward-officer"), (SUPERVISOR, "ward-officer")],
    ids=["province-officer", "ward-officer", "by-a-supervisor"],
)
async def test_a_tip_is_given_to_an_intake_officer_of_its_place(
    monkeypatch: pytest.MonkeyPatch, principal: Principal, sub: str
) -> None:
    tip = a_tip(assignee="hn-officer" if sub != "hn-officer" else None)
    previous = tip.assignee
    summary, platform = await assign(monkeypatch, tip, sub, principal)
    assert (summary.assignee, tip.assignee, tip.version, tip.updated_at) == (sub, sub, 2, NOW)
    assert deadlines(platform).calls == [("assign", "tip", tip.id)]
    ((event),) = platform.outbox.events
    assert event.type == "vn.ctip.intake.tip.assigned.v1"
    assert event.data == {
        "record_type": "tip",
        "record_id": str(tip.id),
        "assignee": sub,
        "previous": previous,
        "assigned_by": principal.sub,
        "jurisdiction": {"ward_code": WARD, "province_code": "01"},
        "assigned_at": "2026-03-02T09:00:00Z",
    }
    ((entry),) = platform.audit.entries
    assert (entry["action"], entry["record_type"], entry["record_id"]) == (
        "assign",
        "tip",
        str(tip.id),
    )
    assert (entry["actor"], entry["details"]) == (
        principal.sub,
        {"assignee": sub, "previous": previous},
    )


async def test_an_unlocated_tip_goes_to_an_officer_of_the_triage_province(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary, platform = await assign(monkeypatch, a_tip(ward=None), "hn-officer")
    assert summary.assignee == "hn-officer"
    assert platform.outbox.events[0].data["jurisdiction"] == {
        "ward_code": None,
        "province_code": "01",
    }


@pytest.mark.parametrize(
    ("sub", "ward"),
    [
        ("nobody-of-that-name", WARD),
        ("far-officer", WARD),
        ("other-ward-officer", WARD),
        ("hn-investigator", WARD),
        ("hn-supervisor", WARD),
        ("gone", WARD),
        ("ward-officer", None),  # an unlocated tip is the triage province's, not a ward's
    ],
    ids=[
        "unknown",
        "other-province",
        "other-ward",
        "investigator",
        "supervisor",
        "disabled",
        "ward-officer-for-an-unlocated-tip",
    ],
)
async def test_anyone_else_is_the_same_422_and_nothing_changes(
    monkeypatch: pytest.MonkeyPatch, sub: str, ward: str | None
) -> None:
    tip = a_tip(ward=ward)
    stored(monkeypatch, tip)
    ctx, platform = context(OFFICER)
    with pytest.raises(Unprocessable) as refused:
        await assignment.assign(ctx, tip.id, sub, DIRECTORY, "tip assignment", None)
    assert refused.value.detail == "sub names no intake officer who may take this tip"
    assert refused.value.errors == [
        {
            "field": "sub",
            "message": "not an intake officer of the tip's jurisdiction",
            "code": "assignee_not_eligible",
        }
    ]
    assert (tip.assignee, tip.version) == (None, 1)
    assert platform.outbox.events == [] and platform.audit.entries == []
    assert deadlines(platform).calls == []


async def test_the_current_assignee_again_changes_nothing_and_says_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tip = a_tip(assignee="ward-officer")
    summary, platform = await assign(monkeypatch, tip, "ward-officer")
    assert (summary.assignee, tip.version) == ("ward-officer", 1)
    assert platform.outbox.events == [] and platform.audit.entries == []
    assert deadlines(platform).calls == []


@pytest.mark.parametrize("status", ["verified", "closed"])
async def test_a_resolved_tip_is_given_to_no_one(
    monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    with pytest.raises(Conflict, match="assign"):
        await assign(monkeypatch, a_tip(status), "hn-officer")


async def test_a_tip_outside_the_callers_jurisdiction_is_403(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(Forbidden):
        await assign(monkeypatch, a_tip(), "hn-officer", ELSEWHERE)


@pytest.mark.parametrize(
    ("asked", "passed"), [("me", "officer-7"), ("ward-officer", "ward-officer"), (None, None)]
)
async def test_the_list_filters_by_assignee_and_me_is_the_caller(
    monkeypatch: pytest.MonkeyPatch, asked: str | None, passed: str | None
) -> None:
    seen: dict[str, Any] = {}

    async def list_tips(session: Any, **filters: Any) -> list[Tip]:
        seen.update(filters)
        return []

    monkeypatch.setattr(repository, "list_tips", list_tips)
    ctx, _ = context(OFFICER)
    filters = {"status": None, "ward_code": None, "priority": None, "overdue": None}
    await tips.list_tips(ctx, **filters, due_soon=None, after=None, limit=5, assignee=asked)
    assert seen["assignee"] == passed


class Unreachable:
    async def person(self, sub: str) -> None:
        raise DependencyUnavailable("the identity provider is down")


async def test_a_directory_that_cannot_be_reached_is_503_and_nothing_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tip = a_tip()
    stored(monkeypatch, tip)
    ctx, platform = context(OFFICER)
    with pytest.raises(ServiceUnavailable, match="directory of officers"):
        await assignment.assign(ctx, tip.id, "hn-officer", Unreachable(), "tip assignment", None)  # type: ignore[arg-type]
    assert (tip.assignee, platform.outbox.events) == (None, [])
