"""What a notification says, in its reader's language: a title and a body per kind of event and
clock, English message ids whose Vietnamese forms are in the catalogue
(``libs/common/locale/vi/LC_MESSAGES/ctip.po``, read by ``libs/common/i18n.py``).

A message names the clock and links to the record; it never names a person of the record, so
nothing here reads more than a notification row holds. The e-mail channel renders the same
texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Protocol
from uuid import UUID

from libs.common.i18n import negotiate, translate
from services.notifications.domain import LOCAL_TIME, Kind

DAY, HOUR = 86_400, 3_600

# (record type, clock) -> title; an approaching one says how long is left: ``{left}``.
APPROACHING: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("tip", "resolution"): "Tip nearing its resolution deadline ({left})",
        ("tip", "extension_request"): "Last day to request an extension for a tip is near ({left})",
        ("victim", "verification"): "Victim verification deadline approaching ({left})",
        ("case", "stage"): "Case stage deadline approaching ({left})",
    }
)
MISSED: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("tip", "resolution"): "Tip resolution deadline missed",
        ("tip", "extension_request"): "Last day to request an extension for a tip has passed",
        ("victim", "verification"): "Victim verification deadline missed",
        ("case", "stage"): "Case stage deadline missed",
    }
)
ASSIGNED: Mapping[str, str] = MappingProxyType(
    {"tip": "A tip was assigned to you", "case": "A case was assigned to you"}
)
# A clock or record type added later still says something true.
APPROACHING_OTHER = "Deadline approaching ({left})"
MISSED_OTHER = "Deadline missed"
ASSIGNED_OTHER = "A record was assigned to you"

DAYS_LEFT, ONE_DAY_LEFT = "{days} days left", "1 day left"
HOURS_LEFT, ONE_HOUR_LEFT = "{hours} hours left", "1 hour left"
UNDER_AN_HOUR_LEFT = "less than an hour left"

BODIES: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.approaching: "Due {due}. Open: {link}",
        Kind.missed: "It was due {due}. Open: {link}",
        Kind.assigned: "Open: {link}",
    }
)

# How a moment is written, local time of Viet Nam.
MOMENT = MappingProxyType({"vi": "%H:%M ngày %d/%m/%Y", "en": "%Y-%m-%d %H:%M (UTC+7)"})


class Notified(Protocol):
    """What a message reads of a notification (a row, or its read model)."""

    @property
    def kind(self) -> str: ...
    @property
    def record_type(self) -> str: ...
    @property
    def record_id(self) -> UUID: ...
    @property
    def deadline_kind(self) -> str | None: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def threshold_seconds(self) -> int | None: ...
    @property
    def link(self) -> str: ...


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def language_of(locale: str | None) -> str:
    """The reader's language from the directory's ``locale`` (``vi``, ``en-GB``...): Vietnamese
    unless they read one of ours."""
    return negotiate(locale, "vi")


def say(template: str, language: str, **values: str) -> str:
    """``template`` in ``language``, then filled: the catalogue translates the template with its
    placeholders, so a value (a link, a date) is never read as a text to translate."""
    return translate(template, language).format(**values)


def time_left(threshold_seconds: int | None) -> str:
    """The English text of how long an approaching clock has left (a catalogued id)."""
    seconds = threshold_seconds or 0
    if seconds >= DAY and seconds % DAY == 0:
        return ONE_DAY_LEFT if seconds == DAY else DAYS_LEFT
    if seconds >= HOUR:
        return ONE_HOUR_LEFT if seconds // HOUR == 1 else HOURS_LEFT
    return UNDER_AN_HOUR_LEFT


def moment(when: datetime | None, language: str) -> str:
    if when is None:
        return "-"
    return when.astimezone(LOCAL_TIME).strftime(MOMENT.get(language, MOMENT["en"]))


def title_of(notification: Notified) -> str:
    """The English title (a catalogued id) of a notification."""
    clock = (notification.record_type, notification.deadline_kind or "")
    if notification.kind == Kind.approaching:
        return APPROACHING.get(clock, APPROACHING_OTHER)
    if notification.kind == Kind.missed:
        return MISSED.get(clock, MISSED_OTHER)
    return ASSIGNED.get(notification.record_type, ASSIGNED_OTHER)


def render(notification: Notified, language: str) -> Message:
    seconds = notification.threshold_seconds or 0
    left = say(time_left(seconds), language, days=str(seconds // DAY), hours=str(seconds // HOUR))
    title = say(title_of(notification), language, left=left)
    body = say(
        BODIES.get(Kind(notification.kind), BODIES[Kind.assigned]),
        language,
        due=moment(notification.due_at, language),
        link=notification.link,
    )
    return Message(title, body)


def templates() -> list[str]:
    """Every message id above: the catalogue must hold a Vietnamese form of each."""
    return [
        *APPROACHING.values(),
        *MISSED.values(),
        *ASSIGNED.values(),
        APPROACHING_OTHER,
        MISSED_OTHER,
        ASSIGNED_OTHER,
        DAYS_LEFT,
        ONE_DAY_LEFT,
        HOURS_LEFT,
        ONE_HOUR_LEFT,
        UNDER_AN_HOUR_LEFT,
        *BODIES.values(),
    ]
