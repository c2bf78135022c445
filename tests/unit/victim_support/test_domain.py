"""victim_support's pure rules under Law 53/2024/QH15: what each status allows, where an action
leaves the person, the 3-day verification clock (Art. 27) and the entitlements of Art. 37.

The expected tables are written out here from the law, independently of ``LIFECYCLE`` and
``RULES``, so that a change to the rules shows up as a failing
test rather than as a silently different contract.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from services.victim_support import domain
from services.victim_support.domain import (
    CLOSING,
    IDENTIFICATION,
    LIFECYCLE,
    IdentificationOutcome,
    RuleViolation,
    SupportType,
    VictimAction,
    VictimStatus,
    age_band,
    check_entitlement,
    entitled_supports,
    is_overdue,
    status_after,
    verification_due_at,
)

S, A, T = VictimStatus, VictimAction, SupportType

PRESUMED_STATUSES = (S.received, S.under_verification)
IDENTIFIED_STATUSES = (S.identified, S.protected, S.supported, S.reintegrating)
ENDED_STATUSES = (S.not_a_victim, S.closed)

EXPECTED_ALLOWED: dict[VictimStatus, set[VictimAction]] = {
    **{s: {A.identify, A.protect, A.support, A.consent} for s in PRESUMED_STATUSES},
    **{s: {A.protect, A.support, A.consent, A.reintegrate} for s in IDENTIFIED_STATUSES},
    **{s: {A.consent} for s in ENDED_STATUSES},
}

# Art. 37 points a-g: what a presumed victim may receive.
PRESUMED_ENTITLED = {
    T.essential_needs,
    T.medical,
    T.interpreter,
    T.legal_support,
    T.legal_aid,
    T.travel,
    T.psychological,
}
FOREIGNER_NOT_ENTITLED = {
    T.schooling,
    T.vocational_training,
    T.initial_hardship_allowance,
    T.loan,
    T.travel,
}
NATIONALITIES = ("VN", "LA")


def denying_rules(support: SupportType, status: VictimStatus, nationality: str) -> set[str]:
    """Every rule of the law, as stated, that refuses ``support`` to this person."""
    rules = set()
    if status in ENDED_STATUSES:
        rules.add("not_a_victim")
    if status in PRESUMED_STATUSES and support not in PRESUMED_ENTITLED:
        rules.add("presumed_victim")
    if nationality != "VN" and support in FOREIGNER_NOT_ENTITLED:
        rules.add("foreign_national")
    return rules


ENTITLEMENT_CASES = [
    pytest.param(support, status, nationality, id=f"{status.value}-{nationality}-{support.value}")
    for status, nationality, support in itertools.product(S, NATIONALITIES, T)
]
ENTITLED_CASES = [c for c in ENTITLEMENT_CASES if not denying_rules(*c.values)]
REFUSED_CASES = [c for c in ENTITLEMENT_CASES if denying_rules(*c.values)]


# Actions by status


def test_the_lifecycle_covers_every_status() -> None:
    assert {status for status, _ in LIFECYCLE.transitions} == set(S)


@pytest.mark.parametrize(
    ("status", "action"),
    [pytest.param(s, a, id=f"{s.value}-{a.value}") for s, a in itertools.product(S, A)],
)
def test_an_action_is_allowed_exactly_where_the_law_allows_it(
    status: VictimStatus, action: VictimAction
) -> None:
    assert (action.value in LIFECYCLE.allowed(status)) is (action in EXPECTED_ALLOWED[status])


@pytest.mark.parametrize(
    ("status", "action"),
    [
        pytest.param(s, a, id=f"{s.value}-{a.value}")
        for s, a in itertools.product(S, A)
        if a not in EXPECTED_ALLOWED[s]
    ],
)
def test_a_refused_action_names_the_actions_that_are_allowed(
    status: VictimStatus, action: VictimAction
) -> None:
    reason = f"a person that is {status.value} cannot take the action {action.value}"
    with pytest.raises(RuleViolation, match=f"^{reason}$") as refused:
        LIFECYCLE.step(status, action)
    assert refused.value.allowed == sorted(a.value for a in EXPECTED_ALLOWED[status])
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("status", "action"),
    [
        pytest.param(s, a, id=f"{s.value}-{a.value}")
        for s, a in itertools.product(S, A)
        if a in EXPECTED_ALLOWED[s]
    ],
)
def test_an_allowed_action_passes_the_check(status: VictimStatus, action: VictimAction) -> None:
    LIFECYCLE.step(status, action)


# Where an action leaves the person


@pytest.mark.parametrize(
    ("action", "before", "closed", "after"),
    [
        (A.protect, S.received, False, S.under_verification),
        (A.support, S.received, False, S.under_verification),
        (A.consent, S.received, False, S.under_verification),
        (A.protect, S.under_verification, False, S.under_verification),
        (A.support, S.under_verification, False, S.under_verification),
        (A.protect, S.identified, False, S.protected),
        (A.support, S.identified, False, S.supported),
        (A.support, S.protected, False, S.supported),
        (A.protect, S.supported, False, S.supported),
        (A.protect, S.protected, False, S.protected),
        (A.support, S.supported, False, S.supported),
        (A.protect, S.reintegrating, False, S.reintegrating),
        (A.support, S.reintegrating, False, S.reintegrating),
        (A.reintegrate, S.identified, False, S.reintegrating),
        (A.reintegrate, S.supported, False, S.reintegrating),
        (A.reintegrate, S.reintegrating, False, S.reintegrating),
        (A.reintegrate, S.reintegrating, True, S.closed),
        (A.reintegrate, S.protected, True, S.closed),
        (A.consent, S.not_a_victim, False, S.not_a_victim),
        (A.consent, S.closed, False, S.closed),
        (A.consent, S.identified, False, S.identified),
    ],
    ids=lambda v: v.value if hasattr(v, "value") else str(v),
)
def test_an_accepted_action_leaves_the_person_in_the_expected_status(
    action: VictimAction, before: VictimStatus, closed: bool, after: VictimStatus
) -> None:
    assert status_after(action, before, closed=closed) is after


@pytest.mark.parametrize("status", IDENTIFIED_STATUSES, ids=lambda s: s.value)
def test_a_reintegration_follow_up_does_not_close_the_file_unless_asked(
    status: VictimStatus,
) -> None:
    assert status_after(A.reintegrate, status) is S.reintegrating


@pytest.mark.parametrize("status", IDENTIFIED_STATUSES[1:], ids=lambda s: s.value)
def test_protection_and_support_never_move_an_identified_person_back(
    status: VictimStatus,
) -> None:
    order = list(IDENTIFIED_STATUSES)
    for action in (A.protect, A.support):
        assert order.index(status_after(action, status)) >= order.index(status)


@pytest.mark.parametrize("status", PRESUMED_STATUSES, ids=lambda s: s.value)
@pytest.mark.parametrize("outcome", list(IdentificationOutcome), ids=lambda o: o.value)
def test_identification_leaves_the_person_where_its_outcome_says(
    status: VictimStatus, outcome: IdentificationOutcome
) -> None:
    taken = IDENTIFICATION.step(status, outcome)
    assert taken.to is S(outcome.value)
    assert taken.event == ("identified" if outcome.value == "identified" else "not_identified")


@pytest.mark.parametrize("status", [s for s in S if s not in PRESUMED_STATUSES], ids=str)
def test_only_a_presumed_victim_is_identified(status: VictimStatus) -> None:
    with pytest.raises(RuleViolation):
        IDENTIFICATION.step(status, IdentificationOutcome.identified)


@pytest.mark.parametrize("status", IDENTIFIED_STATUSES, ids=lambda s: s.value)
def test_closing_is_a_reintegration_follow_up_of_an_identified_victim(status: VictimStatus) -> None:
    assert CLOSING.step(status, A.reintegrate).event == "closed"
    assert CLOSING.allowed(status) == [A.reintegrate.value]
    for other in (*PRESUMED_STATUSES, *ENDED_STATUSES):
        assert CLOSING.allowed(other) == []


# The verification clock (Art. 27)

RECEIVED_AT = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def test_verification_is_due_three_days_after_reception() -> None:
    assert verification_due_at(RECEIVED_AT) == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)


def test_verification_due_date_crosses_month_ends() -> None:
    received = datetime(2026, 2, 27, 23, 0, tzinfo=UTC)
    assert verification_due_at(received) == received + timedelta(days=3)
    assert verification_due_at(received).month == 3


@pytest.mark.parametrize("status", PRESUMED_STATUSES, ids=lambda s: s.value)
def test_a_presumed_victim_past_the_due_time_is_overdue(status: VictimStatus) -> None:
    due = verification_due_at(RECEIVED_AT)
    assert is_overdue(status, due, due + timedelta(seconds=1))


@pytest.mark.parametrize("status", PRESUMED_STATUSES, ids=lambda s: s.value)
def test_a_presumed_victim_at_or_before_the_due_time_is_not_overdue(status: VictimStatus) -> None:
    due = verification_due_at(RECEIVED_AT)
    assert not is_overdue(status, due, due)
    assert not is_overdue(status, due, RECEIVED_AT)


@pytest.mark.parametrize(
    "status", [s for s in S if s not in PRESUMED_STATUSES], ids=lambda s: s.value
)
def test_a_decided_person_is_never_overdue(status: VictimStatus) -> None:
    due = verification_due_at(RECEIVED_AT)
    assert not is_overdue(status, due, due + timedelta(days=365))


# Entitlements (Art. 37)


def test_the_entitlement_table_has_every_status_nationality_and_support() -> None:
    assert len(ENTITLEMENT_CASES) == len(S) * len(NATIONALITIES) * len(T)
    assert ENTITLED_CASES
    assert REFUSED_CASES


@pytest.mark.parametrize(("support", "status", "nationality"), ENTITLED_CASES)
def test_a_support_no_rule_of_the_law_denies_is_allowed(
    support: SupportType, status: VictimStatus, nationality: str
) -> None:
    check_entitlement(support, status, nationality)


@pytest.mark.parametrize(("support", "status", "nationality"), REFUSED_CASES)
def test_a_support_a_rule_of_the_law_denies_is_refused_naming_that_rule(
    support: SupportType, status: VictimStatus, nationality: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_entitlement(support, status, nationality)
    assert refused.value.rule in denying_rules(support, status, nationality)
    assert support.value in refused.value.reason


@pytest.mark.parametrize(
    ("support", "status", "nationality", "rule"),
    [
        (T.schooling, S.received, "VN", "presumed_victim"),
        (T.loan, S.under_verification, "VN", "presumed_victim"),
        (T.initial_hardship_allowance, S.under_verification, "VN", "presumed_victim"),
        (T.travel, S.under_verification, "LA", "foreign_national"),
        (T.travel, S.identified, "LA", "foreign_national"),
        (T.schooling, S.supported, "LA", "foreign_national"),
        (T.loan, S.reintegrating, "LA", "foreign_national"),
        (T.medical, S.not_a_victim, "VN", "not_a_victim"),
        (T.essential_needs, S.closed, "VN", "not_a_victim"),
        (T.psychological, S.not_a_victim, "LA", "not_a_victim"),
    ],
    ids=lambda v: v.value if hasattr(v, "value") else str(v),
)
def test_a_refusal_names_the_one_rule_that_applies(
    support: SupportType, status: VictimStatus, nationality: str, rule: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_entitlement(support, status, nationality)
    assert refused.value.rule == rule


@pytest.mark.parametrize("status", ENDED_STATUSES, ids=lambda s: s.value)
def test_a_foreigner_whose_support_has_ended_is_refused_under_not_a_victim(
    status: VictimStatus,
) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_entitlement(T.schooling, status, "LA")
    assert refused.value.rule == "not_a_victim"


@pytest.mark.parametrize(
    ("support", "status", "nationality"),
    [c for c in REFUSED_CASES if c.values[1] not in ENDED_STATUSES],
)
def test_a_refusal_under_article_37_cites_the_article(
    support: SupportType, status: VictimStatus, nationality: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_entitlement(support, status, nationality)
    assert "Art. 37" in refused.value.reason


def test_an_unknown_nationality_is_treated_as_home() -> None:
    check_entitlement(T.travel, S.identified, None)


@pytest.mark.parametrize(
    ("status", "nationality"),
    [pytest.param(s, n, id=f"{s.value}-{n}") for s, n in itertools.product(S, NATIONALITIES)],
)
def test_entitled_supports_lists_every_support_no_rule_denies_in_declaration_order(
    status: VictimStatus, nationality: str
) -> None:
    expected = [t.value for t in T if not denying_rules(t, status, nationality)]
    assert entitled_supports(status, nationality) == expected


def test_a_presumed_victim_is_entitled_to_points_a_to_g() -> None:
    assert set(entitled_supports(S.under_verification, "VN")) == {
        t.value for t in PRESUMED_ENTITLED
    }


def test_an_identified_vietnamese_victim_is_entitled_to_everything() -> None:
    assert entitled_supports(S.identified, "VN") == [t.value for t in T]


@pytest.mark.parametrize("status", ENDED_STATUSES, ids=lambda s: s.value)
def test_nothing_is_entitled_once_support_has_ended(status: VictimStatus) -> None:
    assert entitled_supports(status, "VN") == []


@pytest.mark.parametrize("status", ENDED_STATUSES, ids=lambda s: s.value)
def test_a_refusal_after_support_has_ended_says_why(status: VictimStatus) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_entitlement(T.medical, status, "VN")
    assert refused.value.reason == (
        "medical is not allowed: support under the law ends when a person is found not to be "
        "a victim or the file is closed"
    )


def test_the_support_types_are_the_points_of_article_37_in_the_law_s_order() -> None:
    """Art. 37 points a, b, c, d, đ, e, g, h, i, k; k is two supports."""
    assert [t.value for t in T] == [
        "essential_needs",
        "medical",
        "interpreter",
        "legal_support",
        "legal_aid",
        "travel",
        "psychological",
        "schooling",
        "vocational_training",
        "initial_hardship_allowance",
        "loan",
    ]


def test_presumed_and_identified_are_the_statuses_the_law_names() -> None:
    """Received and under verification make a presumed victim; once
    identified, a person stays a victim through protection, support and reintegration."""
    assert domain.PRESUMED == set(PRESUMED_STATUSES)
    assert domain.IDENTIFIED == set(IDENTIFIED_STATUSES)


# Links between two offices' records of one person

L = domain.LinkStatus


@pytest.mark.parametrize(
    ("decision", "status"),
    [(domain.LinkDecision.confirm, L.confirmed), (domain.LinkDecision.reject, L.rejected)],
    ids=str,
)
def test_the_other_office_s_decision_sets_the_link_status(
    decision: domain.LinkDecision, status: domain.LinkStatus
) -> None:
    assert domain.LINK_STATUS_AFTER[decision] is status


@pytest.mark.parametrize(
    ("status", "proposable"),
    [(L.suggested, True), (L.rejected, True), (L.proposed, False), (L.confirmed, False)],
    ids=str,
)
def test_a_suggestion_or_a_rejected_proposal_may_be_proposed_a_pending_or_confirmed_link_not(
    status: domain.LinkStatus, proposable: bool
) -> None:
    assert (status in domain.PROPOSABLE) is proposable


# Age bands


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (None, None),
        (0, "under_16"),
        (15, "under_16"),
        (16, "16_17"),
        (17, "16_17"),
        (18, "18_24"),
        (24, "18_24"),
        (25, "25_39"),
        (39, "25_39"),
        (40, "40_plus"),
        (120, "40_plus"),
    ],
)
def test_an_age_is_shown_as_its_band(age: int | None, band: str | None) -> None:
    assert age_band(age) == band


@pytest.mark.parametrize(
    ("dob", "age", "expected"),
    [
        (date(2010, 6, 1), None, 15),  # her 16th birthday is tomorrow
        (date(2010, 5, 31), None, 16),
        (None, 16, 17),  # 16 when received a year ago
        (None, None, None),
    ],
    ids=["before_birthday", "on_birthday", "age_at_reception", "unknown"],
)
def test_age_on_a_day_comes_from_the_date_of_birth_or_the_age_at_reception(
    dob: date | None, age: int | None, expected: int | None
) -> None:
    assert (
        domain.age_on(
            date(2026, 5, 31),
            date_of_birth=dob,
            age_at_reception=age,
            received_on=date(2025, 12, 30),
        )
        == expected
    )


@pytest.mark.parametrize(
    ("received_on", "expected"),
    [(date(2026, 1, 5), 16), (date(2025, 12, 30), 17), (date(2024, 6, 1), 18)],
    ids=["same_year", "last_year", "two_years_ago"],
)
def test_an_age_given_at_reception_grows_by_the_years_since(
    received_on: date, expected: int
) -> None:
    assert (
        domain.age_on(
            date(2026, 5, 31), date_of_birth=None, age_at_reception=16, received_on=received_on
        )
        == expected
    )


@pytest.mark.parametrize("before", list(S), ids=lambda s: s.value)
@pytest.mark.parametrize("after", list(S), ids=lambda s: s.value)
def test_only_a_step_out_of_presumption_ends_the_verification(
    before: VictimStatus, after: VictimStatus
) -> None:
    expected = before in PRESUMED_STATUSES and after not in PRESUMED_STATUSES
    assert domain.ends_verification(before, after) is expected
