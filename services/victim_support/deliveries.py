"""The correction of an NGO's delivery recorded with a mistake. A delivery is a support of the
person (Art. 37) carrying the program and the NGO's own ``external_id`` for it; deliveries come in
batches (``delivery_batch``)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from libs.common.concurrency import check_if_match
from libs.common.errors import Forbidden, NotFound, Unprocessable
from services.victim_support import program_repository, repository
from services.victim_support.access import Ctx, ensure_owns, victim_ref
from services.victim_support.program_schemas import (
    DeliveryCorrection,
    DeliveryOut,
)
from services.victim_support.programs import may_serve, program_for, program_refusal
from services.victim_support.victims import ensure_entitled, step


async def correct(
    ctx: Ctx,
    program_id: UUID,
    external_id: str,
    data: DeliveryCorrection,
    if_match: str | None,
) -> DeliveryOut:
    """Correct a delivery's type, amount or date, under ``If-Match`` (the delivery's version).
    The same checks as a new delivery, in the same lock order: who the NGO may serve before any
    lock, then the person, then the delivery. A change is audited, goes on the person's timeline
    and leaves as ``victim_support.victim.support_corrected``; the same content again changes
    nothing. The donor report reads the deliveries, so its figures follow."""
    session = ctx.session
    program = await program_for(ctx, program_id)
    ensure_owns(ctx.require_principal(), program)
    missing = NotFound("no delivery of this program has this external_id")
    withdrawn = Forbidden("the person's consent to share with your organisation is withdrawn")
    found = await program_repository.support_by_external_id(session, program.id, external_id)
    if found is None:
        raise missing
    if not await may_serve(ctx, program, [found.victim_id]):
        raise withdrawn  # before any lock: an NGO cannot hold up a person it may not touch
    victim = await repository.get_victim(session, found.victim_id, for_update=True)
    support = await program_repository.support_by_external_id(
        session, program.id, external_id, for_update=True
    )
    if victim is None or support is None:
        raise missing
    if not await may_serve(ctx, program, [victim.id]):
        raise withdrawn  # consent withdrawn while we waited for the lock
    check_if_match(if_match, support.version)
    refusal = program_refusal(data.type, data.delivered_on, program, date_field="delivered_on")
    if refusal is not None:
        raise Unprocessable(refusal["message"], errors=[refusal])
    before = _fields(support.type, support.amount_vnd, support.provided_on)
    after = _fields(data.type.value, data.amount_vnd, data.delivered_on)
    changed = [field for field in after if after[field] != before[field]]
    if changed:
        if "type" in changed:
            ensure_entitled(victim, data.type)
        support.type, support.amount_vnd = data.type.value, data.amount_vnd
        support.provided_on = data.delivered_on
        support.version += 1
        details: dict[str, Any] = {
            "support_id": str(support.id),
            "program_id": str(program.id),
            "external_id": external_id,
            "before": {f: before[f] for f in changed},
            "after": {f: after[f] for f in changed},
        }
        purpose = f"correct a delivery of program {program.id}"
        await ctx.record("correct", "support", support.id, purpose, details)
        await step(
            ctx, victim, "support_corrected", victim.status, details, emit="support_corrected"
        )
        await session.flush()
    return DeliveryOut(
        support_id=support.id,
        program_id=program.id,
        external_id=external_id,
        victim_ref=victim_ref(ctx.index, program.org, victim.id),
        person_external_id=await program_repository.enrollment_external_id(
            session, program.id, victim.id
        ),
        type=support.type,
        amount_vnd=support.amount_vnd,
        delivered_on=support.provided_on,
        version=support.version,
    )


def _fields(support_type: str, amount_vnd: int, delivered_on: date) -> dict[str, Any]:
    return {
        "type": support_type,
        "amount_vnd": amount_vnd,
        "delivered_on": delivered_on.isoformat(),
    }
