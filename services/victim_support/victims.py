"""The person's record as every use case meets it: found within jurisdiction, moved along its
lifecycle with a timeline entry and, where the transition names one, an event."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from libs.common.concurrency import check_if_match
from libs.common.deadlines import thresholds_from_days
from libs.common.errors import Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.statemachine import Transition
from libs.contracts.victim_support import VictimStatusChanged
from services.victim_support import domain, repository
from services.victim_support.access import Ctx, visible_to
from services.victim_support.models import Support, Victim, VictimEvent
from services.victim_support.schemas import VictimSummary


def summary(victim: Victim, ctx: Ctx) -> VictimSummary:
    status = domain.VictimStatus(victim.status)
    return VictimSummary(
        id=victim.id,
        status=victim.status,
        source=victim.source,
        ward_code=victim.ward_code,
        province_code=victim.province_code,
        received_at=victim.received_at,
        verification_due_at=victim.verification_due_at,
        overdue=domain.is_overdue(status, victim.verification_due_at, ctx.now),
        is_minor=victim.is_minor,
        nationality=victim.nationality,
        case_ids=victim.case_ids,
        version=victim.version,
    )


async def for_read(ctx: Ctx, victim_id: UUID) -> Victim:
    victim = await repository.get_victim(ctx.session, victim_id)
    if victim is None or not visible_to(ctx.require_principal(), victim):
        raise NotFound("no such person")
    return victim


async def for_action(
    ctx: Ctx, victim_id: UUID, action: domain.VictimAction, if_match: str | None
) -> tuple[Victim, Transition[domain.VictimStatus]]:
    """The person, locked, with the transition the action takes (409 if the status refuses)."""
    victim = await repository.get_victim(ctx.session, victim_id, for_update=True)
    if victim is None:
        raise NotFound("no such person")
    if not visible_to(ctx.require_principal(), victim):
        raise Forbidden("this person is outside your jurisdiction")
    check_if_match(if_match, victim.version)
    return victim, domain.LIFECYCLE.take(domain.VictimStatus(victim.status), action)


def advance(ctx: Ctx, victim: Victim, to: domain.VictimStatus) -> str:
    """Move the person to ``to``; returns the status before."""
    before = victim.status
    victim.status = to.value
    victim.version += 1
    victim.updated_at = ctx.now
    return before


async def step(
    ctx: Ctx,
    victim: Victim,
    action: str,
    before: str | None,
    details: dict[str, Any] | None = None,
    *,
    emit: str | None = None,
) -> None:
    """The timeline entry of a step, and its event ``victim_support.victim.<emit>`` if any. A
    step that ends the verification settles its deadline: nothing more is signalled."""
    details = details or {}
    if before is not None and domain.ends_verification(
        domain.VictimStatus(before), domain.VictimStatus(victim.status)
    ):
        await ctx.deadlines.settle(
            ctx.session, domain.WATCHED_RECORD, victim.id, domain.VERIFICATION_CLOCK
        )
    ctx.session.add(
        VictimEvent.step(
            action=action,
            before=before,
            after=victim.status,
            at=ctx.now,
            by=ctx.sub,
            details=details,
            victim_id=victim.id,
        )
    )
    if emit is None:
        return
    await ctx.session.flush()
    await ctx.emit(
        f"victim_support.victim.{emit}",
        victim.id,
        VictimStatusChanged(
            victim_id=victim.id,
            action=action,
            status=victim.status,
            source=victim.source,
            ward_code=victim.ward_code,
            province_code=victim.province_code,
            nationality=victim.nationality,
            is_minor=victim.is_minor,
            case_ids=victim.case_ids,
            at=ctx.now,
            details=details,
        ),
    )


async def watch_verification(ctx: Ctx, victim: Victim) -> None:
    """Law 53/2024 Art. 27: the 3-day verification of a person just received, watched."""
    await ctx.deadlines.arm(
        ctx.session,
        now=ctx.now,
        record_type=domain.WATCHED_RECORD,
        record_id=victim.id,
        kind=domain.VERIFICATION_CLOCK,
        due_at=victim.verification_due_at,
        ward_code=victim.ward_code,
        province_code=victim.province_code,
        thresholds=thresholds_from_days(ctx.settings.deadline_thresholds_days),
    )


async def add_support(
    ctx: Ctx,
    victim: Victim,
    *,
    support_type: domain.SupportType,
    amount_vnd: int,
    provided_on: date,
    provider_org: str,
    program_id: UUID | None,
    external_id: str | None,
) -> Support:
    """Record a support the law entitles the person to now (422 naming the rule otherwise)."""
    status = domain.VictimStatus(victim.status)
    try:
        transition = domain.LIFECYCLE.step(status, domain.VictimAction.support)
        domain.check_entitlement(support_type, status, victim.nationality)
    except domain.RuleViolation as exc:
        raise _not_entitled(exc, victim) from exc
    support = Support(
        id=new_id(),
        victim_id=victim.id,
        type=support_type.value,
        amount_vnd=amount_vnd,
        provided_on=provided_on,
        provider_org=provider_org,
        program_id=program_id,
        external_id=external_id,
        created_by=ctx.sub,
        created_at=ctx.now,
    )
    ctx.session.add(support)
    victim.first_supported_at = victim.first_supported_at or ctx.now
    before = advance(ctx, victim, transition.to)
    await step(
        ctx,
        victim,
        "support",
        before,
        {
            "type": support_type.value,
            "amount_vnd": amount_vnd,
            "program_id": str(program_id) if program_id else None,
        },
        emit=transition.event,
    )
    return support


def ensure_entitled(victim: Victim, support_type: domain.SupportType) -> None:
    """422 naming the rule when the person's status and nationality do not entitle them to
    ``support_type`` now (a corrected delivery's new type)."""
    try:
        domain.check_entitlement(
            support_type, domain.VictimStatus(victim.status), victim.nationality
        )
    except domain.RuleViolation as exc:
        raise _not_entitled(exc, victim) from exc


def _not_entitled(exc: domain.RuleViolation, victim: Victim) -> Unprocessable:
    status = domain.VictimStatus(victim.status)
    return Unprocessable(
        exc.reason,
        errors=[{"field": "type", "message": exc.reason}],
        rule=exc.rule,
        entitled_supports=domain.entitled_supports(status, victim.nationality),
    )
