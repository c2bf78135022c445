"""NGO and international-organisation programs: registration, listing, enrollments under consent
and supports recorded one at a time (batches of deliveries, and their corrections, are in
``deliveries``). An NGO sees a person only under a pseudonymous reference and, while the
person's consent to share with it is in force, the little it needs to serve them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from libs.common.auth import Role
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from services.victim_support import domain, program_repository, repository
from services.victim_support.access import Ctx, ensure_owns, ngo_view, sees_program, victim_ref
from services.victim_support.models import Enrollment, Program
from services.victim_support.program_schemas import (
    EnrollmentIn,
    EnrollmentOut,
    Period,
    ProgramCreate,
    ProgramRead,
    ProgramSummary,
)
from services.victim_support.schemas import SupportIn, SupportOut
from services.victim_support.victims import add_support

SHARE = domain.ConsentScope.share_with_ngo.value


async def _audit_ngo_read(ctx: Ctx, victim_id: UUID, program: Program) -> None:
    """An NGO seeing a consenting person's data is a read of personal data like any other."""
    await ctx.record(
        "read",
        "victim",
        victim_id,
        f"serve the person in program {program.id} of {program.org} (consent)",
        {"view": "ngo"},
    )


async def program_for(ctx: Ctx, program_id: UUID) -> Program:
    program = await program_repository.get_program(ctx.session, program_id)
    if program is None or not sees_program(ctx.require_principal(), program):
        raise NotFound("no such program")
    return program


async def create_program(ctx: Ctx, data: ProgramCreate) -> ProgramRead:
    principal = ctx.require_principal()
    if not principal.has_role(Role.admin) and data.org != principal.org:
        raise Forbidden("an NGO registers programs of its own organisation only")
    program = Program(
        id=new_id(),
        name=data.name,
        org=data.org,
        funder=data.funder,
        support_types=sorted({t.value for t in data.support_types}),
        period_start=data.period.start,
        period_end=data.period.end,
        created_at=ctx.now,
        created_by=ctx.sub,
    )
    await repository.save(ctx.session, program)
    return await read_program(ctx, program.id)


def summary(program: Program) -> ProgramSummary:
    return ProgramSummary(
        id=program.id,
        name=program.name,
        org=program.org,
        funder=program.funder,
        support_types=program.support_types,
        period=Period(start=program.period_start, end=program.period_end),
        created_at=program.created_at,
    )


async def list_programs(
    ctx: Ctx, *, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[Program]:
    """An NGO's own programs; every program for an admin. Newest first."""
    principal = ctx.require_principal()
    if principal.has_role(Role.admin):
        return await program_repository.list_programs(
            ctx.session, org=None, after=after, limit=limit
        )
    if not principal.org:
        return []  # an NGO token naming no organisation owns nothing
    return await program_repository.list_programs(
        ctx.session, org=principal.org, after=after, limit=limit
    )


async def read_program(ctx: Ctx, program_id: UUID) -> ProgramRead:
    session, principal = ctx.session, ctx.require_principal()
    program = await program_for(ctx, program_id)
    enrollments = await program_repository.enrollments_of(session, program.id)
    ids = [e.victim_id for e in enrollments]
    consent = await program_repository.consents_for_org(session, ids, SHARE, program.org)
    victims = await repository.victims_by_ids(session, ids)
    shows_people = principal.has_role(Role.ngo) and principal.org == program.org
    shown = [e.victim_id for e in enrollments if shows_people and consent.get(e.victim_id, False)]
    for victim_id in shown:
        await _audit_ngo_read(ctx, victim_id, program)
    return ProgramRead(
        **summary(program).model_dump(),
        enrollments=[
            EnrollmentOut(
                id=e.id,
                victim_ref=victim_ref(ctx.index, program.org, e.victim_id),
                external_id=e.external_id,
                enrolled_at=e.enrolled_at,
                consent_active=consent.get(e.victim_id, False),
                person=ngo_view(victims[e.victim_id])
                if shows_people and consent.get(e.victim_id, False)
                else None,
            )
            for e in enrollments
        ],
    )


async def enroll(ctx: Ctx, program_id: UUID, data: EnrollmentIn) -> EnrollmentOut:
    session = ctx.session
    program = await program_for(ctx, program_id)
    ensure_owns(ctx.require_principal(), program)
    victim = await repository.get_victim(session, data.victim_id)
    consented = victim is not None and await program_repository.consent_active(
        session, victim.id, SHARE, program.org
    )
    if victim is None or not consented:
        # One answer for "no such person" and "no consent": an NGO cannot probe for people.
        raise Unprocessable(
            "this person has not consented to share with your organisation",
            errors=[
                {"field": "victim_id", "message": "no consent to share with this organisation"}
            ],
        )
    if await program_repository.enrolled_victims(session, program.id, [victim.id]):
        raise Conflict("this person is already enrolled in the program")
    if await program_repository.enrollment_by_external_id(session, program.id, data.external_id):
        raise Conflict("this external_id already names an enrollment of the program")
    enrollment = Enrollment(
        id=new_id(),
        program_id=program.id,
        victim_id=victim.id,
        external_id=data.external_id,
        enrolled_at=ctx.now,
        enrolled_by=ctx.sub,
    )
    if not await program_repository.insert_enrollment(session, enrollment):
        raise Conflict("this person or this external_id is already enrolled in the program")
    await _audit_ngo_read(ctx, victim.id, program)
    return EnrollmentOut(
        id=enrollment.id,
        victim_ref=victim_ref(ctx.index, program.org, victim.id),
        external_id=enrollment.external_id,
        enrolled_at=enrollment.enrolled_at,
        consent_active=True,
        person=ngo_view(victim),
    )


async def record_support(
    ctx: Ctx, victim_id: UUID, data: SupportIn, if_match: str | None
) -> SupportOut:
    """One support by an NGO, through one of its programs, for a consenting person enrolled in
    it: the same checks as a delivery batch, plus the person's version."""
    session, principal = ctx.session, ctx.require_principal()
    if data.program_id is None:
        raise Unprocessable(
            "an NGO records supports through one of its programs",
            errors=[{"field": "program_id", "message": "required for an NGO"}],
        )
    if data.provider_org != principal.org:
        raise Forbidden("an NGO records supports under its own organisation")
    program = await program_for(ctx, data.program_id)
    ensure_owns(principal, program)
    refused = NotFound("no consenting person enrolled in this program with this id")
    if not await may_serve(ctx, program, [victim_id]):
        raise refused  # before any lock: an NGO cannot hold up a person it may not touch
    victim = await repository.get_victim(session, victim_id, for_update=True)
    if victim is None or not await may_serve(ctx, program, [victim_id]):
        raise refused  # consent withdrawn while we waited for the lock
    check_if_match(if_match, victim.version)
    refusal = program_refusal(data.type, data.provided_on, program)
    if refusal is not None:
        raise Unprocessable(refusal["message"], errors=[refusal])
    support = await add_support(
        ctx,
        victim,
        support_type=data.type,
        amount_vnd=data.amount_vnd,
        provided_on=data.provided_on,
        provider_org=program.org,
        program_id=program.id,
        external_id=None,
    )
    await session.flush()
    return SupportOut.model_validate(support)


async def may_serve(ctx: Ctx, program: Program, victim_ids: list[UUID]) -> set[UUID]:
    """The people among ``victim_ids`` enrolled in the program whose consent to share with its
    organisation is in force: the only ones an NGO's request may lock."""
    enrolled = await program_repository.enrolled_victims(ctx.session, program.id, victim_ids)
    consent = await program_repository.consents_for_org(
        ctx.session, list(enrolled), SHARE, program.org
    )
    return {v for v in enrolled if consent.get(v, False)}


def program_refusal(
    support_type: domain.SupportType,
    on: date,
    program: Program,
    *,
    date_field: str = "provided_on",
) -> dict[str, str] | None:
    """A support the program does not fund, or outside its period."""
    if support_type.value not in program.support_types:
        return {
            "field": "type",
            "message": "not a support type of this program",
            "code": "type.not_in_program",
        }
    if not program.period_start <= on <= program.period_end:
        return {
            "field": date_field,
            "message": "outside the program's period",
            "code": "date.outside_program",
        }
    return None
