"""The delivery worker's and the bulk replay's queries on interagency's tables: leased lanes,
batches of due deliveries, each partner's circuit breaker, failed deliveries sent again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from libs.common.bulk import InsertMany, UpdateByKey
from services.interagency.circuit import Circuit, CircuitState
from services.interagency.domain import DeliveryStatus, PartnerStatus
from services.interagency.models import Alert, Delivery, DeliveryAttempt, Partner

# Bulk replay --------------------------------------------------------------------------------------


def _failed_matching(
    *,
    partner_code: str | None,
    alert_type: str | None,
    failed_from: datetime | None,
    failed_to: datetime | None,
    enabled: bool,
) -> list[ColumnElement[bool]]:
    """Failed deliveries matching a bulk replay's filters, at enabled (or disabled) partners."""
    partner_status = select(Partner.status).where(Partner.code == Delivery.partner_code)
    wanted = PartnerStatus.enabled.value
    conditions: list[ColumnElement[bool]] = [
        Delivery.status == DeliveryStatus.failed.value,
        (partner_status.scalar_subquery() == wanted)
        if enabled
        else (partner_status.scalar_subquery() != wanted),
    ]
    if partner_code:
        conditions.append(Delivery.partner_code == partner_code)
    if alert_type:
        of_type = select(Alert.id).where(
            Alert.id == Delivery.alert_id, Alert.alert_type == alert_type
        )
        conditions.append(of_type.exists())
    if failed_from is not None:
        conditions.append(Delivery.failed_at >= failed_from)
    if failed_to is not None:
        conditions.append(Delivery.failed_at < failed_to)
    return conditions


async def requeue_failed(
    session: AsyncSession, *, now: datetime, limit: int, **filters: Any
) -> tuple[list[UUID], int, bool]:
    """Up to ``limit`` matching failed deliveries (oldest failure first) due again now with a
    fresh schedule, in one statement: (their ids, matching ones left at disabled partners,
    whether more match at enabled ones)."""
    chosen = (
        select(Delivery.id)
        .where(*_failed_matching(enabled=True, **filters))
        .order_by(Delivery.failed_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(chosen))
        .values(
            status=DeliveryStatus.pending.value,
            attempts=0,
            next_attempt_at=now,
            failed_at=None,
            replays=Delivery.replays + 1,
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(result.scalars())
    left = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(*_failed_matching(enabled=False, **filters))
    )
    more = await session.scalar(
        select(select(Delivery.id).where(*_failed_matching(enabled=True, **filters)).exists())
    )
    return ids, int(left or 0), bool(more)


# Lanes, batches and circuits ----------------------------------------------------------------------


async def claim_lanes(
    session: AsyncSession, *, owner: str, exclude: Sequence[str], limit: int, lease: timedelta
) -> list[str]:
    """Lease up to ``limit`` enabled partners that have a due delivery and no live lease."""
    lane = aliased(Partner)
    due = (
        select(Delivery.id)
        .where(
            Delivery.partner_code == lane.code,
            Delivery.status == DeliveryStatus.pending.value,
            Delivery.next_attempt_at <= func.now(),
        )
        .exists()
    )
    conditions: list[ColumnElement[bool]] = [
        lane.status == PartnerStatus.enabled.value,
        or_(lane.lane_leased_until.is_(None), lane.lane_leased_until < func.now()),
        # An open circuit is skipped until its time is up (then a lane sends the probe).
        or_(
            lane.circuit != CircuitState.open.value,
            lane.circuit_open_until.is_(None),
            lane.circuit_open_until <= func.now(),
        ),
        due,
    ]
    if exclude:
        conditions.append(lane.code.not_in(exclude))
    oldest_due = (
        select(func.min(Delivery.next_attempt_at))
        .where(
            Delivery.partner_code == lane.code,
            Delivery.status == DeliveryStatus.pending.value,
        )
        .scalar_subquery()
    )
    candidates = (
        select(lane.code)
        .where(*conditions)
        .order_by(oldest_due, lane.code)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(Partner)
        .where(Partner.code.in_(candidates.scalar_subquery()))
        .values(lane_owner=owner, lane_leased_until=func.now() + lease)
        .returning(Partner.code)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


async def renew_lane(session: AsyncSession, code: str, owner: str, lease: timedelta) -> bool:
    result = await session.execute(
        update(Partner)
        .where(Partner.code == code, Partner.lane_owner == owner)
        .values(lane_leased_until=func.now() + lease)
        .returning(Partner.code)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def release_lane(session: AsyncSession, code: str, owner: str) -> None:
    await session.execute(
        update(Partner)
        .where(Partner.code == code, Partner.lane_owner == owner)
        .values(lane_owner=None, lane_leased_until=None)
        .execution_options(synchronize_session=False)
    )


async def due_deliveries(
    session: AsyncSession, partner_code: str, limit: int
) -> Sequence[Delivery]:
    """The partner's most overdue pending deliveries, at most ``limit``."""
    query = (
        select(Delivery)
        .where(
            Delivery.partner_code == partner_code,
            Delivery.status == DeliveryStatus.pending.value,
            Delivery.next_attempt_at <= func.now(),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalars().all()


async def pending_for_update(
    session: AsyncSession, delivery_ids: Sequence[UUID]
) -> dict[UUID, tuple[int, datetime]]:
    """Of these deliveries, the ones still pending, locked: their attempts and when due."""
    query = (
        select(Delivery.id, Delivery.attempts, Delivery.next_attempt_at)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.pending.value)
        .with_for_update()
    )
    return {i: (n, due) for i, n, due in (await session.execute(query)).all()}


# One statement each whatever the batch's size: a statement fires the rollups' triggers once
# (an executemany of asyncpg is a statement per row).
NEW_DELIVERIES = InsertMany(
    cast(Table, Delivery.__table__),
    ("id", "alert_id", "partner_code", "status", "attempts", "next_attempt_at", "replays",
     "created_at"),
)  # fmt: skip
ATTEMPTS = InsertMany(
    cast(Table, DeliveryAttempt.__table__),
    ("id", "delivery_id", "attempted_at", "status_code", "error", "duration_ms", "outcome"),
)
CHANGES = UpdateByKey(
    cast(Table, Delivery.__table__),
    "id",
    (
        "attempts",
        "last_status_code",
        "last_error",
        "status",
        "next_attempt_at",
        "delivered_at",
        "failed_at",
    ),
)


async def add_deliveries(session: AsyncSession, deliveries: list[dict[str, Any]]) -> None:
    """New deliveries (the columns of ``NEW_DELIVERIES``), in one statement."""
    await NEW_DELIVERIES.execute(session, deliveries)


async def record_attempts(
    session: AsyncSession, attempts: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> None:
    """The attempts (rows of ``delivery_attempts``) and each delivery's new state (its ``id`` and
    the columns of ``CHANGES``), as two statements whatever the batch's size."""
    await ATTEMPTS.execute(session, attempts)
    await CHANGES.execute(session, changes)


async def alerts_by_id(session: AsyncSession, alert_ids: Sequence[UUID]) -> dict[UUID, Alert]:
    if not alert_ids:
        return {}
    query = select(Alert).where(Alert.id.in_(alert_ids))
    return {a.id: a for a in (await session.execute(query)).scalars()}


async def save_circuit(session: AsyncSession, code: str, circuit: Circuit) -> None:
    """The partner's breaker as the lane left it (not a change of the partner: no version)."""
    await session.execute(
        update(Partner)
        .where(Partner.code == code)
        .values(
            circuit=circuit.state.value,
            circuit_failures=circuit.failures,
            circuit_open_until=circuit.open_until,
            circuit_open_seconds=circuit.open_seconds,
        )
        .execution_options(synchronize_session=False)
    )


async def circuits(session: AsyncSession) -> dict[str, Circuit]:
    """Every enabled partner's breaker, for the ``ctip_partner_circuit`` gauge."""
    query = select(Partner.code, Partner.circuit, Partner.circuit_open_until).where(
        Partner.status == PartnerStatus.enabled.value
    )
    return {
        code: Circuit(CircuitState(state), open_until=until)
        for code, state, until in (await session.execute(query)).all()
    }
