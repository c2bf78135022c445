"""Who may do what in casework, and where: the role aliases of the routes, who sees a case's
parties in full, and the jurisdiction rules of a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.auth import Principal, Role
from libs.common.context import Context, requires
from libs.common.errors import Forbidden, NotFound
from services.casework.models import Case
from services.casework.settings import CaseworkSettings

Ctx = Context[CaseworkSettings]

# The officers of the procedure: they take its steps and see a case's parties in full.
CASE_OFFICERS = (Role.investigator, Role.prosecutor, Role.court_clerk)
READERS = (*CASE_OFFICERS, Role.supervisor)
# Evidence files: investigators, and the prosecutors who take the case to court; never a court
# clerk, a supervisor, a social worker or an NGO (a file is personal data through and through).
EVIDENCE_OFFICERS = (Role.investigator, Role.prosecutor)

Reader = Annotated[Ctx, Depends(requires(*READERS))]
Investigator = Annotated[Ctx, Depends(requires(Role.investigator))]
CaseOfficer = Annotated[Ctx, Depends(requires(*CASE_OFFICERS))]
EvidenceOfficer = Annotated[Ctx, Depends(requires(*EVIDENCE_OFFICERS))]
# Who gives a case to an investigator: an investigator, or a supervisor of the jurisdiction.
Assigner = Annotated[Ctx, Depends(requires(Role.investigator, Role.supervisor))]


def names_only(principal: Principal) -> bool:
    """A reader who is not an officer of the procedure (a supervisor) sees parties' names only."""
    return not principal.has_role(*CASE_OFFICERS)


def ensure_covers(principal: Principal, ward_code: str) -> None:
    if not principal.covers(ward_code):
        raise Forbidden("that ward is outside your jurisdiction")


def readable(principal: Principal, case: Case | None) -> Case:
    """A case outside the caller's jurisdiction reads as one that does not exist."""
    if case is None or not principal.covers(case.ward_code):
        raise NotFound("no such case")
    return case


def writable(principal: Principal, case: Case | None) -> Case:
    if case is None:
        raise NotFound("no such case")
    if not principal.covers(case.ward_code):
        raise Forbidden("this case is outside your jurisdiction")
    return case
