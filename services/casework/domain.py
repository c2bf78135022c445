"""Casework rules: the case lifecycle as data, who may take each step, stage deadlines, Penal Code
articles. Pure data and functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from libs.common.statemachine import RuleViolation, StateMachine, Transition


class CaseStatus(StrEnum):
    open = "open"
    investigating = "investigating"
    suspended = "suspended"
    indicted = "indicted"
    trial_scheduled = "trial_scheduled"
    adjudicated = "adjudicated"
    closed = "closed"


class CaseAction(StrEnum):
    initiate = "initiate"
    decline = "decline"
    suspend = "suspend"
    resume = "resume"
    indict = "indict"
    schedule_trial = "schedule_trial"
    record_verdict = "record_verdict"
    reopen_investigation = "reopen_investigation"
    close = "close"


class PartyRole(StrEnum):
    suspect = "suspect"
    victim = "victim"
    witness = "witness"


class TrialType(StrEnum):
    standard = "standard"
    mobile = "mobile"
    model = "model"


class VerdictOutcome(StrEnum):
    convicted = "convicted"
    acquitted = "acquitted"
    returned_for_investigation = "returned_for_investigation"


_INVESTIGATOR = frozenset({"investigator"})
_PROSECUTOR = frozenset({"prosecutor"})
_CLERK = frozenset({"court_clerk"})

# The criminal procedure's steps: (status, action) -> where it leads, who decides, the event.
CASES: StateMachine[CaseStatus, CaseAction] = StateMachine(
    "a case",
    {
        (CaseStatus.open, CaseAction.initiate): Transition(
            CaseStatus.investigating,
            _INVESTIGATOR,
            "initiated",
            "the investigating body decides to initiate the criminal case (CPC Art. 154)",
        ),
        (CaseStatus.open, CaseAction.decline): Transition(
            CaseStatus.closed,
            _INVESTIGATOR,
            "declined",
            "a decision not to initiate, on one of the grounds of CPC Art. 157",
        ),
        (CaseStatus.investigating, CaseAction.suspend): Transition(
            CaseStatus.suspended,
            _INVESTIGATOR,
            "suspended",
            "investigation suspended, e.g. the accused cannot be found (CPC Art. 229)",
        ),
        (CaseStatus.suspended, CaseAction.resume): Transition(
            CaseStatus.investigating,
            _INVESTIGATOR,
            "resumed",
            "the reason for suspension is gone (CPC Art. 237)",
        ),
        (CaseStatus.investigating, CaseAction.indict): Transition(
            CaseStatus.indicted,
            _PROSECUTOR,
            "indicted",
            "the procuracy issues the indictment (cáo trạng, CPC Art. 243)",
        ),
        (CaseStatus.indicted, CaseAction.schedule_trial): Transition(
            CaseStatus.trial_scheduled,
            _CLERK,
            "trial_scheduled",
            "the court decides to bring the case to trial (CPC Art. 255)",
        ),
        (CaseStatus.trial_scheduled, CaseAction.schedule_trial): Transition(
            CaseStatus.trial_scheduled,
            _CLERK,
            "trial_scheduled",
            "a postponed hearing gets a new date, venue or type",
        ),
        (CaseStatus.trial_scheduled, CaseAction.record_verdict): Transition(
            CaseStatus.adjudicated,
            _CLERK,
            "adjudicated",
            "the trial panel pronounces its judgment (bản án)",
        ),
        (CaseStatus.adjudicated, CaseAction.reopen_investigation): Transition(
            CaseStatus.investigating,
            _INVESTIGATOR,
            "resumed",
            "the court returned the file for additional investigation (CPC Art. 280)",
        ),
        (CaseStatus.adjudicated, CaseAction.close): Transition(
            CaseStatus.closed,
            _CLERK,
            "closed",
            "the judgment is final and the file is archived",
        ),
    },
)


# Legal facts -------------------------------------------------------------------------------------

ARTICLE_ADULT = 150  # Penal Code 2015 Art. 150: trafficking in persons (mua bán người)
ARTICLE_CHILD = 151  # Art. 151: trafficking in persons under 16 (mua bán người dưới 16 tuổi)
CHILD_AGE = 16


def age_on(
    born: date | None, age: int | None, recorded_at: datetime | None, on: date
) -> int | None:
    """Age on a given day from a date of birth, or from an age recorded at some moment."""
    if born is not None:
        years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        return years
    if age is not None and recorded_at is not None:
        return age + max(0, (on - recorded_at.date()).days // 365)
    return age


def check_article(article: int, victim_ages: list[int | None]) -> None:
    """Art. 151 when a victim was under 16, Art. 150 otherwise (Penal Code 2015)."""
    known = [a for a in victim_ages if a is not None]
    has_child = any(a < CHILD_AGE for a in known)
    if article not in (ARTICLE_ADULT, ARTICLE_CHILD):
        raise RuleViolation("penal_code_article must be 150 or 151")
    if has_child and article == ARTICLE_ADULT:
        raise RuleViolation("a victim is under 16: the Penal Code's Art. 151 applies, not Art. 150")
    if article == ARTICLE_CHILD and not has_child:
        raise RuleViolation(
            "Art. 151 applies to victims under 16; link the victim with a date of birth or age"
        )


def check_verdict(outcome: VerdictOutcome, sentenced: set[str], defendants: set[str]) -> None:
    """A conviction sentences only the indicted defendants; other outcomes carry no sentence."""
    if outcome is VerdictOutcome.convicted:
        if not sentenced:
            raise RuleViolation("a conviction needs the sentence of at least one defendant")
        strangers = sentenced - defendants
        if strangers:
            raise RuleViolation("sentences name persons who are not defendants of the indictment")
    elif sentenced:
        raise RuleViolation(f"an outcome of {outcome.value} carries no sentences")


def check_reopen(last_verdict: str | None) -> None:
    if last_verdict != VerdictOutcome.returned_for_investigation.value:
        raise RuleViolation(
            "only a case the court returned for additional investigation can be reopened"
        )


# Stage deadlines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRules:
    """How long each stage may last; defaults from the Criminal Procedure Code 2015 (Art. 172(1),
    277(1)); a trial's stage lasts until its scheduled date."""

    investigation: relativedelta = field(default_factory=lambda: relativedelta(months=4))
    trial_preparation: relativedelta = field(default_factory=lambda: relativedelta(months=2))


def stage_due_at(
    status: CaseStatus, entered_at: datetime, rules: StageRules, scheduled_for: datetime | None
) -> datetime | None:
    if status is CaseStatus.investigating:
        return entered_at + rules.investigation
    if status is CaseStatus.indicted:
        return entered_at + rules.trial_preparation
    if status is CaseStatus.trial_scheduled:
        return scheduled_for
    return None


def is_overdue(due: datetime | None, now: datetime) -> bool:
    return due is not None and now > due


# A stage's deadline as the deadline watch names it (DESIGN §11): record type ``case``, clock
# ``stage``. It is watched while the case is in a stage that has one; a new deadline re-arms it.
WATCHED_RECORD = "case"
STAGE_CLOCK = "stage"


def watched_deadline(status: CaseStatus, due: datetime | None) -> datetime | None:
    """The deadline to watch in ``status``: none once the case is closed, whatever was kept."""
    return None if status is CaseStatus.closed else due


# Who a case can be given to: an investigator whose jurisdiction covers its ward.
ASSIGNEE_ROLE = "investigator"


OPEN_STATUSES = frozenset(s for s in CaseStatus if s is not CaseStatus.closed)
