"""The figures of notifications: how many were created and read, by kind, about the records of
the caller's jurisdiction. Counts only: nobody's inbox is shown. Over whole provinces they are
summed from the daily rollup (``figures_repository``), which ``ctip rollups check notifications``
compares with a recount."""

from __future__ import annotations

from datetime import date, timedelta

from libs.common.figures import day_start, plan_for_these_values, ratio
from libs.common.rollup_ops import over_whole_provinces
from services.notifications import figures_repository, repository
from services.notifications.access import Ctx
from services.notifications.domain import Kind
from services.notifications.schemas import KindFigures, NotificationKpis


async def notification_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None
) -> NotificationKpis:
    await plan_for_these_values(ctx.session)
    start = day_start(period_from) if period_from else None
    end = day_start(period_to + timedelta(days=1)) if period_to else None
    principal = ctx.require_principal()
    if ctx.settings.kpi_rollups and over_whole_provinces(principal, None):
        after = period_to + timedelta(days=1) if period_to else None
        rows = await figures_repository.rolled_up_counts_by_kind(
            ctx.session, principal, period_from, after
        )
    else:
        rows = await repository.counts_by_kind(ctx.session, principal, start, end)
    counted = {kind: (created, read) for kind, created, read in rows}
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
