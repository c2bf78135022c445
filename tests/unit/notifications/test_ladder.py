"""The ladder of escalation as a table: who is told of what, and where the directory's answers
come in (a seeded directory: nothing running)."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.directory import SeededDirectory
from libs.contracts.deadlines import Jurisdiction
from services.notifications import domain
from services.notifications.domain import Audience, Kind
from services.notifications.inbox import recipients

WARD, OTHER_WARD = "00256", "00277"  # both of province 01
FAR = "79"

PEOPLE: list[dict[str, Any]] = [
    {"sub": "io-ward", "roles": ["intake_officer"], "jurisdiction": [WARD]},
    {"sub": "io-province", "roles": ["intake_officer"], "jurisdiction": ["01"]},
    {"sub": "io-other-ward", "roles": ["intake_officer"], "jurisdiction": [OTHER_WARD]},
    {"sub": "io-far", "roles": ["intake_officer"], "jurisdiction": [FAR]},
    {"sub": "io-gone", "roles": ["intake_officer"], "jurisdiction": ["01"], "enabled": False},
    {"sub": "inv-province", "roles": ["investigator"], "jurisdiction": ["01"]},
    {"sub": "sw-ward", "roles": ["social_worker"], "jurisdiction": [WARD]},
    {"sub": "sup-province", "roles": ["supervisor"], "jurisdiction": ["01"]},
    {"sub": "sup-ward", "roles": ["supervisor"], "jurisdiction": [WARD]},
    {"sub": "sup-far", "roles": ["supervisor"], "jurisdiction": [FAR]},
    {"sub": "steering", "roles": ["supervisor"], "jurisdiction": ["01"],
     "groups": ["steering_committee"]},
]  # fmt: skip
DIRECTORY = SeededDirectory.of(PEOPLE)
HERE = Jurisdiction(ward_code=WARD, province_code="01")
OFFICERS_OF_TIPS_HERE = ["io-province", "io-ward"]  # the directory's stable order (by sub)
SUPERVISORS_HERE = ["steering", "sup-province", "sup-ward"]


@pytest.mark.parametrize(
    ("kind", "record_type", "assignee", "expected"),
    [
        # approaching: the assignee, else the officers of the record's type covering the ward
        (Kind.approaching, "tip", None, OFFICERS_OF_TIPS_HERE),
        (Kind.approaching, "tip", "io-ward", ["io-ward"]),
        (Kind.approaching, "case", None, ["inv-province"]),
        (Kind.approaching, "victim", None, ["sw-ward"]),
        # an assignee who left is no holder: the ward's officers are told
        (Kind.approaching, "tip", "io-gone", OFFICERS_OF_TIPS_HERE),
        (Kind.approaching, "tip", "nobody-we-know", OFFICERS_OF_TIPS_HERE),
        # missed: the same, and the supervisors covering the ward
        (Kind.missed, "tip", None, OFFICERS_OF_TIPS_HERE + SUPERVISORS_HERE),
        (Kind.missed, "tip", "io-ward", ["io-ward", *SUPERVISORS_HERE]),
        (Kind.missed, "case", None, ["inv-province", *SUPERVISORS_HERE]),
        (Kind.missed, "victim", "sw-ward", ["sw-ward", *SUPERVISORS_HERE]),
        # assigned: the assignee alone, and nobody when the directory does not know them
        (Kind.assigned, "tip", "io-ward", ["io-ward"]),
        (Kind.assigned, "case", "inv-province", ["inv-province"]),
        (Kind.assigned, "tip", "io-gone", []),
        (Kind.assigned, "tip", None, []),
    ],
)
async def test_the_ladder_names_who_must_know(
    kind: Kind, record_type: str, assignee: str | None, expected: list[str]
) -> None:
    ladder = domain.ladder_from()
    found = await recipients(DIRECTORY, ladder, kind, record_type, HERE, assignee)
    assert found == expected


async def test_a_record_without_a_ward_goes_to_its_province() -> None:
    where = Jurisdiction(ward_code=None, province_code="01")
    found = await recipients(DIRECTORY, domain.ladder_from(), Kind.missed, "tip", where, None)
    assert found == ["io-province", *["steering", "sup-province"]]


async def test_a_record_of_nowhere_tells_nobody() -> None:
    where = Jurisdiction(ward_code=None, province_code=None)
    assert await recipients(DIRECTORY, domain.ladder_from(), Kind.missed, "tip", where, None) == []


async def test_an_unknown_record_type_still_reaches_the_supervisors_when_missed() -> None:
    found = await recipients(DIRECTORY, domain.ladder_from(), Kind.missed, "ring", HERE, None)
    assert found == SUPERVISORS_HERE


async def test_the_ladder_is_reworded_by_settings() -> None:
    """A province that wants its supervisors told five days ahead, and cases worked by
    prosecutors."""
    ladder = domain.ladder_from(
        {"deadline.approaching": ["officers", "supervisors"]}, {"case": "prosecutor"}
    )
    found = await recipients(DIRECTORY, ladder, Kind.approaching, "tip", HERE, "io-ward")
    assert found == [*OFFICERS_OF_TIPS_HERE, *SUPERVISORS_HERE]
    assert ladder.officer_role("case") == "prosecutor"
    assert ladder.officer_role("tip") == "intake_officer"
    assert ladder.audiences(Kind.missed) == domain.LADDER[Kind.missed]


@pytest.mark.parametrize(
    ("rungs", "match"),
    [
        ({"deadline.soon": ["assignee"]}, "ladder: 'deadline.soon' is not a valid Kind"),
        ({"assigned": ["everyone"]}, "ladder: 'everyone' is not a valid Audience"),
    ],
)
def test_a_misworded_ladder_is_refused(rungs: dict[str, list[str]], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        domain.ladder_from(rungs)


@pytest.mark.parametrize(
    ("audiences", "assignee", "officers", "supervisors", "expected"),
    [
        ((Audience.assignee,), "a", ["o"], ["s"], ["a"]),
        ((Audience.assignee,), None, ["o"], ["s"], []),
        ((Audience.assignee_or_officers,), "a", ["o"], ["s"], ["a"]),
        ((Audience.assignee_or_officers,), None, ["o1", "o2"], ["s"], ["o1", "o2"]),
        ((Audience.officers,), "a", ["o"], ["s"], ["o"]),
        ((Audience.supervisors,), "a", ["o"], ["s"], ["s"]),
        # each person once, in the order of the rungs
        ((Audience.assignee, Audience.officers), "o", ["o", "p"], [], ["o", "p"]),
        ((Audience.officers, Audience.supervisors), None, ["x", "o"], ["x", "s"], ["x", "o", "s"]),
        ((), "a", ["o"], ["s"], []),
    ],
)
def test_recipients_follow_the_rungs(
    audiences: tuple[Audience, ...],
    assignee: str | None,
    officers: list[str],
    supervisors: list[str],
    expected: list[str],
) -> None:
    found = domain.recipients(
        audiences, assignee=assignee, officers=officers, supervisors=supervisors
    )
    assert found == expected


@pytest.mark.parametrize(
    ("audiences", "assignee", "officers", "supervisors"),
    [
        ((Audience.assignee_or_officers,), None, True, False),
        ((Audience.assignee_or_officers,), "a", False, False),
        ((Audience.officers,), "a", True, False),
        ((Audience.assignee,), None, False, False),
        ((Audience.assignee, Audience.supervisors), "a", False, True),
        ((Audience.assignee_or_officers, Audience.supervisors), None, True, True),
    ],
)
def test_the_directory_is_asked_only_for_what_the_rungs_need(
    audiences: tuple[Audience, ...], assignee: str | None, officers: bool, supervisors: bool
) -> None:
    assert domain.needs_officers(audiences, assignee) is officers
    assert domain.needs_supervisors(audiences) is supervisors


def test_the_default_ladder() -> None:
    assert dict(domain.LADDER) == {
        Kind.approaching: (Audience.assignee_or_officers,),
        Kind.missed: (Audience.assignee_or_officers, Audience.supervisors),
        Kind.assigned: (Audience.assignee,),
    }
    assert dict(domain.OFFICER_ROLES) == {
        "tip": "intake_officer",
        "case": "investigator",
        "victim": "social_worker",
    }


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("intake.deadline.approaching", Kind.approaching),
        ("casework.deadline.missed", Kind.missed),
        ("victim_support.deadline.approaching", Kind.approaching),
        ("intake.tip.assigned", Kind.assigned),
        ("casework.case.assigned", Kind.assigned),
    ],
)
def test_the_kind_of_each_event(event_type: str, kind: Kind) -> None:
    assert domain.kind_of(event_type) is kind


def test_an_event_of_another_kind_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"not an event notifications handle: intake\.tip\.received"
    ):
        domain.kind_of("intake.tip.received")


@pytest.mark.parametrize(
    ("record_type", "link"),
    [
        ("tip", "/intake/v1/tips/6f1c"),
        ("case", "/casework/v1/cases/6f1c"),
        ("victim", "/victim_support/v1/victims/6f1c"),
    ],
)
def test_a_notification_links_to_the_record_through_the_gateway(
    record_type: str, link: str
) -> None:
    assert domain.link_to(record_type, "6f1c") == link


def test_a_record_type_without_a_link_is_refused() -> None:
    with pytest.raises(ValueError, match="no link for a record of type 'ring'"):
        domain.link_to("ring", "6f1c")
