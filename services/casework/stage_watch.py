"""A case's stage deadline, watched (DESIGN §11): armed when a stage with a deadline begins,
moved when a step sets a new one (the thresholds start again), settled in a stage without one and
when the case closes. The worker (``deadline_worker`` in ``app.py``) signals what falls due."""

from __future__ import annotations

from libs.common.deadlines import thresholds_from_days
from services.casework import domain
from services.casework.access import Ctx
from services.casework.models import Case


async def watch(ctx: Ctx, case: Case) -> None:
    """The stage's deadline watched (a new one re-arms the thresholds), or, in a stage without
    one or once closed, no longer."""
    due = domain.watched_deadline(domain.CaseStatus(case.status), case.stage_due_at)
    if due is None:
        await ctx.deadlines.settle(ctx.session, domain.WATCHED_RECORD, case.id, domain.STAGE_CLOCK)
        return
    await ctx.deadlines.arm(
        ctx.session,
        now=ctx.now,
        record_type=domain.WATCHED_RECORD,
        record_id=case.id,
        kind=domain.STAGE_CLOCK,
        due_at=due,
        ward_code=case.ward_code,
        province_code=case.province_code,
        thresholds=thresholds_from_days(ctx.settings.deadline_thresholds_days),
        assignee=case.assignee,
    )
