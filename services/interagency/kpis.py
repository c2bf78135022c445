"""Interagency figures, every ratio with its numerator and denominator: alerts sent and received,
delivery success (delivered / finished), matches found and confirmed (confirmed / decided). The
alerts and deliveries are summed from the daily rollups (``figures_repository``), which
``ctip rollups check interagency`` compares with a recount; the matches, few, are counted."""

from __future__ import annotations

from datetime import date, timedelta

from libs.common.figures import day_start, plan_for_these_values, ratio
from services.interagency import figures_repository, repository
from services.interagency.access import Ctx
from services.interagency.domain import DeliveryStatus, Direction, MatchStatus
from services.interagency.schemas import InteragencyKpis


async def interagency_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None
) -> InteragencyKpis:
    await plan_for_these_values(ctx.session)
    session = ctx.session
    start = day_start(period_from) if period_from else None
    end = day_start(period_to + timedelta(days=1)) if period_to else None
    if ctx.settings.kpi_rollups:
        after = period_to + timedelta(days=1) if period_to else None
        counts, received = await figures_repository.rolled_up_alert_counts(
            session, period_from, after
        )
        by_status, by_partner = await figures_repository.rolled_up_delivery_figures(
            session, period_from, after
        )
    else:
        counts = await repository.alert_counts(session, start, end)
        received = await repository.received_by_partner(session, start, end)
        by_status, by_partner = await repository.delivery_figures(session, start, end)
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
        received_by_partner=received,
        delivery_success_ratio=ratio(delivered, delivered + failed),
        deliveries_pending=by_status.get(DeliveryStatus.pending.value, 0),
        deliveries_failed=failed,
        matches_found=sum(matches.values()),
        matches_confirmed=confirmed,
        confirmed_ratio=ratio(confirmed, confirmed + rejected),
    )
