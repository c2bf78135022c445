"""Care of a received person: the audited read of the record, identification, protection,
support by law, consents, reintegration and closing. Each change, its timeline entry and its
event share one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from libs.common.auth import Role
from libs.common.errors import Unprocessable
from libs.common.ids import new_id
from libs.common.open_clocks import DeadlineWindow, in_window
from services.victim_support import domain, program_repository, programs, repository
from services.victim_support.access import Ctx, sees_personal_data
from services.victim_support.models import Consent, ProtectionMeasure, Reintegration, Victim
from services.victim_support.schemas import (
    ConsentIn,
    ConsentOut,
    IdentificationIn,
    PersonOut,
    ProtectionIn,
    ReintegrationIn,
    SupportIn,
    SupportOut,
    TimelineEntry,
    VictimRead,
    VictimSummary,
)
from services.victim_support.victims import (
    add_support,
    advance,
    for_action,
    for_read,
    step,
    summary,
)


async def list_victims(
    ctx: Ctx,
    *,
    status: domain.VictimStatus | None,
    case_id: UUID | None,
    source: domain.Source | None,
    overdue: bool | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    deadline: DeadlineWindow | None = None,
    ward_code: str | None = None,
) -> tuple[Sequence[Victim], list[VictimSummary]]:
    """Statuses and figures only; personal data is on the record, for social workers.
    ``deadline``: those whose verification is due soon or missed, as the figures count them."""
    rows = await repository.list_victims(
        ctx.session,
        scope=repository.victim_scope(ctx.require_principal()),
        status=status.value if status else None,
        case_id=case_id,
        source=source.value if source else None,
        overdue=overdue,
        now=ctx.now,
        after=after,
        limit=limit,
        ward_code=ward_code,
        clocks=in_window(
            ctx, deadline, record_type=domain.WATCHED_RECORD, kind=domain.VERIFICATION_CLOCK
        ),
    )
    return rows, [summary(v, ctx) for v in rows]


async def read_victim(ctx: Ctx, victim_id: UUID, purpose: str) -> VictimRead:
    """Social workers get the full record (audited); supervisors figures and statuses only."""
    session = ctx.session
    victim = await for_read(ctx, victim_id)
    personal = sees_personal_data(ctx.require_principal())
    if personal:
        await ctx.record("read", "victim", victim.id, purpose)
    status = domain.VictimStatus(victim.status)
    protection = await repository.protection_of(session, victim.id)
    supports = await repository.supports_of(session, victim.id)
    consents = await repository.consents_in_force(session, victim.id)
    reintegration = await repository.reintegration_of(session, victim.id)
    timeline = await repository.timeline_of(session, victim.id)
    return VictimRead(
        **summary(victim, ctx).model_dump(),
        person=PersonOut.model_validate(victim) if personal else None,
        needs=victim.needs,
        entitled_supports=domain.entitled_supports(status, victim.nationality),
        identification={
            "outcome": victim.identification_outcome,
            "deciding_agency": victim.deciding_agency,
            "document_ref": victim.document_ref if personal else None,
            "decided_at": victim.identified_at,
        }
        if victim.identification_outcome
        else None,
        protection=[
            {
                "measures": m.measures,
                "notes": m.notes if personal else None,
                "recorded_at": m.recorded_at,
            }
            for m in protection
        ],
        supports=[SupportOut.model_validate(s) for s in supports],
        consents=[
            ConsentOut(
                scope=c.scope, org=c.org or None, granted=c.granted, recorded_at=c.recorded_at
            )
            for c in consents
        ],
        reintegration=[
            {
                "checked_on": f.checked_on,
                "employment": f.employment,
                "schooling": f.schooling,
                "situation": f.situation if personal else None,
                "notes": f.notes if personal else None,
                "closed": f.closed,
            }
            for f in reintegration
        ],
        timeline=[TimelineEntry.model_validate(e) for e in timeline],
    )


async def identify(
    ctx: Ctx, victim_id: UUID, data: IdentificationIn, if_match: str | None
) -> VictimSummary:
    victim, _ = await for_action(ctx, victim_id, domain.VictimAction.identify, if_match)
    transition = domain.IDENTIFICATION.take(domain.VictimStatus(victim.status), data.outcome)
    victim.identification_outcome = data.outcome.value
    victim.deciding_agency = data.deciding_agency
    victim.document_ref = data.document_ref
    victim.identified_at = ctx.now
    victim.needs = sorted(set(victim.needs) | {n.value for n in data.needs})
    before = advance(ctx, victim, transition.to)
    await step(
        ctx,
        victim,
        "identify",
        before,
        {"outcome": data.outcome.value, "within_deadline": ctx.now <= victim.verification_due_at},
        emit=transition.event,
    )
    return summary(victim, ctx)


async def protect(
    ctx: Ctx, victim_id: UUID, data: ProtectionIn, if_match: str | None
) -> VictimSummary:
    victim, transition = await for_action(ctx, victim_id, domain.VictimAction.protect, if_match)
    ctx.session.add(
        ProtectionMeasure(
            id=new_id(),
            victim_id=victim.id,
            measures=list(data.measures),
            notes=data.notes,
            recorded_at=ctx.now,
            recorded_by=ctx.sub,
        )
    )
    victim.first_protected_at = victim.first_protected_at or ctx.now
    before = advance(ctx, victim, transition.to)
    await step(
        ctx, victim, "protect", before, {"measures": list(data.measures)}, emit=transition.event
    )
    return summary(victim, ctx)


async def record_support(
    ctx: Ctx, victim_id: UUID, data: SupportIn, if_match: str | None
) -> SupportOut:
    """A support recorded by a social worker; an NGO's goes through its program."""
    if not ctx.require_principal().has_role(Role.social_worker):
        return await programs.record_support(ctx, victim_id, data, if_match)
    victim, _ = await for_action(ctx, victim_id, domain.VictimAction.support, if_match)
    if (
        data.program_id is not None
        and await program_repository.get_program(ctx.session, data.program_id) is None
    ):
        raise Unprocessable(
            "no such program", errors=[{"field": "program_id", "message": "no such program"}]
        )
    support = await add_support(
        ctx,
        victim,
        support_type=data.type,
        amount_vnd=data.amount_vnd,
        provided_on=data.provided_on,
        provider_org=data.provider_org,
        program_id=data.program_id,
        external_id=None,
    )
    await ctx.session.flush()
    return SupportOut.model_validate(support)


async def consent(ctx: Ctx, victim_id: UUID, data: ConsentIn, if_match: str | None) -> ConsentOut:
    victim, transition = await for_action(ctx, victim_id, domain.VictimAction.consent, if_match)
    entry = Consent(
        id=new_id(),
        victim_id=victim.id,
        scope=data.scope.value,
        org=data.org or "",
        granted=data.granted,
        recorded_at=ctx.now,
        recorded_by=ctx.sub,
    )
    ctx.session.add(entry)
    before = advance(ctx, victim, transition.to)
    await step(
        ctx,
        victim,
        "consent",
        before,
        {"scope": data.scope.value, "org": data.org, "granted": data.granted},
    )
    await ctx.session.flush()
    return ConsentOut(
        scope=entry.scope, org=data.org, granted=entry.granted, recorded_at=entry.recorded_at
    )


async def reintegrate(
    ctx: Ctx, victim_id: UUID, data: ReintegrationIn, if_match: str | None
) -> VictimSummary:
    """A follow-up visit; ``closed`` ends support."""
    victim, transition = await for_action(ctx, victim_id, domain.VictimAction.reintegrate, if_match)
    if data.closed:
        transition = domain.CLOSING.take(
            domain.VictimStatus(victim.status), domain.VictimAction.reintegrate
        )
    ctx.session.add(
        Reintegration(
            id=new_id(),
            victim_id=victim.id,
            checked_on=data.checked_on,
            situation=data.situation,
            employment=data.employment,
            schooling=data.schooling,
            notes=data.notes,
            closed=data.closed,
            recorded_at=ctx.now,
            recorded_by=ctx.sub,
        )
    )
    before = advance(ctx, victim, transition.to)
    if data.closed:
        victim.closed_at = ctx.now
    await step(
        ctx,
        victim,
        "reintegrate",
        before,
        {"employment": data.employment, "schooling": data.schooling, "closed": data.closed},
        emit=transition.event,
    )
    return summary(victim, ctx)
