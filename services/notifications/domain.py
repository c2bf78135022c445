"""Who must know, and how a person wants to hear: the ladder of escalation as data, the channels,
and quiet hours. No I/O: the directory is asked by the use cases (``inbox.py``), which hand the
answers to :func:`recipients`.

The ladder (escalation): a deadline that approaches is for whoever holds the record (its
assignee) or, while nobody does, for every officer of the record's type whose jurisdiction
covers its ward; a deadline that was missed is, in addition, for the supervisors of that ward (a
ward's or its province's). An assignment is for the assignee alone. Deployments may reword it
with ``CTIP_NOTIFICATIONS_LADDER`` (JSON, kind -> audiences) and
``CTIP_NOTIFICATIONS_OFFICER_ROLES`` (JSON, record type -> role).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")


class Kind(StrEnum):
    """What a notification says happened (its SSE ``event:`` name)."""

    approaching = "deadline.approaching"
    missed = "deadline.missed"
    assigned = "assigned"


class Audience(StrEnum):
    """One rung of the ladder."""

    assignee = "assignee"
    """The record's assignee, when it has one (and the directory still knows them)."""
    assignee_or_officers = "assignee_or_officers"
    """The assignee; while nobody holds the record, the officers covering its ward."""
    officers = "officers"
    """The officers of the record's type covering its ward, assigned or not."""
    supervisors = "supervisors"
    """The supervisors covering the ward (a ward's own, or its province's)."""


# Whose clock it is: the role that works each type of record.
OFFICER_ROLES: Mapping[str, str] = MappingProxyType(
    {"tip": "intake_officer", "case": "investigator", "victim": "social_worker"}
)

LADDER: Mapping[Kind, tuple[Audience, ...]] = MappingProxyType(
    {
        Kind.approaching: (Audience.assignee_or_officers,),
        # Missed: the people who should have acted, and above them who answers for the ward.
        Kind.missed: (Audience.assignee_or_officers, Audience.supervisors),
        Kind.assigned: (Audience.assignee,),
    }
)

# Where a record is read through the gateway (deploy/gateway/nginx.conf): a notification links
# there and names nothing else of it.
LINKS: Mapping[str, str] = MappingProxyType(
    {
        "tip": "/intake/v1/tips/{id}",
        "case": "/casework/v1/cases/{id}",
        "victim": "/victim_support/v1/victims/{id}",
    }
)


@dataclass(frozen=True)
class Ladder:
    """The ladder in force: the defaults above, reworded by settings."""

    rungs: Mapping[Kind, tuple[Audience, ...]]
    officer_roles: Mapping[str, str]

    def audiences(self, kind: Kind) -> tuple[Audience, ...]:
        return self.rungs[kind]  # every kind: the defaults are under every override

    def officer_role(self, record_type: str) -> str | None:
        return self.officer_roles.get(record_type)


def ladder_from(
    rungs: Mapping[str, Sequence[str]] | None = None,
    officer_roles: Mapping[str, str] | None = None,
) -> Ladder:
    """The default ladder with the settings' overrides; an unknown kind or audience is a
    ``ValueError`` at start rather than a notification silently lost later."""
    merged: dict[Kind, tuple[Audience, ...]] = dict(LADDER)
    for kind, audiences in (rungs or {}).items():
        try:
            merged[Kind(kind)] = tuple(Audience(a) for a in audiences)
        except ValueError as exc:
            raise ValueError(f"ladder: {exc}") from exc
    return Ladder(
        MappingProxyType(merged), MappingProxyType({**OFFICER_ROLES, **(officer_roles or {})})
    )


def needs_officers(audiences: Iterable[Audience], assignee: str | None) -> bool:
    """Whether the directory must be asked for the ward's officers."""
    wanted = set(audiences)
    return Audience.officers in wanted or (
        Audience.assignee_or_officers in wanted and assignee is None
    )


def needs_supervisors(audiences: Iterable[Audience]) -> bool:
    return Audience.supervisors in set(audiences)


def recipients(
    audiences: Iterable[Audience],
    *,
    assignee: str | None,
    officers: Sequence[str] = (),
    supervisors: Sequence[str] = (),
) -> list[str]:
    """Everyone the rungs name, each once, in the order of the rungs. ``assignee`` is None when
    the record has none, or when the directory no longer knows them (they left)."""
    found: list[str] = []
    for audience in audiences:
        if audience is Audience.assignee:
            group: Sequence[str] = [assignee] if assignee else []
        elif audience is Audience.assignee_or_officers:
            group = [assignee] if assignee else officers
        elif audience is Audience.officers:
            group = officers
        else:
            group = supervisors
        found.extend(sub for sub in group if sub not in found)
    return found


def kind_of(event_type: str) -> Kind:
    """``intake.deadline.missed`` -> ``deadline.missed``; ``casework.case.assigned`` ->
    ``assigned``."""
    if event_type.endswith(".deadline.approaching"):
        return Kind.approaching
    if event_type.endswith(".deadline.missed"):
        return Kind.missed
    if event_type.endswith(".assigned"):
        return Kind.assigned
    raise ValueError(f"not an event notifications handle: {event_type}")


def link_to(record_type: str, record_id: object) -> str:
    template = LINKS.get(record_type)
    if template is None:
        raise ValueError(f"no link for a record of type {record_type!r}")
    return template.format(id=record_id)


# Preferences ------------------------------------------------------------------------------------


class Channel(StrEnum):
    inbox = "inbox"
    email = "email"
    webhook = "webhook"


# What a person who never chose gets: the inbox, e-mail, and the daily digest (a missed legal
# deadline must reach someone even if they never open the app); webhooks only on request (the
# province runs the SMS or Zalo gateway behind them).
DEFAULT_CHANNELS: tuple[Channel, ...] = (Channel.inbox, Channel.email)
DEFAULT_EMAIL_DIGEST = True


def with_inbox(channels: Iterable[Channel]) -> list[Channel]:
    """The chosen channels in a stable order, the inbox always among them: it is where every
    notification is kept, whatever else delivers it."""
    chosen = {Channel.inbox, *channels}
    return [c for c in Channel if c in chosen]


def in_quiet_hours(now: datetime, start: time | None, end: time | None) -> bool:
    """Whether ``now`` (aware) falls in the quiet hours ``[start, end)``, local time of Viet Nam.
    A window may run past midnight (22:00-06:00). No window, or an empty one, is never quiet."""
    if start is None or end is None or start == end:
        return False
    local = now.astimezone(LOCAL_TIME).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end
