"""Intake's rules, pure: the tip lifecycle, the legal clock of Criminal Procedure Code Art. 147
(20 days; 2 months if complex; one procuracy extension of 2 months, asked 5 days ahead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from libs.common.schemas import VIETNAM
from libs.common.statemachine import RuleViolation as RuleViolation
from libs.common.statemachine import StateMachine, Transition
from libs.contracts.taxonomy import ExploitationType as ExploitationType


class TipStatus(StrEnum):
    received = "received"
    triaged = "triaged"
    verified = "verified"
    closed = "closed"


OPEN_STATUSES = frozenset({TipStatus.received, TipStatus.triaged})


class Channel(StrEnum):
    hotline = "hotline"
    web = "web"
    mobile = "mobile"
    walk_in = "walk_in"
    police = "police"
    partner = "partner"
    other = "other"


class PersonRole(StrEnum):
    victim = "victim"
    suspect = "suspect"
    witness = "witness"


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class TraffickingRelated(StrEnum):
    yes = "yes"
    no = "no"
    unclear = "unclear"


class Priority(StrEnum):
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class VerificationOutcome(StrEnum):
    substantiated = "substantiated"
    unsubstantiated = "unsubstantiated"
    referred = "referred"
    duplicate = "duplicate"


class ExtensionKind(StrEnum):
    complex_case = "complex_case"
    procuracy = "procuracy"


class TipAction(StrEnum):
    classify = "classify"
    verify = "verify"
    extend = "extend"
    message_reporter = "message_reporter"
    reporter_message = "reporter_message"
    attach_file = "attach_file"
    assign = "assign"


def _stays(
    status: TipStatus, *actions: TipAction
) -> dict[tuple[TipStatus, TipAction], Transition[TipStatus]]:
    """Actions that leave the tip where it is."""
    return {(status, action): Transition(status) for action in actions}


_TALK = (TipAction.extend, TipAction.message_reporter, TipAction.reporter_message)
# An open tip is given to an officer; a verified one is casework's, a closed one no one's.
_WORK = (TipAction.assign,)
# Files join a tip until it is closed: a verified tip's files are listed with its case's evidence.
_FILES = (TipAction.attach_file,)

# Classified before verified (the plan's 100% target); ``verify`` leads where VERIFICATION_STATUS
# says, and a closed tip still takes a word to the reporter (why it was closed).
TIP_LIFECYCLE: StateMachine[TipStatus, TipAction] = StateMachine(
    "a tip",
    {
        (TipStatus.received, TipAction.classify): Transition(TipStatus.triaged),
        **_stays(TipStatus.received, *_TALK, *_FILES, *_WORK),
        (TipStatus.triaged, TipAction.classify): Transition(TipStatus.triaged),
        (TipStatus.triaged, TipAction.verify): Transition(TipStatus.verified),
        **_stays(TipStatus.triaged, *_TALK, *_FILES, *_WORK),
        **_stays(
            TipStatus.verified, TipAction.message_reporter, TipAction.reporter_message, *_FILES
        ),
        **_stays(TipStatus.closed, TipAction.message_reporter),
    },
)

VERIFICATION_STATUS: dict[VerificationOutcome, TipStatus] = {
    VerificationOutcome.substantiated: TipStatus.verified,
    VerificationOutcome.unsubstantiated: TipStatus.closed,
    VerificationOutcome.referred: TipStatus.closed,
    VerificationOutcome.duplicate: TipStatus.closed,
}


# The legal clock --------------------------------------------------------------------------------

BASE_PERIOD = timedelta(days=20)
COMPLEX_PERIOD = relativedelta(months=2)
PROCURACY_EXTENSION = relativedelta(months=2)
EXTENSION_LEAD = timedelta(days=5)
DUE_SOON = timedelta(days=5)


def resolution_due_at(
    received_at: datetime, extensions: list[ExtensionKind] | None = None
) -> datetime:
    """The deadline after the extensions granted so far (Art. 147(1)-(3)), in months of the
    calendar of Viet Nam: a tip received at 05:00 on 31 December in Hà Nội (22:00 on the 30th in
    UTC) has until 28 February, not 1 March. ``received_at`` is aware, as every moment here."""
    kinds = set(extensions or ())
    local = received_at.astimezone(VIETNAM)
    due = local + BASE_PERIOD
    if ExtensionKind.complex_case in kinds:
        due = local + COMPLEX_PERIOD
    if ExtensionKind.procuracy in kinds:
        due = due + PROCURACY_EXTENSION
    return due.astimezone(received_at.tzinfo)


@dataclass(frozen=True)
class Extension:
    kind: ExtensionKind
    new_due_at: datetime


def extend(
    *,
    kind: ExtensionKind,
    received_at: datetime,
    granted: list[ExtensionKind],
    current_due_at: datetime,
    now: datetime,
) -> Extension:
    """Grant an extension or say which rule refuses it."""
    if kind in granted:
        raise RuleViolation(f"the {kind.value} extension was already granted; the law allows one")
    if kind is ExtensionKind.complex_case and ExtensionKind.procuracy in granted:
        raise RuleViolation("a complex-case period cannot follow the procuracy's extension")
    if now > current_due_at - EXTENSION_LEAD:
        raise RuleViolation(
            "an extension must be requested at least 5 days before the deadline "
            f"(due {current_due_at.isoformat()}, Criminal Procedure Code Art. 147(3))"
        )
    new_due = resolution_due_at(received_at, [*granted, kind])
    if new_due <= current_due_at:
        raise RuleViolation("this extension would not move the deadline")
    return Extension(kind, new_due)


# A tip as the deadline watch and assignment name it (DESIGN §11): record type ``tip``; it is
# given to an intake officer whose jurisdiction covers its place.
WATCHED_RECORD = "tip"
ASSIGNEE_ROLE = "intake_officer"


class TipClock(StrEnum):
    """A tip's clocks as the deadline watch names them (``deadline_kind``, DESIGN §11)."""

    resolution = "resolution"
    # the last day to ask the procuracy for its extension: 5 days before the deadline
    extension_request = "extension_request"


def watched_clocks(due_at: datetime, granted: list[ExtensionKind]) -> dict[TipClock, datetime]:
    """The clocks of an open tip and when each runs out: its resolution, and, while the
    procuracy's extension (the one Art. 147 allows) has not been granted, the last day to ask
    for it. A complex-case period moves both; the procuracy's extension ends the second."""
    clocks = {TipClock.resolution: due_at}
    if ExtensionKind.procuracy not in granted:
        clocks[TipClock.extension_request] = due_at - EXTENSION_LEAD
    return clocks


def is_overdue(status: TipStatus, due_at: datetime, now: datetime) -> bool:
    return status in OPEN_STATUSES and now > due_at


def is_due_soon(status: TipStatus, due_at: datetime, now: datetime) -> bool:
    return status in OPEN_STATUSES and now <= due_at <= now + DUE_SOON


# Missing-person reports (đơn trình báo mất tích) --------------------------------------------------


class MissingPersonStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class MissingPersonOutcome(StrEnum):
    found_safe = "found_safe"
    found_victim = "found_victim"
    found_deceased = "found_deceased"
    withdrawn = "withdrawn"


def check_resolvable(status: MissingPersonStatus) -> None:
    if status is not MissingPersonStatus.open:
        raise RuleViolation("the report is already resolved", [])


def birth_year(date_of_birth: object | None, age: int | None, at: datetime) -> int | None:
    """The birth year from a date of birth, or estimated from an age at a moment."""
    year = getattr(date_of_birth, "year", None)
    if isinstance(year, int):
        return year
    if age is not None:
        return at.year - age
    return None


class Publication(StrEnum):
    """Whether partners are alerted: a report from the public waits for an officer's review."""

    pending = "pending"
    published = "published"
    held = "held"


class ReviewDecision(StrEnum):
    publish = "publish"
    hold = "hold"


REVIEW_OUTCOME: dict[ReviewDecision, Publication] = {
    ReviewDecision.publish: Publication.published,
    ReviewDecision.hold: Publication.held,
}


def review(
    status: MissingPersonStatus, publication: Publication, decision: ReviewDecision
) -> Publication:
    """The publication after an officer's review: a held report may be reviewed again, a
    published one cannot be taken back, a resolved one is reviewed no more."""
    if status is not MissingPersonStatus.open:
        raise RuleViolation("the report is resolved; it is no longer reviewed", [])
    if publication is Publication.published:
        raise RuleViolation("the report is already published; partners were alerted", [])
    return REVIEW_OUTCOME[decision]


# Evidence files ---------------------------------------------------------------------------------

MAX_FILES_PER_TIP = 20


def check_file_count(files_so_far: int) -> None:
    """A tip holds at most 20 files (413 for the next: it is the tip that is full)."""
    if files_so_far >= MAX_FILES_PER_TIP:
        raise RuleViolation(f"a tip holds at most {MAX_FILES_PER_TIP} files")


def files_purge_cutoff(now: datetime, retention_days: int) -> datetime:
    """Files of a tip closed as unsubstantiated before this moment are deleted: nothing was
    found, and a reporter's photo or voice is kept no longer than the retention period."""
    return now - timedelta(days=retention_days)
