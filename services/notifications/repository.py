"""Every query of notifications' inbox and preferences. A person's notifications are always read
by their ``recipient``: nobody's query reaches another's rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.scoping import jurisdiction_clause
from services.notifications.models import Notification, Preference

# Taken in a stable order (no deadlock between two writers), held until commit.
_LOCK_RECIPIENTS = text(
    "SELECT pg_advisory_xact_lock(k) FROM ("
    " SELECT DISTINCT hashtextextended('ctip-notifications:' || r, 0) AS k"
    " FROM unnest(CAST(:recipients AS text[])) AS r ORDER BY 1) AS keys"
)


async def insert_notifications(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """One statement; an event already told to a recipient is skipped. Returns rows inserted.

    Each recipient's lock is held to the commit, so one person's notifications commit in the
    order of their ``seq``: a stream that sent ``seq`` n never later finds a smaller one
    committed behind it (two consumers telling one person at once would otherwise race)."""
    if not rows:
        return 0
    await session.execute(_LOCK_RECIPIENTS, {"recipients": sorted({r["recipient"] for r in rows})})
    statement = (
        insert(Notification)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["source_event_id", "recipient"])
        .returning(Notification.id)
    )
    return len((await session.execute(statement)).all())


async def page(
    session: AsyncSession, recipient: str, *, unread: bool, below: int | None, limit: int
) -> Sequence[Notification]:
    """The recipient's notifications, newest first, below the ``seq`` of the last one seen."""
    query = select(Notification).where(Notification.recipient == recipient)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if below is not None:
        query = query.where(Notification.seq < below)
    query = query.order_by(Notification.seq.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def after(
    session: AsyncSession, recipient: str, seq: int, limit: int
) -> Sequence[Notification]:
    """The recipient's notifications after ``seq``, oldest first: what a stream sends next."""
    query = (
        select(Notification)
        .where(Notification.recipient == recipient, Notification.seq > seq)
        .order_by(Notification.seq)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def latest_seq(session: AsyncSession, recipient: str) -> int:
    query = select(func.coalesce(func.max(Notification.seq), 0)).where(
        Notification.recipient == recipient
    )
    return int((await session.execute(query)).scalar_one())


async def mine_for_update(
    session: AsyncSession, recipient: str, notification_id: UUID
) -> Notification | None:
    query = (
        select(Notification)
        .where(Notification.id == notification_id, Notification.recipient == recipient)
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def preference(session: AsyncSession, recipient: str) -> Preference | None:
    return await session.get(Preference, recipient)


async def put_preference(session: AsyncSession, values: dict[str, Any]) -> Preference:
    """Insert or replace one person's preferences, read back."""
    statement = (
        insert(Preference)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[Preference.recipient],
            set_={k: v for k, v in values.items() if k != "recipient"},
        )
        .returning(Preference)
        .execution_options(populate_existing=True)
    )
    stored = (await session.execute(statement)).scalar_one()
    return stored


async def counts_by_kind(
    session: AsyncSession,
    principal: Principal,
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[str, int, int]]:
    """(kind, created, read) over notifications about records of the caller's jurisdiction."""
    conditions = [
        jurisdiction_clause(principal, Notification.ward_code, Notification.province_code)
    ]
    if start is not None:
        conditions.append(Notification.created_at >= start)
    if end is not None:
        conditions.append(Notification.created_at < end)
    query = (
        select(
            Notification.kind,
            func.count(),
            func.count(Notification.read_at),
        )
        .where(*conditions)
        .group_by(Notification.kind)
        .order_by(Notification.kind)
    )
    return [(kind, created, read) for kind, created, read in (await session.execute(query)).all()]
