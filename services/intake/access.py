"""Who may do what in intake, and where: the role aliases of the routes, what each role sees, and
who reads the tips filed without a ward."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.common.auth import Principal, Role
from libs.common.context import Context, request_context, requires
from libs.common.db import DbSession
from services.intake.models import Tip
from services.intake.settings import IntakeSettings

Ctx = Context[IntakeSettings]

READERS = (Role.intake_officer, Role.investigator, Role.supervisor)
# Officers see personal data in full; supervisors get names only.
OFFICERS = (Role.intake_officer, Role.investigator)
# Evidence files: officers, and the prosecutors who take the case to court; never an NGO or a
# supervisor (a file is personal data through and through).
FILE_READERS = (*OFFICERS, Role.prosecutor)
# Who gives a tip to an officer (DESIGN §11): its intake officers, and their supervisors.
ASSIGNERS = (Role.intake_officer, Role.supervisor)

Reader = Annotated[Ctx, Depends(requires(*READERS))]
IntakeOfficer = Annotated[Ctx, Depends(requires(Role.intake_officer))]
Officer = Annotated[Ctx, Depends(requires(*OFFICERS))]
FileReader = Annotated[Ctx, Depends(requires(*FILE_READERS))]
Assigner = Annotated[Ctx, Depends(requires(*ASSIGNERS))]


async def _reporter(request: Request, session: DbSession) -> Ctx:
    """Whoever holds a receipt code: anonymous, and no token is read."""
    return request_context(request, session, None, "anonymous")


ReceiptHolder = Annotated[Ctx, Depends(_reporter)]

DEFAULT_PURPOSE = "case handling"


def names_only(principal: Principal) -> bool:
    return not principal.has_role(*OFFICERS)


def triages(principal: Principal, triage_province: str | None) -> bool:
    """Tips filed without a ward, reporters' contacts included, belong to the intake officers of
    one configured province and no one else; without a triage province, no one (fail closed)."""
    return (
        triage_province is not None
        and principal.has_role(Role.intake_officer)
        and principal.covers(triage_province)
    )


def unlocated_counted_by(principal: Principal, triage_province: str | None) -> bool:
    """Figures count unlocated tips in the triage province until triage places them."""
    return triage_province is not None and principal.covers(triage_province)


def can_see(principal: Principal, tip: Tip, triage_province: str | None) -> bool:
    if tip.incident_ward_code is None:
        return triages(principal, triage_province)
    return principal.covers(tip.incident_ward_code)


def may_publish(principal: Principal | None, ward_code: str) -> bool:
    """Only an intake officer of the place decides what partners hear of."""
    return (
        principal is not None
        and principal.has_role(Role.intake_officer)
        and principal.covers(ward_code)
    )
