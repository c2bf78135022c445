"""Intake's pure rules: the legal clock (Criminal Procedure Code Art. 147), the action table,
verification outcomes, overdue/due-soon boundaries and birth years."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from libs.common.schemas import VIETNAM
from services.intake import domain
from services.intake.domain import (
    TIP_LIFECYCLE,
    VERIFICATION_STATUS,
    ExtensionKind,
    MissingPersonStatus,
    RuleViolation,
    TipAction,
    TipClock,
    TipStatus,
    VerificationOutcome,
    birth_year,
    check_resolvable,
    extend,
    is_due_soon,
    is_overdue,
    resolution_due_at,
    watched_clocks,
)

RECEIVED = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
LAST_DAY = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)
COMPLEX = ExtensionKind.complex_case
PROCURACY = ExtensionKind.procuracy


# The legal clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "extensions", "due"),
    [
        (RECEIVED, [], RECEIVED + timedelta(days=20)),
        (RECEIVED, [COMPLEX], datetime(2026, 3, 10, 9, 30, tzinfo=UTC)),
        (RECEIVED, [PROCURACY], datetime(2026, 3, 30, 9, 30, tzinfo=UTC)),
        (RECEIVED, [COMPLEX, PROCURACY], datetime(2026, 5, 10, 9, 30, tzinfo=UTC)),
        (RECEIVED, [PROCURACY, COMPLEX], datetime(2026, 5, 10, 9, 30, tzinfo=UTC)),
        # Calendar months, not 60 days: 31 December + 2 months is the end of February.
        (
            datetime(2025, 12, 31, tzinfo=UTC),
            [COMPLEX],
            datetime(2026, 2, 28, tzinfo=UTC),
        ),
        # Months of Hà Nội's calendar: 05:00 on 31 December there is 22:00 on the 30th in UTC,
        # and its 2 months end on 28 February at 05:00 (+07), not on 1 March.
        (
            datetime(2026, 12, 30, 22, tzinfo=UTC),
            [COMPLEX],
            datetime(2027, 2, 27, 22, tzinfo=UTC),
        ),
        (
            datetime(2026, 12, 30, 22, tzinfo=UTC),
            [PROCURACY],
            datetime(2027, 3, 19, 22, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 31, 16, 30, tzinfo=UTC),  # 23:30 on 31 January in Hà Nội
            [COMPLEX],
            datetime(2026, 3, 31, 16, 30, tzinfo=UTC),
        ),
    ],
    ids=[
        "20-days",
        "complex",
        "procuracy-on-20-days",
        "procuracy-on-complex",
        "order",
        "eom",
        "eom-in-hanoi",
        "procuracy-in-hanoi",
        "eom-late-evening",
    ],
)
def test_resolution_due_at_follows_article_147(
    received: datetime, extensions: list[ExtensionKind], due: datetime
) -> None:
    computed = resolution_due_at(received, extensions)
    assert computed == due
    assert computed.utcoffset() == timedelta(0), "given in UTC, answered in UTC"


def test_a_deadline_computed_from_a_local_time_keeps_its_zone() -> None:
    received = datetime(2026, 12, 31, 5, tzinfo=VIETNAM)
    due = resolution_due_at(received, [COMPLEX])
    assert due == datetime(2027, 2, 28, 5, tzinfo=VIETNAM)
    assert due.tzinfo is VIETNAM


@pytest.mark.parametrize(
    ("granted", "clocks"),
    [
        (
            [],
            {
                TipClock.resolution: LAST_DAY,
                TipClock.extension_request: LAST_DAY - timedelta(days=5),
            },
        ),
        (
            [COMPLEX],
            {TipClock.resolution: LAST_DAY, TipClock.extension_request: LAST_DAY - timedelta(5)},
        ),
        ([PROCURACY], {TipClock.resolution: LAST_DAY}),
        ([COMPLEX, PROCURACY], {TipClock.resolution: LAST_DAY}),
    ],
    ids=["filed", "complex-period", "procuracy-extended", "both"],
)
def test_the_watched_clocks_of_a_tip(
    granted: list[ExtensionKind], clocks: dict[TipClock, datetime]
) -> None:
    """The last day to ask for the procuracy's extension is watched until it is granted."""
    assert watched_clocks(LAST_DAY, granted) == clocks
    assert [c.value for c in clocks] == ["resolution", "extension_request"][: len(clocks)]


@pytest.mark.parametrize(
    ("kind", "granted", "current_due", "new_due"),
    [
        (COMPLEX, [], RECEIVED + timedelta(days=20), RECEIVED + relativedelta(months=2)),
        (
            PROCURACY,
            [],
            RECEIVED + timedelta(days=20),
            RECEIVED + timedelta(days=20) + relativedelta(months=2),
        ),
        (
            PROCURACY,
            [COMPLEX],
            RECEIVED + relativedelta(months=2),
            RECEIVED + relativedelta(months=4),
        ),
    ],
    ids=["complex", "procuracy-on-20-days", "procuracy-on-complex"],
)
def test_an_extension_moves_the_deadline(
    kind: ExtensionKind, granted: list[ExtensionKind], current_due: datetime, new_due: datetime
) -> None:
    extension = extend(
        kind=kind, received_at=RECEIVED, granted=granted, current_due_at=current_due, now=RECEIVED
    )
    assert extension.kind is kind
    assert extension.new_due_at == new_due


def test_an_extension_requested_exactly_5_days_before_the_deadline_is_granted() -> None:
    due = RECEIVED + timedelta(days=20)
    extension = extend(
        kind=COMPLEX, received_at=RECEIVED, granted=[], current_due_at=due, now=due - timedelta(5)
    )
    assert extension.new_due_at == RECEIVED + relativedelta(months=2)


@pytest.mark.parametrize(
    ("kind", "granted", "current_due", "now", "rule"),
    [
        (
            COMPLEX,
            [],
            RECEIVED + timedelta(days=20),
            RECEIVED + timedelta(days=15, seconds=1),
            "at least 5 days before the deadline",
        ),
        (
            PROCURACY,
            [COMPLEX],
            RECEIVED + relativedelta(months=2),
            RECEIVED + relativedelta(months=2) - timedelta(days=1),
            "Art. 147(3)",
        ),
        (
            COMPLEX,
            [],
            RECEIVED + timedelta(days=20),
            RECEIVED + timedelta(days=25),
            "at least 5 days before the deadline",
        ),
        (
            COMPLEX,
            [COMPLEX],
            RECEIVED + relativedelta(months=2),
            RECEIVED,
            "already granted",
        ),
        (
            PROCURACY,
            [PROCURACY],
            RECEIVED + timedelta(days=20) + relativedelta(months=2),
            RECEIVED,
            "already granted",
        ),
        (
            COMPLEX,
            [PROCURACY],
            RECEIVED + timedelta(days=20) + relativedelta(months=2),
            RECEIVED,
            "cannot follow the procuracy",
        ),
        (
            COMPLEX,
            [],
            RECEIVED + relativedelta(months=3),
            RECEIVED,
            "would not move the deadline",
        ),
        (
            COMPLEX,
            [],
            RECEIVED + relativedelta(months=2),
            RECEIVED,
            "would not move the deadline",
        ),
    ],
    ids=[
        "late-by-a-second",
        "late-procuracy",
        "after-the-deadline",
        "complex-twice",
        "procuracy-twice",
        "complex-after-procuracy",
        "no-effect",
        "same-deadline",
    ],
)
def test_an_extension_the_law_does_not_allow_is_refused_naming_the_rule(
    kind: ExtensionKind,
    granted: list[ExtensionKind],
    current_due: datetime,
    now: datetime,
    rule: str,
) -> None:
    with pytest.raises(RuleViolation) as refused:
        extend(
            kind=kind, received_at=RECEIVED, granted=granted, current_due_at=current_due, now=now
        )
    assert rule in refused.value.reason


LATE = "an extension must be requested at least 5 days before the deadline"


@pytest.mark.parametrize(
    ("kind", "granted", "current_due", "now", "reason"),
    [
        (
            COMPLEX,
            [],
            datetime(2026, 1, 30, 9, 30, tzinfo=UTC),
            datetime(2026, 1, 26, tzinfo=UTC),
            f"{LATE} (due 2026-01-30T09:30:00+00:00, Criminal Procedure Code Art. 147(3))",
        ),
        (
            COMPLEX,
            [COMPLEX],
            RECEIVED + relativedelta(months=2),
            RECEIVED,
            "the complex_case extension was already granted; the law allows one",
        ),
        (
            PROCURACY,
            [PROCURACY],
            RECEIVED + timedelta(days=20) + relativedelta(months=2),
            RECEIVED,
            "the procuracy extension was already granted; the law allows one",
        ),
        (
            COMPLEX,
            [PROCURACY],
            RECEIVED + timedelta(days=20) + relativedelta(months=2),
            RECEIVED,
            "a complex-case period cannot follow the procuracy's extension",
        ),
        (
            COMPLEX,
            [],
            RECEIVED + relativedelta(months=3),
            RECEIVED,
            "this extension would not move the deadline",
        ),
    ],
    ids=["late", "complex-twice", "procuracy-twice", "complex-after-procuracy", "no-effect"],
)
def test_a_refused_extension_gives_the_officer_the_whole_reason(
    kind: ExtensionKind,
    granted: list[ExtensionKind],
    current_due: datetime,
    now: datetime,
    reason: str,
) -> None:
    """The reason is shown to the officer as it is (409 detail): no part of it may go missing."""
    with pytest.raises(RuleViolation) as refused:
        extend(
            kind=kind, received_at=RECEIVED, granted=granted, current_due_at=current_due, now=now
        )
    assert refused.value.reason == reason
    assert str(refused.value) == reason


# Actions by status -------------------------------------------------------------------------------

EXPECTED_ACTIONS: dict[TipStatus, set[TipAction]] = {
    TipStatus.received: {
        TipAction.classify,
        TipAction.extend,
        TipAction.message_reporter,
        TipAction.reporter_message,
        TipAction.attach_file,
        TipAction.assign,
    },
    TipStatus.triaged: {
        TipAction.classify,
        TipAction.verify,
        TipAction.extend,
        TipAction.message_reporter,
        TipAction.reporter_message,
        TipAction.attach_file,
        TipAction.assign,
    },
    TipStatus.verified: {
        TipAction.message_reporter,
        TipAction.reporter_message,
        TipAction.attach_file,
    },
    TipStatus.closed: {TipAction.message_reporter},
}


def test_the_lifecycle_covers_every_status() -> None:
    assert {status for status, _ in TIP_LIFECYCLE.transitions} == set(TipStatus)


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s, a in itertools.product(TipStatus, TipAction) if a in EXPECTED_ACTIONS[s]],
)
def test_an_allowed_action_passes(status: TipStatus, action: TipAction) -> None:
    TIP_LIFECYCLE.step(status, action)


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s, a in itertools.product(TipStatus, TipAction) if a not in EXPECTED_ACTIONS[s]],
)
def test_a_refused_action_lists_the_allowed_ones(status: TipStatus, action: TipAction) -> None:
    with pytest.raises(RuleViolation) as refused:
        TIP_LIFECYCLE.step(status, action)
    assert refused.value.allowed == sorted(a.value for a in EXPECTED_ACTIONS[status])
    assert status.value in refused.value.reason and action.value in refused.value.reason


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        (TipStatus.received, TipAction.classify, TipStatus.triaged),
        (TipStatus.triaged, TipAction.classify, TipStatus.triaged),
        (TipStatus.triaged, TipAction.verify, TipStatus.verified),
        (TipStatus.received, TipAction.extend, TipStatus.received),
        (TipStatus.closed, TipAction.message_reporter, TipStatus.closed),
    ],
)
def test_a_transition_names_its_target(
    status: TipStatus, action: TipAction, target: TipStatus
) -> None:
    assert TIP_LIFECYCLE.step(status, action).to is target


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (VerificationOutcome.substantiated, TipStatus.verified),
        (VerificationOutcome.unsubstantiated, TipStatus.closed),
        (VerificationOutcome.referred, TipStatus.closed),
        (VerificationOutcome.duplicate, TipStatus.closed),
    ],
)
def test_a_verification_outcome_sets_the_status(
    outcome: VerificationOutcome, status: TipStatus
) -> None:
    assert VERIFICATION_STATUS[outcome] is status


def test_every_verification_outcome_has_a_status() -> None:
    assert set(VERIFICATION_STATUS) == set(VerificationOutcome)


# Overdue and due soon ----------------------------------------------------------------------------

DUE = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("now", "overdue", "due_soon"),
    [
        (DUE - timedelta(days=5) - SECOND, False, False),
        (DUE - timedelta(days=5), False, True),
        (DUE - SECOND, False, True),
        (DUE, False, True),
        (DUE + SECOND, True, False),
        (DUE + timedelta(days=30), True, False),
    ],
    ids=["5-days-and-a-second-before", "5-days-before", "a-second-before", "at", "after", "late"],
)
@pytest.mark.parametrize("status", sorted(TipStatus))
def test_overdue_and_due_soon_boundaries_for_open_tips_only(
    status: TipStatus, now: datetime, overdue: bool, due_soon: bool
) -> None:
    is_open = status in (TipStatus.received, TipStatus.triaged)
    assert is_overdue(status, DUE, now) is (overdue and is_open)
    assert is_due_soon(status, DUE, now) is (due_soon and is_open)


# Missing persons and birth years -----------------------------------------------------------------


def test_an_open_missing_person_report_can_be_resolved() -> None:
    check_resolvable(MissingPersonStatus.open)


def test_a_resolved_missing_person_report_cannot_be_resolved_again() -> None:
    with pytest.raises(RuleViolation, match=r"^the report is already resolved$") as refused:
        check_resolvable(MissingPersonStatus.resolved)
    assert refused.value.allowed == []


AT = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("date_of_birth", "age", "year"),
    [
        (date(2008, 12, 31), None, 2008),
        (None, 17, 2009),
        (None, 0, 2026),
        (date(2008, 12, 31), 30, 2008),
        (None, None, None),
    ],
    ids=["date", "age", "newborn", "date-wins", "unknown"],
)
def test_birth_year_from_a_date_of_birth_or_an_age(
    date_of_birth: date | None, age: int | None, year: int | None
) -> None:
    assert birth_year(date_of_birth, age, AT) == year


# The review of a missing-person report before partners are alerted ------------------------------


@pytest.mark.parametrize(
    ("publication", "decision", "after"),
    [
        (domain.Publication.pending, domain.ReviewDecision.publish, domain.Publication.published),
        (domain.Publication.pending, domain.ReviewDecision.hold, domain.Publication.held),
        (domain.Publication.held, domain.ReviewDecision.publish, domain.Publication.published),
        (domain.Publication.held, domain.ReviewDecision.hold, domain.Publication.held),
    ],
)
def test_an_open_unpublished_report_is_published_or_held(
    publication: domain.Publication,
    decision: domain.ReviewDecision,
    after: domain.Publication,
) -> None:
    assert domain.review(domain.MissingPersonStatus.open, publication, decision) is after


@pytest.mark.parametrize("decision", list(domain.ReviewDecision))
def test_a_published_report_cannot_be_reviewed_again(decision: domain.ReviewDecision) -> None:
    with pytest.raises(
        domain.RuleViolation, match=r"^the report is already published; partners were alerted$"
    ) as refused:
        domain.review(domain.MissingPersonStatus.open, domain.Publication.published, decision)
    assert refused.value.allowed == []


@pytest.mark.parametrize("publication", list(domain.Publication))
def test_a_resolved_report_is_reviewed_no_more(publication: domain.Publication) -> None:
    with pytest.raises(
        domain.RuleViolation, match=r"^the report is resolved; it is no longer reviewed$"
    ) as refused:
        domain.review(
            domain.MissingPersonStatus.resolved, publication, domain.ReviewDecision.publish
        )
    assert refused.value.allowed == []
