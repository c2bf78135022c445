"""The daily digests of missed deadlines: once a day (07:00 in Viet Nam by default), one e-mail
to each supervisor with the deadlines missed in their jurisdiction over the last day, and one to
each member of the steering committee with everything missed in the country. Counts per service,
record type and deadline, and the records' links: no names.

The missed deadlines are the ``deadline.missed`` notifications of the day, each signal once
however many people it told. Who supervises is asked of the directory for the places where
something was missed, so a day when nothing was missed sends nothing. Exactly once per person
and day, whatever the number of workers or restarts: the delivery's key is
``digest:<day>:<sub>`` and a second plan of the same digest inserts nothing. A member of the
steering committee who also supervises a province gets the national digest only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from libs.common.directory import Person
from libs.common.ids import new_id
from services.notifications import delivery_repository as repository
from services.notifications.access import Ctx
from services.notifications.channel_rules import (
    DeliveryStatus,
    DigestDay,
    MissedSignal,
    digest_lines,
    release_at,
)
from services.notifications.deliveries import quiet_of
from services.notifications.domain import DEFAULT_EMAIL_DIGEST, Channel
from services.notifications.models import Delivery

log = logging.getLogger("ctip.notifications.digests")

STEERING_COMMITTEE = "steering_committee"
SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Reader:
    person: Person
    scope: tuple[str, ...] | None
    """The jurisdiction the digest counts; None for the whole country."""


async def readers(ctx: Ctx, signals: list[MissedSignal]) -> dict[str, Reader]:
    """Who gets a digest of ``signals``: the steering committee, then the supervisors of every
    place where something was missed."""
    directory = ctx.settings.directory
    found: dict[str, Reader] = {}
    for member in await directory.members(STEERING_COMMITTEE):
        found[member.sub] = Reader(member, None)
    places = sorted({code for s in signals if (code := s.ward_code or s.province_code)})
    for code in places:
        for supervisor in await directory.holders(SUPERVISOR, code):
            found.setdefault(supervisor.sub, Reader(supervisor, supervisor.jurisdiction))
    return found


async def plan(ctx: Ctx, due: DigestDay) -> int:
    """Plan the digests of ``due.day`` not planned yet; how many this call planned."""
    if not ctx.settings.email_enabled:
        return 0
    signals = await repository.missed_signals(ctx.session, due.since, due.until)
    if not signals:
        return 0
    found = await readers(ctx, signals)
    preferences = await repository.preferences_of(ctx.session, sorted(found))
    planned = 0
    for sub, reader in sorted(found.items()):
        preference = preferences.get(sub)
        wanted = preference.email_digest if preference is not None else DEFAULT_EMAIL_DIGEST
        if not wanted or not reader.person.email:
            continue
        lines, _ = digest_lines(signals, reader.scope)
        if not lines:
            continue
        quiet = quiet_of(preference)
        added = await repository.add_delivery(
            ctx.session,
            Delivery(
                id=new_id(),
                channel=Channel.email.value,
                kind="digest",
                recipient=sub,
                digest_key=due.key(sub),
                digest_since=due.since,
                digest_until=due.until,
                digest_scope=list(reader.scope) if reader.scope is not None else None,
                status=DeliveryStatus.pending.value,
                next_attempt_at=release_at(ctx.now, quiet),
                created_at=ctx.now,
            ),
        )
        planned += added
    if planned:
        log.info("digests of %s: %d planned", due.day, planned)
    return planned
