"""Who may do what in outreach, and where: the role aliases of the routes and the one place rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from libs.common.auth import Principal, Role, require_roles
from libs.common.context import Context, request_context
from libs.common.db import DbSession
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


def requires(*roles: Role) -> Callable[..., Awaitable[Ctx]]:
    """``libs.common.context.requires``, until it works as a route dependency: there the role
    check sits in a string annotation that FastAPI cannot resolve (a 422 "principal")."""
    role_check = require_roles(*roles)

    async def dependency(
        request: Request,
        session: DbSession,
        principal: Principal = Depends(role_check),  # noqa: B008 (an Annotated one is unresolvable)
    ) -> Ctx:
        return request_context(request, session, principal, "system")

    return dependency


Organiser = Annotated[Ctx, Depends(requires(*ORGANISERS))]
Reader = Annotated[Ctx, Depends(requires(*READERS))]
Admin = Annotated[Ctx, Depends(requires(Role.admin))]
Reporter = Annotated[Ctx, Depends(requires(*REPORTERS))]


def ensure_covers(principal: Principal, code: str) -> None:
    """Nobody records, counts or commends outside their own jurisdiction."""
    if not principal.covers(code):
        raise Forbidden("that place is outside your jurisdiction")
