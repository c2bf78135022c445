"""Victim support rules under Law 53/2024/QH15 on Prevention of and Combat against Human
Trafficking (in force 1 July 2025): statuses, the verification clock, entitlements by status and
nationality, consents. Pure data and functions, no I/O.

* A person under verification is a *presumed victim* (người đang trong quá trình xác định là nạn
  nhân); initial verification is due within **3 days** of reception (Art. 27, as amended).
* Support (Art. 37): a essentials, b medical, c interpreter, d legal support, đ legal aid,
  e travel, g psychological, h schooling, i vocational training / jobs, k initial hardship
  allowance and loans.
  Presumed victims get a-g; identified victims all; foreigners not e, h, i, k.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


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
    """Two records of one person in two jurisdictions, and the steps that join them.

    ``suggested``: a reception elsewhere matched a person of ours; only our office is told.
    ``proposed``: one office asks to link its record to the other's; ``confirmed`` or
    ``rejected`` by the office holding the other record. Neither office learns of the other's
    record from a reception: each link needs a person on both sides.
    """

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

ALLOWED: dict[VictimStatus, frozenset[VictimAction]] = {
    # A presumed victim is protected and supported while verification runs (Art. 27, 37).
    VictimStatus.received: frozenset(
        {VictimAction.identify, VictimAction.protect, VictimAction.support, VictimAction.consent}
    ),
    VictimStatus.under_verification: frozenset(
        {VictimAction.identify, VictimAction.protect, VictimAction.support, VictimAction.consent}
    ),
    VictimStatus.identified: frozenset(
        {VictimAction.protect, VictimAction.support, VictimAction.consent, VictimAction.reintegrate}
    ),
    VictimStatus.protected: frozenset(
        {VictimAction.protect, VictimAction.support, VictimAction.consent, VictimAction.reintegrate}
    ),
    VictimStatus.supported: frozenset(
        {VictimAction.protect, VictimAction.support, VictimAction.consent, VictimAction.reintegrate}
    ),
    VictimStatus.reintegrating: frozenset(
        {VictimAction.protect, VictimAction.support, VictimAction.consent, VictimAction.reintegrate}
    ),
    # Not a victim: nothing more under this law; consents can still be withdrawn.
    VictimStatus.not_a_victim: frozenset({VictimAction.consent}),
    VictimStatus.closed: frozenset({VictimAction.consent}),
}


class RuleViolation(Exception):
    def __init__(self, reason: str, allowed: list[str] | None = None, rule: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.allowed = allowed
        self.rule = rule


def check_action(status: VictimStatus, action: VictimAction) -> None:
    allowed = ALLOWED[status]
    if action not in allowed:
        raise RuleViolation(
            f"a person whose status is {status.value} cannot take the action {action.value}",
            sorted(a.value for a in allowed),
        )


def verification_due_at(received_at: datetime) -> datetime:
    """Art. 27 (amended): initial verification within 3 days of reception."""
    return received_at + VERIFICATION_PERIOD


def is_overdue(status: VictimStatus, due: datetime, now: datetime) -> bool:
    return status in PRESUMED and now > due


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


def status_after(
    action: VictimAction, status: VictimStatus, *, closed: bool = False
) -> VictimStatus:
    """Where an accepted action leaves the person. Presumed victims stay under verification
    until identification; protection and support move an identified person forward, never back."""
    if status is VictimStatus.received and action is not VictimAction.identify:
        return VictimStatus.under_verification
    if action is VictimAction.protect and status is VictimStatus.identified:
        return VictimStatus.protected
    if action is VictimAction.support and status in {
        VictimStatus.identified,
        VictimStatus.protected,
    }:
        return VictimStatus.supported
    if action is VictimAction.reintegrate:
        return VictimStatus.closed if closed else VictimStatus.reintegrating
    return status


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
