"""Hypothesis properties of the pure domain rules: the legal clock, the case state machine, the
entitlements of Law 53/2024/QH15 Art. 37 and outreach coverage. No I/O."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.statemachine import RuleViolation
from services.casework import domain as casework
from services.intake import domain as intake
from services.outreach import domain as outreach
from services.victim_support import domain as victims

pytestmark = pytest.mark.fuzz

EXAMPLES = max(100, int(os.environ.get("CTIP_FUZZ_EXAMPLES", "15")) * 10)
PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
kinds = st.sampled_from(list(intake.ExtensionKind))


# intake: the legal clock (Criminal Procedure Code Art. 147) --------------------------------------


@PROPERTY
@given(received=moments, requests=st.lists(st.tuples(kinds, st.integers(0, 200)), max_size=6))
def test_extensions_only_ever_move_the_deadline_later_and_within_the_law(
    received: datetime, requests: list[tuple[intake.ExtensionKind, int]]
) -> None:
    """Whatever officers ask and whenever (days after receipt), each accepted extension moves the
    deadline later, and it never exceeds 2 months (complex) + 2 months (procuracy, once)."""
    granted: list[intake.ExtensionKind] = []
    due = intake.resolution_due_at(received, granted)
    assert due == received + intake.BASE_PERIOD
    ceiling = received + relativedelta(months=2) + relativedelta(months=2)
    for kind, days in requests:
        now = received + timedelta(days=days)
        try:
            extension = intake.extend(
                kind=kind, received_at=received, granted=granted, current_due_at=due, now=now
            )
        except intake.RuleViolation:
            continue
        assert extension.new_due_at > due, "an extension never shortens"
        assert now <= due - intake.EXTENSION_LEAD, "asked at least 5 days before the deadline"
        granted.append(kind)
        due = extension.new_due_at
        assert due == intake.resolution_due_at(received, granted)
        assert due <= ceiling
    assert granted.count(intake.ExtensionKind.procuracy) <= 1
    assert granted.count(intake.ExtensionKind.complex_case) <= 1


@PROPERTY
@given(received=moments, kinds_=st.lists(kinds, max_size=4))
def test_the_deadline_is_monotonic_in_the_extensions(
    received: datetime, kinds_: list[intake.ExtensionKind]
) -> None:
    for i in range(len(kinds_)):
        before = intake.resolution_due_at(received, kinds_[:i])
        after = intake.resolution_due_at(received, kinds_[: i + 1])
        assert after >= before
    assert intake.resolution_due_at(received, kinds_) <= received + relativedelta(months=4)


@PROPERTY
@given(status=st.sampled_from(list(intake.TipStatus)), received=moments, days=st.integers(-60, 200))
def test_only_open_tips_are_overdue_or_due_soon(
    status: intake.TipStatus, received: datetime, days: int
) -> None:
    due = intake.resolution_due_at(received)
    now = received + timedelta(days=days)
    overdue, soon = intake.is_overdue(status, due, now), intake.is_due_soon(status, due, now)
    assert not (overdue and soon)
    if status not in intake.OPEN_STATUSES:
        assert not overdue and not soon


# casework: the state machine ---------------------------------------------------------------------

# The law, stated here independently of ``CASES`` (the Criminal Procedure Code 2015 says
# who decides each step): (status, action) -> (status after,
# event, the one role that may take the step), in the contract's wire values.
CASE_LAW: dict[tuple[str, str], tuple[str, str, str]] = {
    ("open", "initiate"): ("investigating", "initiated", "investigator"),  # CPC Art. 154
    ("open", "decline"): ("closed", "declined", "investigator"),  # CPC Art. 157-158
    ("investigating", "suspend"): ("suspended", "suspended", "investigator"),  # CPC Art. 229
    ("investigating", "indict"): ("indicted", "indicted", "prosecutor"),  # CPC Art. 243
    ("suspended", "resume"): ("investigating", "resumed", "investigator"),  # CPC Art. 237
    ("indicted", "schedule_trial"): ("trial_scheduled", "trial_scheduled", "court_clerk"),
    ("trial_scheduled", "schedule_trial"): ("trial_scheduled", "trial_scheduled", "court_clerk"),
    ("trial_scheduled", "record_verdict"): ("adjudicated", "adjudicated", "court_clerk"),
    ("adjudicated", "reopen_investigation"): ("investigating", "resumed", "investigator"),
    ("adjudicated", "close"): ("closed", "closed", "court_clerk"),
}

CASE_STATUSES = [
    "open",
    "investigating",
    "suspended",
    "indicted",
    "trial_scheduled",
    "adjudicated",
    "closed",
]
role_sets = st.frozensets(
    st.sampled_from(["investigator", "prosecutor", "court_clerk", "supervisor", "ngo"]), max_size=3
)


@PROPERTY
@given(roles=role_sets)
def test_every_step_by_any_roles_follows_the_law(roles: frozenset[str]) -> None:
    """Whoever asks, for every status and action: a step the law allows is taken exactly when the
    caller holds its role, and leads where the law says; any other step is refused with exactly
    the steps the law allows from that status."""
    for status, action in itertools.product(CASE_STATUSES, casework.CaseAction):
        law = CASE_LAW.get((status, action.value))
        if law is None:
            with pytest.raises(RuleViolation) as refused:
                casework.CASES.step(casework.CaseStatus(status), action, roles)
            assert refused.value.allowed == sorted(a for (s, a) in CASE_LAW if s == status)
            continue
        to, event, role = law
        if role not in roles:
            with pytest.raises(PermissionError, match=f"is for: {role}$"):
                casework.CASES.step(casework.CaseStatus(status), action, roles)
            continue
        step = casework.CASES.step(casework.CaseStatus(status), action, roles)
        assert (step.to.value, step.event) == (to, event), (status, action.value)


def test_closed_allows_nothing() -> None:
    assert casework.CASES.allowed(casework.CaseStatus.closed) == []


@PROPERTY
@given(
    status=st.sampled_from(list(casework.CaseStatus)),
    entered=moments,
    scheduled=st.none() | moments,
)
def test_stage_deadlines_follow_the_stage(
    status: casework.CaseStatus, entered: datetime, scheduled: datetime | None
) -> None:
    """CPC 2015 Art. 172(1): 4 months of investigation; Art. 277(1): 2 months to prepare the trial
    (both for a very serious crime, which trafficking under Art. 150(1) and 151(1) is)."""
    due = casework.stage_due_at(status, entered, casework.StageRules(), scheduled)
    if status is casework.CaseStatus.investigating:
        assert due == entered + relativedelta(months=4)
    elif status is casework.CaseStatus.indicted:
        assert due == entered + relativedelta(months=2)
    elif status is casework.CaseStatus.trial_scheduled:
        assert due == scheduled
    else:
        assert due is None


# victim_support: entitlements (Law 53/2024/QH15 Art. 37) ----------------------------------------

statuses = st.sampled_from(list(victims.VictimStatus))
nationalities = st.sampled_from(["VN", "LA", "KH", "CN", "TH"]) | st.none()


@PROPERTY
@given(nationality=nationalities)
def test_presumed_victims_get_a_subset_of_what_identified_victims_get(
    nationality: str | None,
) -> None:
    identified = set(victims.entitled_supports(victims.VictimStatus.identified, nationality))
    for presumed in victims.PRESUMED:
        got = set(victims.entitled_supports(presumed, nationality))
        assert got <= identified
        assert got <= {s.value for s in victims.PRESUMED_ALLOWED}


@PROPERTY
@given(status=statuses, foreign=st.sampled_from(["LA", "KH", "CN", "TH", "US"]))
def test_foreigners_get_a_subset_of_what_nationals_get(
    status: victims.VictimStatus, foreign: str
) -> None:
    national = set(victims.entitled_supports(status, "VN"))
    foreigner = set(victims.entitled_supports(status, foreign))
    assert foreigner <= national
    assert not foreigner & {s.value for s in victims.FOREIGNER_DENIED}


@PROPERTY
@given(status=st.sampled_from([victims.VictimStatus.not_a_victim, victims.VictimStatus.closed]),
       nationality=nationalities)  # fmt: skip
def test_not_a_victim_is_entitled_to_nothing(
    status: victims.VictimStatus, nationality: str | None
) -> None:
    assert victims.entitled_supports(status, nationality) == []


@PROPERTY
@given(
    support=st.sampled_from(list(victims.SupportType)), status=statuses, nationality=nationalities
)
def test_check_entitlement_agrees_with_the_list(
    support: victims.SupportType, status: victims.VictimStatus, nationality: str | None
) -> None:
    listed = support.value in victims.entitled_supports(status, nationality)
    try:
        victims.check_entitlement(support, status, nationality)
        allowed = True
    except victims.RuleViolation as exc:
        allowed = False
        assert exc.rule in {rule.name for rule in victims.RULES}
    assert listed == allowed


@PROPERTY
@given(action=st.sampled_from(list(victims.VictimAction)), status=statuses, closed=st.booleans())
def test_an_accepted_action_never_moves_a_person_back_to_presumed(
    action: victims.VictimAction, status: victims.VictimStatus, closed: bool
) -> None:
    try:
        victims.LIFECYCLE.step(status, action)
    except victims.RuleViolation:
        return
    after = victims.status_after(action, status, closed=closed)
    if status in victims.IDENTIFIED:
        assert after not in victims.PRESUMED
    if status is victims.VictimStatus.received and action is not victims.VictimAction.identify:
        assert after is victims.VictimStatus.under_verification  # identify: its outcome decides


# outreach: coverage ------------------------------------------------------------------------------

reach = st.builds(
    outreach.Reach, kind=st.sampled_from(list(outreach.ActivityKind)), people=st.integers(0, 10**7)
)
populations = st.none() | st.integers(0, 5_000_000)


@PROPERTY
@given(activities=st.lists(reach, max_size=30), population=populations)
def test_coverage_is_a_ratio_between_zero_and_one(
    activities: list[outreach.Reach], population: int | None
) -> None:
    cov = outreach.coverage(activities, population)
    if not population:
        assert cov.ratio is None and cov.meets_target is None
    else:
        assert cov.ratio is not None and 0 <= cov.ratio <= 1
        assert cov.meets_target == (cov.ratio >= outreach.TARGET)


@PROPERTY
@given(activities=st.lists(reach, max_size=30), extra=reach, population=populations)
def test_coverage_is_monotonic_in_reach(
    activities: list[outreach.Reach], extra: outreach.Reach, population: int | None
) -> None:
    before = outreach.coverage(activities, population)
    after = outreach.coverage([*activities, extra], population)
    assert after.reached >= before.reached
    assert after.counted >= before.counted
    if before.ratio is not None and after.ratio is not None:
        assert after.ratio >= before.ratio


@PROPERTY
@given(activities=st.lists(reach, max_size=30))
def test_mass_media_never_adds_more_than_its_largest_audience(
    activities: list[outreach.Reach],
) -> None:
    mass = [a.people for a in activities if a.kind in outreach.MASS_MEDIA]
    direct = [a for a in activities if a.kind not in outreach.MASS_MEDIA]
    assert outreach.reached(activities) - outreach.reached(direct) == max(mass, default=0)
    assert outreach.reached(activities) <= sum(a.people for a in activities)
