"""Who may do what in victim_support, and what each role sees: the role aliases of the routes,
the jurisdiction rule, program ownership and the NGO's narrow view of a consenting person."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends

from libs.common.auth import Principal, Role
from libs.common.context import Context, requires
from libs.common.crypto import BlindIndex
from libs.common.errors import Forbidden
from services.victim_support import domain
from services.victim_support.models import Program, Victim
from services.victim_support.settings import VictimSupportSettings

Ctx = Context[VictimSupportSettings]

READERS = (Role.social_worker, Role.supervisor)
SUPPORTERS = (Role.social_worker, Role.ngo)
PROGRAM_OWNERS = (Role.admin, Role.ngo)
PROGRAM_READERS = (Role.admin, Role.ngo, Role.supervisor)

SocialWorker = Annotated[Ctx, Depends(requires(Role.social_worker))]
Reader = Annotated[Ctx, Depends(requires(*READERS))]
Supporter = Annotated[Ctx, Depends(requires(*SUPPORTERS))]
ProgramOwner = Annotated[Ctx, Depends(requires(*PROGRAM_OWNERS))]
ProgramReader = Annotated[Ctx, Depends(requires(*PROGRAM_READERS))]
Ngo = Annotated[Ctx, Depends(requires(Role.ngo))]


def ensure_covers(principal: Principal, ward_code: str) -> None:
    if not principal.covers(ward_code):
        raise Forbidden("that ward is outside your jurisdiction")


def visible_to(principal: Principal, victim: Victim) -> bool:
    return principal.covers(victim.ward_code) or principal.covers(victim.province_code)


def sees_personal_data(principal: Principal) -> bool:
    """Social workers see the person (audited); supervisors figures and statuses only."""
    return principal.has_role(Role.social_worker)


def sees_program(principal: Principal, program: Program) -> bool:
    if principal.has_role(Role.admin, Role.supervisor):
        return True
    return principal.has_role(Role.ngo) and principal.org == program.org


def ensure_owns(principal: Principal, program: Program) -> None:
    if principal.has_role(Role.admin):
        return
    if principal.has_role(Role.ngo) and principal.org == program.org:
        return
    raise Forbidden("this program belongs to another organisation")


def victim_ref(index: BlindIndex, org: str, victim_id: UUID) -> str:
    """How an NGO names a person: stable per organisation, useless to anyone else."""
    return "v-" + index.digest("ngo_ref", f"{org}:{victim_id}")[:16]


def ngo_view(victim: Victim) -> dict[str, Any]:
    """The least an NGO needs to serve a consenting person."""
    return {
        "full_name": victim.full_name,
        "age_band": domain.age_band(
            domain.age_on(
                date.today(),
                date_of_birth=date.fromisoformat(victim.date_of_birth)
                if victim.date_of_birth
                else None,
                age_at_reception=victim.age,
                received_on=victim.received_at.date(),
            )
        ),
        "sex": victim.sex,
        "is_minor": victim.is_minor,
        "needs": victim.needs,
        "status": victim.status,
    }
