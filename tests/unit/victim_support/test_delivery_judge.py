"""The delivery batch's judge: per-item decisions from what the batch read, in memory."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.victim_support.delivery_batch import Judge, parse
from services.victim_support.models import Program
from services.victim_support.program_repository import Stored
from services.victim_support.repository import Person

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PROGRAM = Program(
    id=uuid.UUID(int=1),
    org="ngo-a",
    support_types=["medical", "schooling"],
    period_start=TODAY - timedelta(days=100),
    period_end=TODAY + timedelta(days=100),
)


def person(n: int, status: str = "identified", nationality: str = "VN") -> Person:
    return Person(
        id=uuid.UUID(int=100 + n),
        status=status,
        version=3,
        first_supported_at=None,
        source="rescued",
        ward_code="00004",
        province_code="01",
        nationality=nationality,
        is_minor=False,
        case_ids=[],
    )


def raw(vid: UUID | None, external_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": external_id,
        "type": "medical",
        "amount_vnd": 1000,
        "delivered_on": TODAY.isoformat(),
    }
    if vid is not None:
        body["victim_id"] = str(vid)
    return {**body, **overrides}


def judge(people: list[Person], **kwargs: Any) -> Judge:
    ids = itertools.count(1000)
    options: dict[str, Any] = {
        "by_ref": {},
        "enrolled": {p.id for p in people},
        "consent": {p.id: True for p in people},
        "people": {p.id: p for p in people},
        "seen": {},
        "now": NOW,
        "make_id": lambda: uuid.UUID(int=next(ids)),
        **kwargs,
    }
    return Judge(PROGRAM, **options)


def statuses(judged: Judge, items: list[Any]) -> list[tuple[str | None, str]]:
    verdict = judged.judge(*parse(items))
    return [(r.external_id, r.status) for r in verdict.results]


def test_a_person_s_deliveries_in_one_batch_step_the_person_one_after_the_other() -> None:
    a = person(1)
    verdict = judge([a]).judge(*parse([raw(a.id, "d-1"), raw(a.id, "d-2")]))
    assert [(x.before, x.after) for x in verdict.accepted] == [
        ("identified", "supported"),
        ("supported", "supported"),
    ]
    assert [x.event for x in verdict.accepted] == ["supported", "supported"]
    moved = verdict.people[a.id]
    assert (moved.status, moved.version, moved.first_supported_at) == ("supported", 5, NOW)
    assert [(r.status, r.version) for r in verdict.results] == [("created", 1), ("created", 1)]


def test_an_external_id_twice_in_a_batch_is_a_duplicate_or_a_conflict_of_the_first() -> None:
    a, b = person(1), person(2)
    verdict = judge([a, b]).judge(
        *parse([raw(a.id, "d-1"), raw(a.id, "d-1"), raw(b.id, "d-1", amount_vnd=5)])
    )
    assert [r.status for r in verdict.results] == ["created", "duplicate", "conflict"]
    assert {r.support_id for r in verdict.results} == {verdict.accepted[0].support_id}
    assert [e["field"] for e in verdict.results[2].errors] == ["victim_id", "amount_vnd"]
    assert len(verdict.accepted) == 1


def test_a_delivery_recorded_before_is_answered_with_what_is_stored() -> None:
    a = person(1)
    stored = Stored(uuid.UUID(int=9), a.id, "medical", 1000, TODAY, 2)
    verdict = judge([a], seen={"d-1": stored}).judge(
        *parse([raw(a.id, "d-1"), raw(a.id, "d-1", type="schooling")])
    )
    assert [(r.status, r.support_id, r.version) for r in verdict.results] == [
        ("duplicate", stored.support_id, 2),
        ("conflict", stored.support_id, 2),
    ]
    assert verdict.accepted == [] and verdict.people == {}


def test_refusals_name_the_field_and_the_reason() -> None:
    a, withdrawn, presumed = person(1), person(2), person(3, status="under_verification")
    outsider = uuid.UUID(int=77)
    judged = judge(
        [a, withdrawn, presumed],
        consent={a.id: True, withdrawn.id: False, presumed.id: True},
        by_ref={"ref-a": a.id},
    )
    verdict = judged.judge(
        *parse(
            [
                raw(outsider, "x-1"),
                raw(withdrawn.id, "x-2"),
                raw(None, "x-3", person_external_id="ref-unknown"),
                raw(a.id, "x-4", type="loan"),
                raw(a.id, "x-5", delivered_on=date(2000, 1, 1).isoformat()),
                raw(presumed.id, "x-6", type="schooling"),
                raw(None, "x-7", person_external_id="ref-a"),
                {"external_id": "x-8"},
            ]
        )
    )
    assert [(r.status, r.errors[0]["field"]) for r in verdict.results[:6]] == [
        ("rejected", "victim_id"),
        ("rejected", "victim_id"),
        ("rejected", "person_external_id"),
        ("rejected", "type"),
        ("rejected", "delivered_on"),
        ("rejected", "type"),
    ]
    assert "withdrawn" in verdict.results[1].errors[0]["message"]
    assert "Art. 37" in verdict.results[5].errors[0]["message"]
    assert verdict.results[6].status == "created"
    assert verdict.results[7].status == "rejected"
    assert [x.person.id for x in verdict.accepted] == [a.id]


def test_an_enrolled_consenting_person_not_locked_is_refused_not_written() -> None:
    """Consent given between the unlocked read and the lock: the batch did not lock them."""
    a = person(1)
    judged = judge([], enrolled={a.id}, consent={a.id: True})
    assert statuses(judged, [raw(a.id, "d-1")]) == [("d-1", "rejected")]


def test_judging_again_after_learning_what_another_request_stored_starts_afresh() -> None:
    """A batch that lost ``d-1`` to a racing request judges again: ``d-1`` becomes a conflict
    and the person's next delivery takes the step the lost one had taken."""
    a, b = person(1), person(2)
    judged = judge([a])
    items = parse([raw(a.id, "d-1"), raw(a.id, "d-2")])
    first = judged.judge(*items)
    assert [x.before for x in first.accepted] == ["identified", "supported"]
    judged.learn({"d-1": Stored(uuid.UUID(int=9), b.id, "medical", 1000, TODAY, 1)})
    again = judged.judge(*items)
    assert [r.status for r in again.results] == ["conflict", "created"]
    assert [(x.item.external_id, x.before) for x in again.accepted] == [("d-2", "identified")]
    assert again.people[a.id].version == 4
    assert a.version == 3 and a.status == "identified"  # what was read is left as it was
