"""Who may do what in interagency: the role aliases of the routes, the signed (tokenless) context
of partners' webhooks, and what each role sees of an alert."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from libs.common.auth import Principal, Role
from libs.common.context import Context, requires, signed_by_partner
from libs.common.errors import Forbidden
from services.interagency import domain
from services.interagency.settings import InteragencySettings

Ctx = Context[InteragencySettings]

OFFICERS = (Role.intake_officer, Role.investigator, Role.social_worker)
READERS = (*OFFICERS, Role.supervisor)
FULL_VIEW = OFFICERS
"""Roles that read an alert's data whole; a supervisor reads names and figures only."""

Admin = Annotated[Ctx, Depends(requires(Role.admin))]
Officer = Annotated[Ctx, Depends(requires(*OFFICERS))]
Reader = Annotated[Ctx, Depends(requires(*READERS))]
IntakeOfficer = Annotated[Ctx, Depends(requires(Role.intake_officer))]


Signed = Annotated[Ctx, Depends(signed_by_partner)]


def alert_view(principal: Principal, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The alert data this reader may see, and whether that is the full view."""
    full = principal.has_role(*FULL_VIEW)
    return (data if full else domain.redact_for_supervisor(data)), full


def ensure_covers(principal: Principal, ward_code: str | None) -> None:
    """A match is decided only by officers of the missing person's area."""
    if ward_code is None or not principal.covers(ward_code):
        raise Forbidden("this missing person is outside your jurisdiction")
