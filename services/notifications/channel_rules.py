"""The channels' rules: when a message may leave (quiet hours, the digest window), which message a
notification joins, how long to wait after a failed attempt, and what an answer means. Pure data
and functions, no I/O; the clock is always an argument.

Times a person chooses (quiet hours, the daily digest) are local times of Viet Nam
(Asia/Ho_Chi_Minh, one zone, no daylight saving); every stored time is UTC."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from libs.common.jurisdiction import covers
from libs.common.schemas import VIETNAM

"""The partners' webhook schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): about 27 hours
before a delivery is kept as failed, so a mail server down over a night loses nothing."""
AUTH_REPLIES = frozenset((530, 534, 535, 538))
"""5xx replies about our own credentials: our configuration is wrong, not the address, so they
are retried (an operator fixes the password) rather than failing every message at once."""


class DeliveryChannel(StrEnum):
    """The channels that deliver (the inbox keeps, it does not send)."""

    email = "email"
    webhook = "webhook"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Outcome(StrEnum):
    sent = "sent"
    retry = "retry"
    failed = "failed"
    gone = "gone"
    """The receiver retired the endpoint (HTTP 410): this delivery fails and the endpoint is
    disabled until an administrator sets it again."""


# Quiet hours -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """``[start, end)`` local time; ``start > end`` spans midnight (22:00-06:00); equal times
    mean no quiet hours at all (a whole day of silence would be a channel turned off)."""

    start: time
    end: time

    def holds(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def until(self, now: datetime) -> datetime | None:
        """When the quiet hours holding at ``now`` end (UTC), or None when ``now`` is not quiet."""
        local = now.astimezone(VIETNAM)
        if not self.holds(local.time().replace(tzinfo=None)):
            return None
        end = datetime.combine(local.date(), self.end, tzinfo=VIETNAM)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)


def quiet_hours(start: time | None, end: time | None) -> QuietHours | None:
    """A person's quiet hours from their preferences; None unless both ends are set."""
    if start is None or end is None:
        return None
    return QuietHours(start, end)


def release_at(moment: datetime, quiet: QuietHours | None) -> datetime:
    """``moment``, or the end of the quiet hours holding then: e-mail and webhooks never leave
    inside a person's quiet hours."""
    if quiet is None:
        return moment
    return quiet.until(moment) or moment


# Digest window -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """The message a notification joins: ``key`` names it (None: a message of its own) and
    ``send_at`` is when it leaves."""

    key: str | None
    send_at: datetime


def email_slot(
    recipient: str, now: datetime, window_seconds: int, quiet: QuietHours | None
) -> Slot:
    """One message per person per window: windows are aligned on the epoch (``now`` in
    ``[k·w, (k+1)·w)`` joins the message sent at ``(k+1)·w``), so that every worker planning at
    the same moment names the same message. A window ending in quiet hours is sent when they end,
    in one message with everything else that arrived while it was quiet.

    ``window_seconds = 0`` sends each notification at once, on its own (quiet hours still hold).
    """
    if window_seconds <= 0:
        held = release_at(now, quiet)
        return Slot(f"email:{recipient}:quiet:{_stamp(held)}" if held != now else None, held)
    epoch = int(now.timestamp())
    closes = datetime.fromtimestamp(epoch - epoch % window_seconds + window_seconds, tz=UTC)
    held = release_at(closes, quiet)
    if held != closes:
        return Slot(f"email:{recipient}:quiet:{_stamp(held)}", held)
    return Slot(f"email:{recipient}:{_stamp(closes)}", closes)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Daily digest ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestDay:
    """The digest of ``day``: what was missed in ``[since, until)``, the day before it at the
    digest time up to that day at the digest time."""

    day: date
    since: datetime
    until: datetime

    def key(self, sub: str) -> str:
        """Exactly one digest per person and day, however many workers plan it."""
        return f"digest:{self.day.isoformat()}:{sub}"


def digest_due(now: datetime, at: time) -> DigestDay:
    """The latest digest whose time has come: today's once ``at`` (local) has passed, else
    yesterday's."""
    local = now.astimezone(VIETNAM)
    day = local.date() if local.time().replace(tzinfo=None) >= at else local.date() - timedelta(1)
    until = datetime.combine(day, at, tzinfo=VIETNAM)
    return DigestDay(day, (until - timedelta(days=1)).astimezone(UTC), until.astimezone(UTC))


@dataclass(frozen=True)
class MissedSignal:
    """One missed deadline (a signal, however many people were told of it): no person in it."""

    service: str
    record_type: str
    deadline_kind: str
    ward_code: str | None
    province_code: str | None
    link: str


@dataclass(frozen=True)
class DigestLine:
    service: str
    record_type: str
    deadline_kind: str
    count: int


def in_scope(signal: MissedSignal, jurisdiction: Sequence[str] | None) -> bool:
    """``None`` is the whole country (the steering committee); otherwise a code must cover the
    signal's ward, or its province when it has no ward."""
    if jurisdiction is None:
        return True
    return covers(tuple(jurisdiction), signal.ward_code or signal.province_code)


def digest_lines(
    signals: Iterable[MissedSignal], jurisdiction: Sequence[str] | None
) -> tuple[list[DigestLine], list[str]]:
    """Counts per service, record type and deadline kind (most first), and the links, for the
    signals within ``jurisdiction``."""
    chosen = [s for s in signals if in_scope(s, jurisdiction)]
    counts = Counter((s.service, s.record_type, s.deadline_kind) for s in chosen)
    lines = [
        DigestLine(service, record_type, kind, n)
        for (service, record_type, kind), n in sorted(
            counts.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    return lines, sorted({s.link for s in chosen})


# Retries -----------------------------------------------------------------------------------------


def smtp_outcome(code: int | None) -> Outcome:
    """An SMTP reply to the whole transaction (RFC 5321 §4.2.1): 2xx accepted; 5xx a permanent
    refusal (the address does not exist: retrying changes nothing) unless it is about our own
    credentials; 4xx, no reply at all (refused connection, timeout, dropped line) are retried."""
    if code is not None and 200 <= code < 300:
        return Outcome.sent
    if code is not None and 500 <= code < 600 and code not in AUTH_REPLIES:
        return Outcome.failed
    return Outcome.retry


def webhook_outcome(status_code: int | None) -> Outcome:
    """2xx delivered; 410 Gone retires the endpoint; anything else is retried."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome.sent
    if status_code == 410:
        return Outcome.gone
    return Outcome.retry
