"""A tip given to an intake officer (DESIGN §5, §11): by an intake officer or a supervisor who
may act on it, to a person the directory of officers knows as an enabled intake officer whose
jurisdiction covers the tip's place (its ward; the triage province while it has none). Audited
and emitted (``intake.tip.assigned``); the tip's deadline watches then name the assignee, so
that their signals reach them first."""

from __future__ import annotations

from uuid import UUID

from libs.common.directory import Directory, person_for_request
from libs.common.errors import Unprocessable
from libs.common.validation import field_error
from libs.contracts.deadlines import RecordAssigned
from services.intake import domain, receipts, repository, tip_clocks
from services.intake.access import Ctx
from services.intake.schemas import TipSummary
from services.intake.tips import summary, tip_for_action

NOT_ELIGIBLE = "not an intake officer of the tip's jurisdiction"


async def assign(
    ctx: Ctx, tip_id: UUID, sub: str, directory: Directory, purpose: str, if_match: str | None
) -> TipSummary:
    """The same answer for a sub nobody knows, a disabled one, another role and another place:
    the caller learns nothing of the directory but that this person cannot take the tip. The
    same assignee again changes nothing (no event, no new version)."""
    # Asked before the tip is locked: the identity provider's latency is not held on the row.
    person = await person_for_request(directory, sub)
    tip, _ = await tip_for_action(ctx, tip_id, if_match, domain.TipAction.assign)
    where = tip_clocks.jurisdiction(ctx, tip.incident_ward_code, tip.province_code)
    if person is None or not person.holds(
        domain.ASSIGNEE_ROLE, where.ward_code or where.province_code
    ):
        raise Unprocessable(
            "sub names no intake officer who may take this tip",
            errors=[field_error("sub", NOT_ELIGIBLE, "assignee_not_eligible")],
        )
    if tip.assignee == sub:
        return summary(tip, ctx.now)
    previous, tip.assignee = tip.assignee, sub
    receipts.touch(tip, ctx)
    await repository.save(ctx.session, tip)
    await ctx.record("assign", "tip", tip.id, purpose, {"assignee": sub, "previous": previous})
    await ctx.deadlines.assign(ctx.session, domain.WATCHED_RECORD, tip.id, sub)
    await ctx.emit(
        "intake.tip.assigned",
        tip.id,
        RecordAssigned(
            record_type=domain.WATCHED_RECORD,
            record_id=tip.id,
            assignee=sub,
            previous=previous,
            assigned_by=ctx.sub,
            jurisdiction=where,
            assigned_at=ctx.now,
        ),
    )
    return summary(tip, ctx.now)
