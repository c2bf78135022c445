"""Who may do what in outreach, and where: the role aliases of the routes and the one place rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.auth import Principal, Role
from libs.common.context import Context, requires
from libs.common.errors import Forbidden
from services.outreach.settings import OutreachSettings

Ctx = Context[OutreachSettings]

ORGANISERS = (Role.admin, Role.social_worker)
READERS = (
    Role.supervisor,
    Role.admin,
    Role.social_worker,
    Role.intake_officer,
    Role.investigator,
    Role.prosecutor,
    Role.court_clerk,
    Role.auditor,
)
REPORTERS = (Role.supervisor, Role.admin)


Organiser = Annotated[Ctx, Depends(requires(*ORGANISERS))]
Reader = Annotated[Ctx, Depends(requires(*READERS))]
Admin = Annotated[Ctx, Depends(requires(Role.admin))]
Reporter = Annotated[Ctx, Depends(requires(*REPORTERS))]


def ensure_covers(principal: Principal, code: str) -> None:
    """Nobody records, counts or commends outside their own jurisdiction."""
    if not principal.covers(code):
        raise Forbidden("that place is outside your jurisdiction")
