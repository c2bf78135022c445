"""Casework's pure rules: the case state machine, who may take each step, the Penal Code article,
verdicts, reopening and stage deadlines.

The expected table is written out here in the contract's own wire values, independently of
``CASES`` and of the enums, so that a change to the machine shows up as a failing test rather than
as a silently different contract. Refusals are pinned to their exact reason: the API shows it to
people as it is.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from libs.common.statemachine import RuleViolation, Transition
from services.casework.domain import (
    CASES,
    OPEN_STATUSES,
    CaseAction,
    CaseStatus,
    PartyRole,
    StageRules,
    TrialType,
    VerdictOutcome,
    age_on,
    check_article,
    check_reopen,
    check_verdict,
    is_overdue,
    stage_due_at,
    watched_deadline,
)

S, A = CaseStatus, CaseAction
INVESTIGATOR, PROSECUTOR, CLERK = "investigator", "prosecutor", "court_clerk"
ACTING_ROLES = (INVESTIGATOR, PROSECUTOR, CLERK)

# The law as the contract states it: (from, action) -> (to, event, the one role allowed), in
# wire values. Where the contract names no role, the Criminal Procedure Code 2015 says who
# decides.
LAW: dict[tuple[str, str], tuple[str, str, str]] = {
    # contract: open -initiate (investigator)-> investigating; CPC Art. 154
    ("open", "initiate"): ("investigating", "initiated", INVESTIGATOR),
    # contract: open -decline-> closed; the investigating body decides not to (CPC Art. 157-158)
    ("open", "decline"): ("closed", "declined", INVESTIGATOR),
    # contract: investigating -suspend-> suspended; the investigating body (CPC Art. 229)
    ("investigating", "suspend"): ("suspended", "suspended", INVESTIGATOR),
    # contract: investigating -indict (prosecutor)-> indicted; the procuracy (CPC Art. 243)
    ("investigating", "indict"): ("indicted", "indicted", PROSECUTOR),
    # contract: suspended -resume-> investigating; the investigating body (CPC Art. 237)
    ("suspended", "resume"): ("investigating", "resumed", INVESTIGATOR),
    # contract: indicted -schedule_trial (court_clerk)-> trial_scheduled; the court (CPC Art. 255)
    ("indicted", "schedule_trial"): ("trial_scheduled", "trial_scheduled", CLERK),
    # a postponed hearing is scheduled again by the court (CPC Art. 297)
    ("trial_scheduled", "schedule_trial"): ("trial_scheduled", "trial_scheduled", CLERK),
    # contract: trial_scheduled -record_verdict (court_clerk)-> adjudicated
    ("trial_scheduled", "record_verdict"): ("adjudicated", "adjudicated", CLERK),
    # a file the court returns for additional investigation goes back to the investigating body
    # (CPC Art. 280); the contract has no event of its own for it, so it is a resumption
    ("adjudicated", "reopen_investigation"): ("investigating", "resumed", INVESTIGATOR),
    # contract: adjudicated -close-> closed; the court archives its final judgment
    ("adjudicated", "close"): ("closed", "closed", CLERK),
}
EXPECTED: dict[tuple[CaseStatus, CaseAction], tuple[CaseStatus, str, str]] = {
    (S(status), A(action)): (S(to), event, role)
    for (status, action), (to, event, role) in LAW.items()
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


def _exactly(reason: str) -> str:
    """A ``match=`` pattern for this reason and nothing more or less."""
    return f"^{re.escape(reason)}$"


# The state machine -------------------------------------------------------------------------------


def test_the_statuses_are_the_contracts() -> None:
    assert {s.value for s in S} == {
        "open",
        "investigating",
        "suspended",
        "indicted",
        "trial_scheduled",
        "adjudicated",
        "closed",
    }


def test_the_actions_are_the_contracts() -> None:
    assert {a.value for a in A} == {
        "initiate",
        "decline",
        "suspend",
        "resume",
        "indict",
        "schedule_trial",
        "record_verdict",
        "reopen_investigation",
        "close",
    }


def test_the_verdict_outcomes_trial_types_and_party_roles_are_the_contracts() -> None:
    assert (
        {o.value for o in VerdictOutcome},
        {t.value for t in TrialType},
        {r.value for r in PartyRole},
    ) == (
        {"convicted", "acquitted", "returned_for_investigation"},
        {"standard", "mobile", "model"},
        {"suspect", "victim", "witness"},
    )


def test_the_table_holds_exactly_the_expected_transitions() -> None:
    assert set(CASES.transitions) == set(EXPECTED)


@pytest.mark.parametrize("pair", list(EXPECTED), ids=_id)
def test_an_allowed_action_leads_to_its_status_with_its_event(
    pair: tuple[CaseStatus, CaseAction],
) -> None:
    status, action = pair
    to, event, role = EXPECTED[pair]

    step = CASES.step(status, action, frozenset({role}))

    assert (step.to, step.event, step.roles) == (to, event, frozenset({role}))


@pytest.mark.parametrize("pair", list(EXPECTED), ids=_id)
def test_every_emitted_event_is_a_casework_contract_event(
    pair: tuple[CaseStatus, CaseAction],
) -> None:
    assert CASES.transitions[pair].event in CASE_EVENTS


@pytest.mark.parametrize("pair", list(EXPECTED), ids=_id)
def test_an_allowed_action_explains_why(pair: tuple[CaseStatus, CaseAction]) -> None:
    assert CASES.transitions[pair].why.strip()


@pytest.mark.parametrize("pair", REFUSED, ids=_id)
def test_an_action_not_allowed_from_a_status_lists_the_allowed_ones(
    pair: tuple[CaseStatus, CaseAction],
) -> None:
    status, action = pair

    with pytest.raises(RuleViolation) as refused:
        CASES.step(status, action, frozenset(ACTING_ROLES))

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
    right = EXPECTED[pair][2]
    with pytest.raises(PermissionError, match=_exactly(f"{pair[1].value} is for: {right}")):
        CASES.step(pair[0], pair[1], frozenset({role}))


def test_a_caller_with_no_roles_is_not_permitted() -> None:
    with pytest.raises(PermissionError, match=_exactly("initiate is for: investigator")):
        CASES.step(S.open, A.initiate, frozenset())


def test_a_refused_role_is_told_every_role_the_step_is_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = Transition(S.closed, frozenset({PROSECUTOR, CLERK}), "closed", "a shared step")
    monkeypatch.setitem(CASES.transitions, (S.adjudicated, A.close), shared)

    with pytest.raises(PermissionError, match=_exactly("close is for: court_clerk, prosecutor")):
        CASES.step(S.adjudicated, A.close, frozenset({INVESTIGATOR}))


def test_one_matching_role_among_several_is_enough() -> None:
    step = CASES.step(S.investigating, A.indict, frozenset({"supervisor", PROSECUTOR}))
    assert step.to is S.indicted


@pytest.mark.parametrize("status", list(S), ids=str)
def test_allowed_actions_lists_the_table_for_each_status(status: CaseStatus) -> None:
    assert CASES.allowed(status) == _allowed_from(status)


def test_a_closed_case_allows_nothing() -> None:
    assert CASES.allowed(S.closed) == []


def test_every_status_but_closed_is_open() -> None:
    assert set(S) - OPEN_STATUSES == {S.closed}


def test_a_refusal_names_the_status_and_the_action() -> None:
    with pytest.raises(RuleViolation) as refused:
        CASES.step(S.closed, A.initiate, frozenset({INVESTIGATOR}))
    assert refused.value.reason == "a case that is closed cannot take the action initiate"
    assert str(refused.value) == refused.value.reason


# Penal Code article ------------------------------------------------------------------------------


# Penal Code 2015: Art. 150 is trafficking in persons, Art. 151 trafficking in persons under 16.
CHILD_VICTIM = "a victim is under 16: the Penal Code's Art. 151 applies, not Art. 150"
NO_CHILD_VICTIM = (
    "Art. 151 applies to victims under 16; link the victim with a date of birth or age"
)


@pytest.mark.parametrize(
    ("ages", "article"),
    [
        ([], 150),
        ([17], 150),
        ([None], 150),
        ([16], 150),
        ([15], 151),
        ([15, 30], 151),
        ([0], 151),
        ([None, 15], 151),
    ],
)
def test_the_article_that_fits_the_victims_ages_is_accepted(
    ages: list[int | None], article: int
) -> None:
    check_article(article, ages)  # raises RuleViolation if refused


@pytest.mark.parametrize("ages", [[15], [15, 30], [None, 0]])
def test_article_150_is_refused_when_a_victim_is_under_16(ages: list[int | None]) -> None:
    with pytest.raises(RuleViolation, match=_exactly(CHILD_VICTIM)):
        check_article(150, ages)


@pytest.mark.parametrize("ages", [[], [17], [None], [16], [16, 40]])
def test_article_151_is_refused_without_a_victim_under_16(ages: list[int | None]) -> None:
    with pytest.raises(RuleViolation, match=_exactly(NO_CHILD_VICTIM)):
        check_article(151, ages)


@pytest.mark.parametrize("article", [0, 149, 152, -150, 1500])
def test_an_article_other_than_150_or_151_is_refused(article: int) -> None:
    with pytest.raises(RuleViolation, match=_exactly("penal_code_article must be 150 or 151")):
        check_article(article, [30])


# Verdicts ----------------------------------------------------------------------------------------

P1, P2, P3 = "party-1", "party-2", "party-3"


@pytest.mark.parametrize(
    ("outcome", "sentenced", "defendants"),
    [
        (VerdictOutcome.convicted, {P1}, {P1, P2}),
        (VerdictOutcome.convicted, {P1, P2}, {P1, P2}),
        (VerdictOutcome.acquitted, set(), {P1}),
        (VerdictOutcome.returned_for_investigation, set(), {P1}),
    ],
)
def test_a_verdict_that_sentences_only_indicted_defendants_on_conviction_is_accepted(
    outcome: VerdictOutcome, sentenced: set[str], defendants: set[str]
) -> None:
    check_verdict(outcome, sentenced, defendants)  # raises RuleViolation if refused


def test_a_conviction_without_a_sentence_is_refused() -> None:
    reason = "a conviction needs the sentence of at least one defendant"
    with pytest.raises(RuleViolation, match=_exactly(reason)):
        check_verdict(VerdictOutcome.convicted, set(), {P1})


@pytest.mark.parametrize("sentenced", [{P3}, {P1, P3}], ids=["stranger", "defendant-and-stranger"])
def test_a_conviction_sentencing_someone_not_indicted_is_refused(sentenced: set[str]) -> None:
    reason = "sentences name persons who are not defendants of the indictment"
    with pytest.raises(RuleViolation, match=_exactly(reason)):
        check_verdict(VerdictOutcome.convicted, sentenced, {P1, P2})


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (VerdictOutcome.acquitted, "an outcome of acquitted carries no sentences"),
        (
            VerdictOutcome.returned_for_investigation,
            "an outcome of returned_for_investigation carries no sentences",
        ),
    ],
)
def test_a_sentence_without_a_conviction_is_refused(outcome: VerdictOutcome, reason: str) -> None:
    with pytest.raises(RuleViolation, match=_exactly(reason)):
        check_verdict(outcome, {P1}, {P1})


def test_a_file_returned_for_investigation_can_be_reopened() -> None:
    check_reopen("returned_for_investigation")  # raises RuleViolation if refused


@pytest.mark.parametrize("last_verdict", ["convicted", "acquitted", None, ""])
def test_only_a_file_returned_for_investigation_can_be_reopened(
    last_verdict: str | None,
) -> None:
    reason = "only a case the court returned for additional investigation can be reopened"
    with pytest.raises(RuleViolation, match=_exactly(reason)) as refused:
        check_reopen(last_verdict)
    assert (refused.value.reason, refused.value.allowed) == (reason, None)


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
    """The law, stated independently of ``StageRules``:

    * Penal Code 2015 Art. 9: a crime whose highest penalty is over 7 and up to 15 years is very
      serious (rất nghiêm trọng), over 15 years particularly serious. Art. 150(1) (5-10 years),
      150(2) (8-15) and 151(1) (7-12) are very serious; 150(3) and 151(2)-(3) particularly so.
    * CPC 2015 Art. 172(1): investigation of a very or particularly serious crime lasts at most
      4 months.
    * CPC 2015 Art. 277(1): the court prepares the trial of a very serious crime within 2 months
      (3 for a particularly serious one): the default is the shorter, so no deadline is missed.
    """
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


@pytest.mark.parametrize("status", list(S), ids=lambda s: s.value)
def test_a_stage_deadline_is_watched_until_the_case_closes(status: CaseStatus) -> None:
    expected = None if status is S.closed else DUE
    assert watched_deadline(status, DUE) == expected
    assert watched_deadline(status, None) is None
