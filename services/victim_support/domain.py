"""Victim support rules under Law 53/2024/QH15 (in force 1 July 2025): the lifecycle, the 3-day
verification clock (Art. 27), entitlements by status and nationality (Art. 37). No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from libs.common.statemachine import RuleViolation as RuleViolation
from libs.common.statemachine import StateMachine, Transition


class VictimStatus(StrEnum):
    received = "received"
    under_verification = "under_verification"
    identified = "identified"
    not_a_victim = "not_a_victim"
    protected = "protected"
    supported = "supported"
    reintegrating = "reintegrating"
    closed = "closed"


class Source(StrEnum):
    self_report = "self_report"
    rescued = "rescued"
    border_handover = "border_handover"
    repatriated = "repatriated"
    partner_province = "partner_province"
    case = "case"


class SupportType(StrEnum):
    essential_needs = "essential_needs"
    medical = "medical"
    interpreter = "interpreter"
    legal_support = "legal_support"
    legal_aid = "legal_aid"
    travel = "travel"
    psychological = "psychological"
    schooling = "schooling"
    vocational_training = "vocational_training"
    initial_hardship_allowance = "initial_hardship_allowance"
    loan = "loan"


class ConsentScope(StrEnum):
    share_with_ngo = "share_with_ngo"
    share_with_partner = "share_with_partner"
    contact_family = "contact_family"


class IdentificationOutcome(StrEnum):
    identified = "identified"
    not_a_victim = "not_a_victim"


class VictimAction(StrEnum):
    identify = "identify"
    protect = "protect"
    support = "support"
    consent = "consent"
    reintegrate = "reintegrate"


class LinkStatus(StrEnum):
    """Two records of one person in two jurisdictions: suggested to the office holding a match,
    proposed by one office, confirmed or rejected by the other."""

    suggested = "suggested"
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"


class LinkDecision(StrEnum):
    confirm = "confirm"
    reject = "reject"


LINK_STATUS_AFTER = {
    LinkDecision.confirm: LinkStatus.confirmed,
    LinkDecision.reject: LinkStatus.rejected,
}
# A suggestion or a rejected proposal may be proposed (again); a confirmed link stays.
PROPOSABLE = frozenset({LinkStatus.suggested, LinkStatus.rejected})

VERIFICATION_PERIOD = timedelta(days=3)
HOME_NATIONALITY = "VN"

PRESUMED = frozenset({VictimStatus.received, VictimStatus.under_verification})
IDENTIFIED = frozenset(
    {
        VictimStatus.identified,
        VictimStatus.protected,
        VictimStatus.supported,
        VictimStatus.reintegrating,
    }
)


_S, _A = VictimStatus, VictimAction
# Protection and support move an identified person forward, never back.
_FORWARD = {_S.identified: (_S.protected, _S.supported), _S.protected: (_S.protected, _S.supported)}

# Built at import as data, not by a function: mutation testing reaches a table, not a call that
# ran before the mutant did (tests/mutation/tables.py mutates it).
LIFECYCLE: StateMachine[VictimStatus, VictimAction] = StateMachine(
    "a person",
    {
        # A presumed victim is protected and supported while verification runs (Art. 27, 37);
        # identification stays put here, its outcome decides (``IDENTIFICATION``).
        **{
            edge: transition
            for st in PRESUMED
            for edge, transition in (
                ((st, _A.identify), Transition(st)),
                ((st, _A.protect), Transition(_S.under_verification, event="protected")),
                ((st, _A.support), Transition(_S.under_verification, event="supported")),
                ((st, _A.consent), Transition(_S.under_verification)),
            )
        },
        **{
            edge: transition
            for st in IDENTIFIED
            for edge, transition in (
                ((st, _A.protect), Transition(_FORWARD.get(st, (st, st))[0], event="protected")),
                ((st, _A.support), Transition(_FORWARD.get(st, (st, st))[1], event="supported")),
                ((st, _A.consent), Transition(st)),
                ((st, _A.reintegrate), Transition(_S.reintegrating, event="reintegrated")),
            )
        },
        # Not a victim, or closed: nothing more under this law; consents can still be withdrawn.
        **{(st, _A.consent): Transition(st) for st in (_S.not_a_victim, _S.closed)},
    },
)
IDENTIFICATION: StateMachine[VictimStatus, IdentificationOutcome] = StateMachine(
    "a person",
    {
        (status, outcome): Transition(
            VictimStatus(outcome.value),
            event="identified" if outcome is IdentificationOutcome.identified else "not_identified",
        )
        for status in PRESUMED
        for outcome in IdentificationOutcome
    },
)
# A reintegration follow-up with ``closed: true`` ends support.
CLOSING: StateMachine[VictimStatus, VictimAction] = StateMachine(
    "a person",
    {
        (status, VictimAction.reintegrate): Transition(VictimStatus.closed, event="closed")
        for status in IDENTIFIED
    },
)


def status_after(
    action: VictimAction, status: VictimStatus, *, closed: bool = False
) -> VictimStatus:
    """Where an allowed action leaves the person (identification: its outcome decides)."""
    machine = CLOSING if closed and action is VictimAction.reintegrate else LIFECYCLE
    return machine.step(status, action).to


def verification_due_at(received_at: datetime) -> datetime:
    """Art. 27 (amended): initial verification within 3 days of reception."""
    return received_at + VERIFICATION_PERIOD


def is_overdue(status: VictimStatus, due: datetime, now: datetime) -> bool:
    return status in PRESUMED and now > due


# The verification's clock as the deadline watch names it (DESIGN §11): record type ``victim``,
# clock ``verification``, watched from reception until a decision ends the presumption.
WATCHED_RECORD = "victim"
VERIFICATION_CLOCK = "verification"


def ends_verification(before: VictimStatus, after: VictimStatus) -> bool:
    """A step out of presumption (identified, or not a victim) ends the verification."""
    return before in PRESUMED and after not in PRESUMED


# Entitlements (Art. 37) as data -------------------------------------------------------------------


@dataclass(frozen=True)
class EntitlementRule:
    name: str
    applies: str
    denied: frozenset[SupportType]
    why: str


ARTICLE_37 = "Law 53/2024/QH15 Art. 37"
PRESUMED_ALLOWED = frozenset(
    {
        SupportType.essential_needs,
        SupportType.medical,
        SupportType.interpreter,
        SupportType.legal_support,
        SupportType.legal_aid,
        SupportType.travel,
        SupportType.psychological,
    }
)
FOREIGNER_DENIED = frozenset(
    {
        SupportType.schooling,
        SupportType.vocational_training,
        SupportType.initial_hardship_allowance,
        SupportType.loan,
        SupportType.travel,
    }
)

RULES: tuple[EntitlementRule, ...] = (
    EntitlementRule(
        "not_a_victim",
        "status not_a_victim or closed",
        frozenset(SupportType),
        "support under the law ends when a person is found not to be a victim or the file is "
        "closed",
    ),
    EntitlementRule(
        "presumed_victim",
        "status received or under_verification",
        frozenset(SupportType) - PRESUMED_ALLOWED,
        f"{ARTICLE_37}: a presumed victim is entitled to points a-g (essential needs to "
        "psychological support) only",
    ),
    EntitlementRule(
        "foreign_national",
        "nationality other than VN",
        FOREIGNER_DENIED,
        f"{ARTICLE_37}: a foreign victim is not entitled to travel, schooling, vocational "
        "training, the initial hardship allowance or loans",
    ),
)


def _rule_applies(rule: EntitlementRule, status: VictimStatus, nationality: str | None) -> bool:
    if rule.name == "presumed_victim":
        return status in PRESUMED
    if rule.name == "foreign_national":
        return nationality is not None and nationality != HOME_NATIONALITY
    return status in {VictimStatus.not_a_victim, VictimStatus.closed}


def check_entitlement(support: SupportType, status: VictimStatus, nationality: str | None) -> None:
    """Refuse a support the person's status and nationality do not entitle, naming the rule."""
    for rule in RULES:
        if _rule_applies(rule, status, nationality) and support in rule.denied:
            raise RuleViolation(f"{support.value} is not allowed: {rule.why}", rule=rule.name)


def entitled_supports(status: VictimStatus, nationality: str | None) -> list[str]:
    allowed = []
    for support in SupportType:
        try:
            check_entitlement(support, status, nationality)
        except RuleViolation:
            continue
        allowed.append(support.value)
    return allowed


def age_on(
    day: date, *, date_of_birth: date | None, age_at_reception: int | None, received_on: date
) -> int | None:
    """A person's age on ``day``: from the date of birth, or the age given at reception plus
    the years since (no birth year is kept, in clear or otherwise)."""
    if date_of_birth is not None:
        before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
        return day.year - date_of_birth.year - before_birthday
    if age_at_reception is not None:
        return age_at_reception + max(0, day.year - received_on.year)
    return None


def age_band(age: int | None) -> str | None:
    """What an NGO or a report may see instead of an age: a band."""
    if age is None:
        return None
    if age < 16:
        return "under_16"
    if age < 18:
        return "16_17"
    if age < 25:
        return "18_24"
    if age < 40:
        return "25_39"
    return "40_plus"
