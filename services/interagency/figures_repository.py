"""Interagency's figures of a period (``GET /v1/kpis``) summed from the daily rollups
(``ALERT_ROLLUP``, ``DELIVERY_ROLLUP``, kept by triggers: libs/common/rollups.py): what
``repository.alert_counts``, ``received_by_partner`` and ``delivery_figures`` count over the
rows. A key whose rows sum to zero (a month less its days, a pending row undoing another) is left
out, as a count leaves out what it does not find."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.rollup_reads import period_slice
from services.interagency.domain import Direction
from services.interagency.models import alert_rollup, delivery_rollup


async def rolled_up_alert_counts(
    session: AsyncSession, first: date | None, after: date | None
) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """(alerts per direction and type, alerts received per partner) created in [first, after)."""
    period = period_slice(alert_rollup, first, after)
    alerts = func.sum(period.c.alerts)
    rows = await session.execute(
        select(period.c.direction, period.c.alert_type, period.c.partner_code, alerts)
        .group_by(period.c.direction, period.c.alert_type, period.c.partner_code)
        .having(alerts != 0)
    )
    counts: dict[tuple[str, str], int] = {}
    received: dict[str, int] = {}
    for direction, alert_type, partner, n in rows.all():
        counts[(direction, alert_type)] = counts.get((direction, alert_type), 0) + int(n)
        if direction == Direction.inbound.value:
            received[str(partner)] = received.get(str(partner), 0) + int(n)
    return counts, received


async def rolled_up_delivery_figures(
    session: AsyncSession, first: date | None, after: date | None
) -> tuple[dict[str, int], dict[str, int]]:
    """(deliveries by status, deliveries by partner) of the alerts created in [first, after)."""
    period = period_slice(delivery_rollup, first, after)
    deliveries = func.sum(period.c.deliveries)
    rows = await session.execute(
        select(period.c.status, period.c.partner_code, deliveries)
        .group_by(period.c.status, period.c.partner_code)
        .having(deliveries != 0)
    )
    by_status: dict[str, int] = {}
    by_partner: dict[str, int] = {}
    for status, partner, n in rows.all():
        by_status[status] = by_status.get(status, 0) + int(n)
        by_partner[partner] = by_partner.get(partner, 0) + int(n)
    return by_status, by_partner
