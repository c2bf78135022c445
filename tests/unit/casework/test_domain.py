"""Casework's pure rules: the case state machine (DESIGN.md section 6), who may take each step,
the Penal Code article, verdicts, reopening and stage deadlines.

The expected table is written out here, independently of ``TRANSITIONS``, so that a change to
the machine shows up as a failing test rather than as a silently different contract.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from services.casework.domain import (
    OPEN_STATUSES,
    TRANSITIONS,
    CaseAction,
    CaseStatus,
    RuleViolation,
    StageRules,
    VerdictOutcome,
    age_on,
    allowed_actions,
    check_article,
    check_reopen,
    check_verdict,
    is_overdue,
    stage_due_at,
    transition,
)

S, A = CaseStatus, CaseAction
INVESTIGATOR, PROSECUTOR, CLERK = "investigator", "prosecutor", "court_clerk"
ACTING_ROLES = (INVESTIGATOR, PROSECUTOR, CLERK)

# (from, action) -> (to, event, the one role allowed)
EXPECTED: dict[tuple[CaseStatus, CaseAction], tuple[CaseStatus, str, str]] = {
    (S.open, A.initiate): (S.investigating, "initiated", INVESTIGATOR),
    (S.open, A.decline): (S.closed, "declined", INVESTIGATOR),
    (S.investigating, A.suspend): (S.suspended, "suspended", INVESTIGATOR),
    (S.investigating, A.indict): (S.indicted, "indicted", PROSECUTOR),
    (S.suspended, A.resume): (S.investigating, "resumed", INVESTIGATOR),
    (S.indicted, A.schedule_trial): (S.trial_scheduled, "trial_scheduled", CLERK),
    (S.trial_scheduled, A.schedule_trial): (S.trial_scheduled, "trial_scheduled", CLERK),
    (S.trial_scheduled, A.record_verdict): (S.adjudicated, "adjudicated", CLERK),
    (S.adjudicated, A.reopen_investigation): (S.investigating, "resumed", INVESTIGATOR),
    (S.adjudicated, A.close): (S.closed, "closed", CLERK),
}
REFUSED = [pair for pair in itertools.product(S, A) if pair not in EXPECTED]
CASE_EVENTS = {
    "initiated",
    "declined",
    "suspended",
    "resumed",
    "indicted",
    "trial_scheduled",
    "adjudicated",
    "closed",
}


def _allowed_from(status: CaseStatus) -> list[str]:
    return sorted(a.value for (s, a) in EXPECTED if s is status)


def _id(pair: tuple[CaseStatus, CaseAction]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


# The state machine -------------------------------------------------------------------------------


def test_the_table_holds_exactly_the_expected_transitions() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("pair", list(EXPECTED), ids=_id)
def test_an_allowed_action_leads_to_its_status_with_its_event(
    pair: tuple[CaseStatus, CaseAction],
) -> None:
    status, action = pair
    to, event, role = EXPECTED[pair]

    step = transition(status, action, frozenset({role}))

    assert (step.to, step.event, step.roles) == (to, event, frozenset({role}))


@pytest.mark.parametrize("pair", list(EXPECTED), ids=_id)
def test_every_emitted_event_is_a_casework_contract_event(
    pair: tuple[CaseStatus, CaseAction],
) -> None:
    assert TRANSITIONS[pair].event in CASE_EVENTS


@pytest.mark.parametrize("pair", list(EXPECTED), ids=_id)
def test_an_allowed_action_explains_why(pair: tuple[CaseStatus, CaseAction]) -> None:
    assert TRANSITIONS[pair].why.strip()


@pytest.mark.parametrize("pair", REFUSED, ids=_id)
def test_an_action_not_allowed_from_a_status_lists_the_allowed_ones(
    pair: tuple[CaseStatus, CaseAction],
) -> None:
    status, action = pair

    with pytest.raises(RuleViolation) as refused:
        transition(status, action, frozenset(ACTING_ROLES))

    assert refused.value.allowed == _allowed_from(status)


@pytest.mark.parametrize(
    ("pair", "role"),
    [
        (pair, role)
        for pair, (_, _, right) in EXPECTED.items()
        for role in ACTING_ROLES
        if role != right
    ]
    + [(pair, other) for pair in EXPECTED for other in ("supervisor", "intake_officer", "admin")],
    ids=lambda v: _id(v) if isinstance(v, tuple) else v,
)
def test_an_allowed_action_taken_by_the_wrong_role_is_not_permitted(
    pair: tuple[CaseStatus, CaseAction], role: str
) -> None:
    with pytest.raises(PermissionError):
        transition(pair[0], pair[1], frozenset({role}))


def test_a_caller_with_no_roles_is_not_permitted() -> None:
    with pytest.raises(PermissionError):
        transition(S.open, A.initiate, frozenset())


def test_one_matching_role_among_several_is_enough() -> None:
    step = transition(S.investigating, A.indict, frozenset({"supervisor", PROSECUTOR}))
    assert step.to is S.indicted


@pytest.mark.parametrize("status", list(S), ids=str)
def test_allowed_actions_lists_the_table_for_each_status(status: CaseStatus) -> None:
    assert allowed_actions(status) == _allowed_from(status)


def test_a_closed_case_allows_nothing() -> None:
    assert allowed_actions(S.closed) == []


def test_every_status_but_closed_is_open() -> None:
    assert set(S) - OPEN_STATUSES == {S.closed}


def test_a_refusal_names_the_status_and_the_action() -> None:
    with pytest.raises(RuleViolation, match=r"closed.*initiate"):
        transition(S.closed, A.initiate, frozenset({INVESTIGATOR}))


# Penal Code article ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ages", "article", "accepted"),
    [
        ([], 150, True),
        ([], 151, False),
        ([17], 150, True),
        ([17], 151, False),
        ([15], 150, False),
        ([15], 151, True),
        ([None], 150, True),
        ([None], 151, False),
        ([15, 30], 150, False),
        ([15, 30], 151, True),
        ([16], 150, True),
        ([16], 151, False),
        ([0], 151, True),
        ([None, 15], 151, True),
    ],
)
def test_article_151_applies_exactly_when_a_victim_is_under_16(
    ages: list[int | None], article: int, accepted: bool
) -> None:
    if accepted:
        check_article(article, ages)
    else:
        with pytest.raises(RuleViolation):
            check_article(article, ages)


@pytest.mark.parametrize("article", [0, 149, 152, -150, 1500])
def test_an_article_other_than_150_or_151_is_refused(article: int) -> None:
    with pytest.raises(RuleViolation, match="150 or 151"):
        check_article(article, [30])


# Verdicts ----------------------------------------------------------------------------------------

P1, P2, P3 = "party-1", "party-2", "party-3"


@pytest.mark.parametrize(
    ("outcome", "sentenced", "defendants", "accepted"),
    [
        (VerdictOutcome.convicted, {P1}, {P1, P2}, True),
        (VerdictOutcome.convicted, {P1, P2}, {P1, P2}, True),
        (VerdictOutcome.convicted, set(), {P1}, False),
        (VerdictOutcome.convicted, {P3}, {P1, P2}, False),
        (VerdictOutcome.convicted, {P1, P3}, {P1, P2}, False),
        (VerdictOutcome.acquitted, set(), {P1}, True),
        (VerdictOutcome.acquitted, {P1}, {P1}, False),
        (VerdictOutcome.returned_for_investigation, set(), {P1}, True),
        (VerdictOutcome.returned_for_investigation, {P1}, {P1}, False),
    ],
)
def test_a_verdict_sentences_only_indicted_defendants_and_only_on_conviction(
    outcome: VerdictOutcome, sentenced: set[str], defendants: set[str], accepted: bool
) -> None:
    if accepted:
        check_verdict(outcome, sentenced, defendants)
    else:
        with pytest.raises(RuleViolation):
            check_verdict(outcome, sentenced, defendants)


@pytest.mark.parametrize(
    ("last_verdict", "accepted"),
    [
        ("returned_for_investigation", True),
        ("convicted", False),
        ("acquitted", False),
        (None, False),
        ("", False),
    ],
)
def test_only_a_file_returned_for_investigation_can_be_reopened(
    last_verdict: str | None, accepted: bool
) -> None:
    if accepted:
        check_reopen(last_verdict)
    else:
        with pytest.raises(RuleViolation):
            check_reopen(last_verdict)


# Ages --------------------------------------------------------------------------------------------

RECORDED = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("born", "age", "recorded_at", "on", "expected"),
    [
        (date(2010, 6, 15), None, None, date(2026, 6, 14), 15),
        (date(2010, 6, 15), None, None, date(2026, 6, 15), 16),
        (date(2010, 6, 15), 40, RECORDED, date(2026, 6, 15), 16),
        (date(2008, 2, 29), None, None, date(2026, 2, 28), 17),
        (date(2008, 2, 29), None, None, date(2026, 3, 1), 18),
        (None, 15, RECORDED, date(2024, 3, 1), 15),
        (None, 15, RECORDED, date(2025, 2, 28), 15),
        (None, 15, RECORDED, date(2026, 3, 1), 17),
        (None, 15, RECORDED, date(2020, 1, 1), 15),
        (None, 15, None, date(2030, 1, 1), 15),
        (None, None, RECORDED, date(2026, 1, 1), None),
        (None, None, None, date(2026, 1, 1), None),
    ],
    ids=[
        "day-before-birthday",
        "on-birthday",
        "date-of-birth-wins-over-age",
        "leap-day-born-before-birthday",
        "leap-day-born-after-birthday",
        "age-on-the-day-recorded",
        "age-before-a-full-year",
        "age-two-years-later",
        "age-not-lowered-before-recording",
        "age-without-recording-time",
        "nothing-known-with-time",
        "nothing-known",
    ],
)
def test_age_on_a_day(
    born: date | None, age: int | None, recorded_at: datetime | None, on: date, expected: int | None
) -> None:
    assert age_on(born, age, recorded_at, on) == expected


# Stage deadlines ---------------------------------------------------------------------------------

ENTERED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
TRIAL = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
DEFAULT = StageRules()
CUSTOM = StageRules(investigation=relativedelta(months=6), trial_preparation=relativedelta(days=45))


@pytest.mark.parametrize(
    ("status", "rules", "expected"),
    [
        (S.investigating, DEFAULT, datetime(2026, 5, 31, 10, 0, tzinfo=UTC)),
        (S.indicted, DEFAULT, datetime(2026, 3, 31, 10, 0, tzinfo=UTC)),
        (S.trial_scheduled, DEFAULT, TRIAL),
        (S.open, DEFAULT, None),
        (S.suspended, DEFAULT, None),
        (S.adjudicated, DEFAULT, None),
        (S.closed, DEFAULT, None),
        (S.investigating, CUSTOM, datetime(2026, 7, 31, 10, 0, tzinfo=UTC)),
        (S.indicted, CUSTOM, ENTERED + timedelta(days=45)),
        (S.trial_scheduled, CUSTOM, TRIAL),
        (S.open, CUSTOM, None),
        (S.suspended, CUSTOM, None),
        (S.adjudicated, CUSTOM, None),
        (S.closed, CUSTOM, None),
    ],
    ids=lambda v: v.value if isinstance(v, CaseStatus) else None,
)
def test_stage_due_at_per_status(
    status: CaseStatus, rules: StageRules, expected: datetime | None
) -> None:
    assert stage_due_at(status, ENTERED, rules, TRIAL) == expected


def test_the_default_rules_are_four_months_of_investigation_and_two_of_trial_preparation() -> None:
    assert (DEFAULT.investigation, DEFAULT.trial_preparation) == (
        relativedelta(months=4),
        relativedelta(months=2),
    )


def test_a_month_end_start_clips_to_the_last_day_of_a_shorter_month() -> None:
    due = stage_due_at(S.indicted, datetime(2026, 12, 31, tzinfo=UTC), DEFAULT, None)
    assert due == datetime(2027, 2, 28, tzinfo=UTC)


def test_a_trial_stage_without_a_date_has_no_deadline() -> None:
    assert stage_due_at(S.trial_scheduled, ENTERED, DEFAULT, None) is None


DUE = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "now", "expected"),
    [
        (None, DUE, False),
        (DUE, DUE - timedelta(seconds=1), False),
        (DUE, DUE, False),
        (DUE, DUE + timedelta(seconds=1), True),
        (DUE, DUE + timedelta(days=400), True),
    ],
    ids=["no-deadline", "before", "at-the-deadline", "just-after", "long-after"],
)
def test_is_overdue_only_strictly_after_the_deadline(
    due: datetime | None, now: datetime, expected: bool
) -> None:
    assert is_overdue(due, now) is expected
