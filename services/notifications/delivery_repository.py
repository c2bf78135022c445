"""Every query of the channels: notifications left to plan, deliveries (folded by window,
claimed, recorded, listed), the provinces' endpoints, and the missed signals of a digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import and_, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.ids import new_id
from services.notifications.channel_rules import DeliveryStatus, MissedSignal
from services.notifications.models import ChannelEndpoint, Delivery, Notification, Preference

PENDING = DeliveryStatus.pending.value


# Planning ----------------------------------------------------------------------------------------


async def unplanned(session: AsyncSession, limit: int) -> Sequence[Notification]:
    """The oldest notifications whose deliveries are not planned yet, locked; another worker
    skips them and takes the next ones."""
    query = (
        select(Notification)
        .where(Notification.delivery_planned.is_(False))
        .order_by(Notification.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalars().all()


async def mark_planned(session: AsyncSession, ids: Sequence[UUID]) -> None:
    if ids:
        await session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(delivery_planned=True)
        )


async def preferences_of(session: AsyncSession, subs: Sequence[str]) -> dict[str, Preference]:
    if not subs:
        return {}
    rows = await session.execute(select(Preference).where(Preference.recipient.in_(subs)))
    return {p.recipient: p for p in rows.scalars()}


async def join_window(
    session: AsyncSession,
    *,
    key: str,
    recipient: str,
    notification_id: UUID,
    send_at: datetime,
    now: datetime,
) -> bool:
    """Add the notification to the person's e-mail of this window (making it if it is the
    first); False when that e-mail was already taken by a worker, and joins nothing more."""
    statement = (
        insert(Delivery)
        .values(
            id=new_id(),
            channel="email",
            kind="notices",
            recipient=recipient,
            notification_ids=[notification_id],
            digest_key=key,
            status=PENDING,
            next_attempt_at=send_at,
            created_at=now,
        )
        .on_conflict_do_update(
            index_elements=[Delivery.digest_key],
            set_={
                "notification_ids": func.array_append(Delivery.notification_ids, notification_id)
            },
            where=and_(Delivery.status == PENDING, Delivery.last_attempt_at.is_(None)),
        )
        .returning(Delivery.id)
    )
    return (await session.execute(statement)).first() is not None


async def add_delivery(session: AsyncSession, delivery: Delivery) -> bool:
    """Insert ``delivery``; False when its ``digest_key`` exists already (another worker
    planned the same digest)."""
    values = {c.key: getattr(delivery, c.key) for c in Delivery.__table__.columns}
    values = {k: v for k, v in values.items() if v is not None}
    statement = insert(Delivery).values(**values).on_conflict_do_nothing().returning(Delivery.id)
    return (await session.execute(statement)).first() is not None


async def endpoint_provinces(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    """The provinces among ``codes`` that have a gateway (enabled or not: a disabled one keeps
    its deliveries pending until it is set again)."""
    if not codes:
        return set()
    query = select(ChannelEndpoint.province_code).where(ChannelEndpoint.province_code.in_(codes))
    return set((await session.execute(query)).scalars())


# Sending -----------------------------------------------------------------------------------------


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    channels: Sequence[str],
) -> Sequence[Delivery]:
    """Take up to ``limit`` due deliveries: each is due again only after ``lease`` (a worker
    that died mid-send), and joins no more notifications. A webhook waits while its province's
    gateway is disabled."""
    gateway_enabled = exists().where(
        ChannelEndpoint.province_code == Delivery.province_code, ChannelEndpoint.enabled
    )
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == PENDING,
            Delivery.next_attempt_at <= now,
            Delivery.channel.in_(channels),
            or_(Delivery.channel != "webhook", gateway_enabled),
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(due))
        .values(last_attempt_at=now, next_attempt_at=now + lease)
        .returning(Delivery)
    )
    return (await session.execute(statement)).scalars().all()


async def get_delivery(
    session: AsyncSession, delivery_id: UUID, *, for_update: bool = False
) -> Delivery | None:
    query = select(Delivery).where(Delivery.id == delivery_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def notifications(session: AsyncSession, ids: Sequence[UUID]) -> Sequence[Notification]:
    if not ids:
        return []
    query = select(Notification).where(Notification.id.in_(ids)).order_by(Notification.seq)
    return (await session.execute(query)).scalars().all()


async def preference(session: AsyncSession, sub: str) -> Preference | None:
    return await session.get(Preference, sub)


async def missed_signals(
    session: AsyncSession, since: datetime, until: datetime
) -> list[MissedSignal]:
    """Each deadline missed in ``[since, until)`` once, however many people were told of it."""
    query = (
        select(
            Notification.service,
            Notification.record_type,
            Notification.deadline_kind,
            Notification.ward_code,
            Notification.province_code,
            Notification.link,
        )
        .where(
            Notification.kind == "deadline.missed",
            Notification.created_at >= since,
            Notification.created_at < until,
        )
        .ext(distinct_on(Notification.source_event_id))
        .order_by(Notification.source_event_id)
    )
    return [
        MissedSignal(
            service=row.service,
            record_type=row.record_type,
            deadline_kind=row.deadline_kind or "",
            ward_code=row.ward_code,
            province_code=row.province_code,
            link=row.link,
        )
        for row in await session.execute(query)
    ]


# Endpoints ---------------------------------------------------------------------------------------


async def get_endpoint(
    session: AsyncSession, province_code: str | None, *, for_update: bool = False
) -> ChannelEndpoint | None:
    if province_code is None:
        return None
    query = select(ChannelEndpoint).where(ChannelEndpoint.province_code == province_code)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_endpoints(session: AsyncSession) -> Sequence[ChannelEndpoint]:
    query = select(ChannelEndpoint).order_by(ChannelEndpoint.province_code)
    return (await session.execute(query)).scalars().all()


# Administration ----------------------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None,
    channel: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Delivery]:
    """Newest first."""
    query = select(Delivery)
    if status:
        query = query.where(Delivery.status == status)
    if channel:
        query = query.where(Delivery.channel == channel)
    if after is not None:
        query = query.where(tuple_(Delivery.created_at, Delivery.id) < tuple_(*after))
    query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()
