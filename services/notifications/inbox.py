"""Each person's notifications: told of an event (the ladder, asked of the directory), listed,
marked read. A notification is the caller's own or it does not exist for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from libs.common.directory import Directory
from libs.common.errors import NotFound
from libs.common.events import CloudEvent
from libs.common.ids import new_id
from libs.contracts.deadlines import DeadlineSignal, Jurisdiction, RecordAssigned
from services.notifications import domain, repository
from services.notifications.access import Ctx
from services.notifications.domain import Kind, Ladder
from services.notifications.messages import language_of, render
from services.notifications.models import Notification
from services.notifications.schemas import NotificationOut

TEXTS = {"title", "body"}


def ladder_of(ctx: Ctx) -> Ladder:
    return domain.ladder_from(ctx.settings.ladder, ctx.settings.officer_roles)


async def recipients(
    directory: Directory,
    ladder: Ladder,
    kind: Kind,
    record_type: str,
    where: Jurisdiction,
    assignee: str | None,
) -> list[str]:
    """Who the ladder names for this event, as the directory knows them now. An assignee the
    directory no longer knows (they left, or were disabled) holds nothing: the ward's officers
    are told instead, where the ladder says so."""
    audiences = ladder.audiences(kind)
    holder = assignee if assignee and await directory.person(assignee) is not None else None
    place = where.ward_code or where.province_code
    officers: list[str] = []
    role = ladder.officer_role(record_type)
    if domain.needs_officers(audiences, holder) and role is not None and place is not None:
        officers = [p.sub for p in await directory.holders(role, place)]
    supervisors: list[str] = []
    if domain.needs_supervisors(audiences) and place is not None:
        supervisors = [p.sub for p in await directory.holders("supervisor", place)]
    return domain.recipients(audiences, assignee=holder, officers=officers, supervisors=supervisors)


def source_event_id(event: CloudEvent) -> UUID:
    """The event's id as a UUID (ours are); another producer's id is named within its source."""
    try:
        return UUID(event.id)
    except ValueError:
        return uuid5(NAMESPACE_URL, f"{event.source}#{event.id}")


async def _tell(
    ctx: Ctx,
    event: CloudEvent,
    kind: Kind,
    record_type: str,
    record_id: UUID,
    where: Jurisdiction,
    assignee: str | None,
    clock: dict[str, Any],
) -> int:
    people = await recipients(
        ctx.settings.directory, ladder_of(ctx), kind, record_type, where, assignee
    )
    common = {
        "kind": kind.value,
        "service": event.short_type.split(".", 1)[0],
        "record_type": record_type,
        "record_id": record_id,
        "ward_code": where.ward_code,
        "province_code": where.province_code,
        "link": domain.link_to(record_type, record_id),
        "source_event_id": source_event_id(event),
        "created_at": ctx.now,
        **clock,
    }
    rows = [{"id": new_id(), "recipient": sub, **common} for sub in people]
    return await repository.insert_notifications(ctx.session, rows)


async def tell_deadline(ctx: Ctx, event: CloudEvent, signal: DeadlineSignal) -> int:
    """An approaching or missed deadline, told to whom the ladder names. Returns how many."""
    clock = {
        "deadline_kind": signal.deadline_kind,
        "due_at": signal.due_at,
        "threshold_seconds": signal.threshold_seconds,
    }
    return await _tell(
        ctx,
        event,
        domain.kind_of(event.short_type),
        signal.record_type,
        signal.record_id,
        signal.jurisdiction,
        signal.assignee,
        clock,
    )


async def tell_assigned(ctx: Ctx, event: CloudEvent, assigned: RecordAssigned) -> int:
    clock = {"deadline_kind": None, "due_at": None, "threshold_seconds": None}
    return await _tell(
        ctx,
        event,
        Kind.assigned,
        assigned.record_type,
        assigned.record_id,
        assigned.jurisdiction,
        assigned.assignee,
        clock,
    )


async def reader_language(ctx: Ctx) -> str:
    """The caller's language, from the directory (Vietnamese when it does not know them)."""
    person = await ctx.settings.directory.person(ctx.sub)
    return language_of(person.locale if person is not None else None)


def shown(row: Notification, language: str) -> NotificationOut:
    """The read model of a row, its title and body in ``language``."""
    message = render(row, language)
    columns = {name: getattr(row, name) for name in NotificationOut.model_fields.keys() - TEXTS}
    return NotificationOut(**columns, title=message.title, body=message.body)


async def list_mine(
    ctx: Ctx, *, unread: bool, below: int | None, limit: int
) -> Sequence[NotificationOut]:
    rows = await repository.page(
        ctx.session, ctx.require_principal().sub, unread=unread, below=below, limit=limit
    )
    language = await reader_language(ctx)
    return [shown(row, language) for row in rows]


async def mark_read(ctx: Ctx, notification_id: UUID) -> NotificationOut:
    """Read once: a second call keeps the first moment. Another person's is not found."""
    row = await repository.mine_for_update(
        ctx.session, ctx.require_principal().sub, notification_id
    )
    if row is None:
        raise NotFound("no such notification")
    if row.read_at is None:
        row.read_at = ctx.now
        await ctx.session.flush()
    return shown(row, await reader_language(ctx))
