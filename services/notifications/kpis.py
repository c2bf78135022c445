"""The figures of notifications: how many were created and read, by kind, about the records of
the caller's jurisdiction. Counts only: nobody's inbox is shown."""

from __future__ import annotations

from datetime import date, timedelta

from libs.common.figures import day_start, plan_for_these_values, ratio
from services.notifications import repository
from services.notifications.access import Ctx
from services.notifications.domain import Kind
from services.notifications.schemas import KindFigures, NotificationKpis


async def notification_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None
) -> NotificationKpis:
    await plan_for_these_values(ctx.session)
    start = day_start(period_from) if period_from else None
    end = day_start(period_to + timedelta(days=1)) if period_to else None
    counted = {
        kind: (created, read)
        for kind, created, read in await repository.counts_by_kind(
            ctx.session, ctx.require_principal(), start, end
        )
    }
    by_kind = [
        KindFigures(kind=kind, created=created, read=read, read_ratio=ratio(read, created))
        for kind in Kind
        for created, read in [counted.get(kind.value, (0, 0))]
    ]
    return NotificationKpis(
        period_from=period_from,
        period_to=period_to,
        created=sum(k.created for k in by_kind),
        read=sum(k.read for k in by_kind),
        by_kind=by_kind,
    )
