"""Interagency figures (DESIGN.md section 10 style: every ratio with numerator and denominator).

* ``alerts_sent`` / ``alerts_received``: alerts created in the period, by type.
* ``sent_by_partner``: deliveries of those outbound alerts, by partner; ``received_by_partner``.
* ``delivery_success_ratio``: delivered / (delivered + failed) deliveries; pending ones are not
  yet counted either way.
* ``matches_found`` / ``matches_confirmed`` and ``confirmed_ratio`` = confirmed / decided.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.figures import ratio
from services.interagency import repository
from services.interagency.domain import DeliveryStatus, Direction, MatchStatus
from services.interagency.models import Alert
from services.interagency.schemas import InteragencyKpis


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def interagency_kpis(
    session: AsyncSession, *, period_from: date | None, period_to: date | None
) -> InteragencyKpis:
    start = _start(period_from) if period_from else None
    end = _start(period_to + timedelta(days=1)) if period_to else None
    period: list[ColumnElement[bool]] = []
    if start is not None:
        period.append(Alert.created_at >= start)
    if end is not None:
        period.append(Alert.created_at < end)
    counts = await repository.alert_counts(session, period)
    by_status, by_partner = await repository.delivery_figures(session, period)
    matches = await repository.match_figures(session, start, end)
    delivered = by_status.get(DeliveryStatus.delivered.value, 0)
    failed = by_status.get(DeliveryStatus.failed.value, 0)
    confirmed = matches.get(MatchStatus.confirmed.value, 0)
    rejected = matches.get(MatchStatus.rejected.value, 0)
    return InteragencyKpis(
        period_from=period_from,
        period_to=period_to,
        alerts_sent={t: n for (d, t), n in counts.items() if d == Direction.outbound.value},
        alerts_received={t: n for (d, t), n in counts.items() if d == Direction.inbound.value},
        sent_by_partner=by_partner,
        received_by_partner=await repository.received_by_partner(session, period),
        delivery_success_ratio=ratio(delivered, delivered + failed),
        deliveries_pending=by_status.get(DeliveryStatus.pending.value, 0),
        deliveries_failed=failed,
        matches_found=sum(matches.values()),
        matches_confirmed=confirmed,
        confirmed_ratio=ratio(confirmed, confirmed + rejected),
    )
