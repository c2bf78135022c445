"""A tip's legal clocks as the deadline watch keeps them (DESIGN §11, ``libs/common/deadlines.py``):
armed with the filing, moved by an extension, kept where the tip belongs when triage places it,
settled when the tip is verified or closed. Which clocks run, and until when, is
``domain.watched_clocks``; the worker that signals them is ``libs.common.periodic``'s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from libs.common.deadlines import thresholds_from_days
from libs.contracts.deadlines import Jurisdiction
from services.intake import domain
from services.intake.access import Ctx
from services.intake.filing_rows import NewTip
from services.intake.models import Tip


def _thresholds(ctx: Ctx) -> tuple[timedelta, ...]:
    return thresholds_from_days(ctx.settings.deadline_thresholds_days)


def jurisdiction(ctx: Ctx, ward: str | None, province: str | None) -> Jurisdiction:
    """Where the tip belongs, as its signals and its assignment say: its ward and province; a
    tip filed without a ward belongs to the triage province's intake officers until triage
    places it (``access.triages``)."""
    if ward is None:
        return Jurisdiction(province_code=ctx.settings.triage_province or None)
    return Jurisdiction(ward_code=ward, province_code=province)


def first_watches(ctx: Ctx, tip: NewTip) -> list[dict[str, Any]]:
    """The watches of a tip being filed, as rows of the filing's one statement."""
    where = jurisdiction(ctx, tip.incident_ward_code, tip.province_code)
    return [
        ctx.deadlines.new_row(
            now=ctx.now,
            record_type=domain.WATCHED_RECORD,
            record_id=tip.id,
            kind=kind.value,
            due_at=due_at,
            ward_code=where.ward_code,
            province_code=where.province_code,
            thresholds=_thresholds(ctx),
        )
        for kind, due_at in domain.watched_clocks(tip.resolution_due_at, []).items()
    ]


async def follow(ctx: Ctx, tip: Tip) -> None:
    """The watches of an open tip as it now stands: each running clock armed (a moved deadline
    starts its thresholds afresh, the same one keeps what was said, and the watch takes the
    tip's place), and the one that no longer runs settled (the last day to ask for an extension,
    once the procuracy's was granted)."""
    granted = [domain.ExtensionKind(k) for k in tip.extensions]
    clocks = domain.watched_clocks(tip.resolution_due_at, granted)
    where = jurisdiction(ctx, tip.incident_ward_code, tip.province_code)
    for kind, due_at in clocks.items():
        await ctx.deadlines.arm(
            ctx.session,
            now=ctx.now,
            record_type=domain.WATCHED_RECORD,
            record_id=tip.id,
            kind=kind.value,
            due_at=due_at,
            ward_code=where.ward_code,
            province_code=where.province_code,
            thresholds=_thresholds(ctx),
            assignee=tip.assignee,
        )
    for stopped in sorted(set(domain.TipClock) - set(clocks)):
        await ctx.deadlines.settle(ctx.session, domain.WATCHED_RECORD, tip.id, stopped.value)


async def settle(ctx: Ctx, tip: Tip) -> None:
    """The tip is verified or closed: none of its clocks says anything more."""
    await ctx.deadlines.settle(ctx.session, domain.WATCHED_RECORD, tip.id)
