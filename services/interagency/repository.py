"""Interagency queries. Only this module builds SQL for interagency's own tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    delete,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.scoping import jurisdiction_clause
from services.interagency.domain import AlertType, PartnerStatus
from services.interagency.models import (
    Alert,
    Delivery,
    DeliveryAttempt,
    InboundReceipt,
    Match,
    MissingPersonRef,
    Partner,
)

# Partners -----------------------------------------------------------------------------------------


async def get_partner(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> Partner | None:
    query = select(Partner).where(Partner.code == code)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_partners(
    session: AsyncSession, *, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[Partner]:
    query = select(Partner)
    if after is not None:
        query = query.where(tuple_(Partner.created_at, Partner.id) < tuple_(*after))
    query = query.order_by(Partner.created_at.desc(), Partner.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def subscribed_partners(session: AsyncSession, alert_type: str) -> Sequence[Partner]:
    query = (
        select(Partner)
        .where(
            Partner.status == PartnerStatus.enabled.value,
            Partner.alert_types.contains([alert_type]),
        )
        .order_by(Partner.code)
    )
    return (await session.execute(query)).scalars().all()


async def partners_by_code(session: AsyncSession, codes: Sequence[str]) -> Sequence[Partner]:
    query = select(Partner).where(Partner.code.in_(codes)).order_by(Partner.code)
    return (await session.execute(query)).scalars().all()


# Alerts and deliveries ----------------------------------------------------------------------------


async def get_alert(session: AsyncSession, alert_id: UUID) -> Alert | None:
    return await session.get(Alert, alert_id)


async def list_alerts(
    session: AsyncSession,
    *,
    conditions: list[ColumnElement[bool]],
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Alert]:
    query = select(Alert).where(*conditions)
    if after is not None:
        query = query.where(tuple_(Alert.created_at, Alert.id) < tuple_(*after))
    query = query.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


def alert_scope(principal: Principal) -> ColumnElement[bool]:
    """An alert is read where it belongs (its owner's ward or province, see ``domain.Owner``)
    and, when it is about one of our missing persons, in that person's area too. Situation
    bulletins (no personal data) are everyone's. Anything else is 404 to the reader."""
    ours = select(MissingPersonRef.missing_person_id).where(
        jurisdiction_clause(
            principal, MissingPersonRef.last_seen_ward_code, MissingPersonRef.province_code
        )
    )
    return or_(
        Alert.alert_type == AlertType.situation_bulletin.value,
        jurisdiction_clause(principal, Alert.owner_ward_code, Alert.owner_province_code),
        Alert.subject_id.in_(ours),
    )


async def visible_alert(
    session: AsyncSession, principal: Principal, alert_id: UUID
) -> Alert | None:
    """The alert if this reader may see it (``alert_scope``), else None."""
    query = select(Alert).where(Alert.id == alert_id, alert_scope(principal))
    return (await session.execute(query)).scalar_one_or_none()


def alert_filters(
    *,
    direction: str | None,
    alert_type: str | None,
    partner_code: str | None,
    subject_id: UUID | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if direction:
        conditions.append(Alert.direction == direction)
    if alert_type:
        conditions.append(Alert.alert_type == alert_type)
    if subject_id:
        conditions.append(Alert.subject_id == subject_id)
    if partner_code:
        sent_to = select(Delivery.alert_id).where(Delivery.partner_code == partner_code)
        conditions.append(or_(Alert.partner_code == partner_code, Alert.id.in_(sent_to)))
    return conditions


async def delivery_counts(
    session: AsyncSession, alert_ids: Sequence[UUID]
) -> dict[UUID, dict[str, int]]:
    if not alert_ids:
        return {}
    query = (
        select(Delivery.alert_id, Delivery.status, func.count())
        .where(Delivery.alert_id.in_(alert_ids))
        .group_by(Delivery.alert_id, Delivery.status)
    )
    counts: dict[UUID, dict[str, int]] = {}
    for alert_id, status, count in (await session.execute(query)).all():
        counts.setdefault(alert_id, {})[status] = count
    return counts


async def deliveries_of(session: AsyncSession, alert_id: UUID) -> Sequence[Delivery]:
    query = select(Delivery).where(Delivery.alert_id == alert_id).order_by(Delivery.partner_code)
    return (await session.execute(query)).scalars().all()


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[UUID]
) -> dict[UUID, list[DeliveryAttempt]]:
    if not delivery_ids:
        return {}
    query = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
        .order_by(DeliveryAttempt.attempted_at, DeliveryAttempt.id)
    )
    attempts: dict[UUID, list[DeliveryAttempt]] = {}
    for attempt in (await session.execute(query)).scalars():
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return attempts


async def get_delivery(
    session: AsyncSession, delivery_id: UUID, *, for_update: bool = False
) -> Delivery | None:
    query = select(Delivery).where(Delivery.id == delivery_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None,
    partner_code: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Delivery]:
    query = select(Delivery)
    if status:
        query = query.where(Delivery.status == status)
    if partner_code:
        query = query.where(Delivery.partner_code == partner_code)
    if after is not None:
        query = query.where(tuple_(Delivery.created_at, Delivery.id) < tuple_(*after))
    query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


# Inbound ------------------------------------------------------------------------------------------


async def record_receipt(
    session: AsyncSession, partner_code: str, webhook_id: str, alert_id: UUID, at: datetime
) -> bool:
    """True when this webhook-id is new for the partner (the insert happened)."""
    result = await session.execute(
        insert(InboundReceipt)
        .values(partner_code=partner_code, webhook_id=webhook_id, alert_id=alert_id, received_at=at)
        .on_conflict_do_nothing()
        .returning(InboundReceipt.alert_id)
    )
    return result.first() is not None


async def prune_receipts(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(InboundReceipt).where(InboundReceipt.received_at < before))


async def get_receipt(
    session: AsyncSession, partner_code: str, webhook_id: str
) -> InboundReceipt | None:
    return await session.get(InboundReceipt, (partner_code, webhook_id))


# Figures ------------------------------------------------------------------------------------------


def _period(column: Any, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


async def alert_counts(
    session: AsyncSession, start: datetime | None, end: datetime | None
) -> dict[tuple[str, str], int]:
    query = (
        select(Alert.direction, Alert.alert_type, func.count())
        .where(*_period(Alert.created_at, start, end))
        .group_by(Alert.direction, Alert.alert_type)
    )
    return {(d, t): n for d, t, n in (await session.execute(query)).all()}


async def received_by_partner(
    session: AsyncSession, start: datetime | None, end: datetime | None
) -> dict[str, int]:
    query = (
        select(Alert.partner_code, func.count())
        .where(Alert.direction == "in", *_period(Alert.created_at, start, end))
        .group_by(Alert.partner_code)
    )
    return {str(code): n for code, n in (await session.execute(query)).all()}


async def delivery_figures(
    session: AsyncSession, start: datetime | None, end: datetime | None
) -> tuple[dict[str, int], dict[str, int]]:
    """(deliveries by status, deliveries by partner) of alerts created in the period."""
    query = (
        select(Delivery.status, Delivery.partner_code, func.count())
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(*_period(Alert.created_at, start, end))
        .group_by(Delivery.status, Delivery.partner_code)
    )
    by_status: dict[str, int] = {}
    by_partner: dict[str, int] = {}
    for status, partner, count in (await session.execute(query)).all():
        by_status[status] = by_status.get(status, 0) + count
        by_partner[partner] = by_partner.get(partner, 0) + count
    return by_status, by_partner


async def match_figures(
    session: AsyncSession, start: datetime | None, end: datetime | None
) -> dict[str, int]:
    query = (
        select(Match.status, func.count())
        .where(*_period(Match.created_at, start, end))
        .group_by(Match.status)
    )
    return {status: n for status, n in (await session.execute(query)).all()}
