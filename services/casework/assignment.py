"""A case given to an investigator (DESIGN §6, §11): by an investigator or a supervisor of its
jurisdiction, to a person the directory of officers knows as an enabled investigator whose
jurisdiction covers the case's ward. Audited and emitted (``casework.case.assigned``); the
stage's deadline then names the assignee, so that its signals reach them first."""

from __future__ import annotations

from uuid import UUID

from libs.common.directory import Directory, person_for_request
from libs.common.errors import Conflict, Unprocessable
from libs.common.validation import field_error
from libs.contracts.deadlines import Jurisdiction, RecordAssigned
from services.casework import domain
from services.casework.access import Ctx
from services.casework.cases import case_for_action, summary
from services.casework.schemas import CaseSummary

NOT_ELIGIBLE = "not an investigator of the case's jurisdiction"


async def assign(
    ctx: Ctx, case_id: UUID, sub: str, directory: Directory, purpose: str, if_match: str | None
) -> CaseSummary:
    """The same answer for a sub nobody knows, a disabled one, another role and another place:
    the caller learns nothing of the directory but that this person cannot take the case. The
    same assignee again changes nothing (no event, no new version)."""
    # Asked before the case is locked: the identity provider's latency is not held on the row.
    person = await person_for_request(directory, sub)
    case = await case_for_action(ctx, case_id, if_match)
    if case.status == domain.CaseStatus.closed.value:
        raise Conflict("the case is closed")
    if person is None or not person.holds(domain.ASSIGNEE_ROLE, case.ward_code):
        raise Unprocessable(
            "sub names no investigator who may take this case",
            errors=[field_error("sub", NOT_ELIGIBLE, "assignee_not_eligible")],
        )
    if case.assignee == sub:
        return summary(case, ctx.now)
    previous = case.assignee
    case.assignee = sub
    case.version += 1
    case.updated_at = ctx.now
    await ctx.record("assign", "case", case.id, purpose, {"assignee": sub, "previous": previous})
    await ctx.deadlines.assign(ctx.session, domain.WATCHED_RECORD, case.id, sub)
    await ctx.session.flush()
    await ctx.emit(
        "casework.case.assigned",
        case.id,
        RecordAssigned(
            record_type=domain.WATCHED_RECORD,
            record_id=case.id,
            assignee=sub,
            previous=previous,
            assigned_by=ctx.sub,
            jurisdiction=Jurisdiction(ward_code=case.ward_code, province_code=case.province_code),
            assigned_at=ctx.now,
        ),
    )
    return summary(case, ctx.now)
