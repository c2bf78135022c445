"""An NGO's deliveries of support under its programs: batches judged item by item, and the
correction of a delivery recorded with a mistake. A delivery is a support of the person (Art. 37)
carrying the program and the NGO's own ``external_id`` for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from libs.common.concurrency import check_if_match
from libs.common.errors import Forbidden, NotFound, Unprocessable
from services.victim_support import program_repository, repository
from services.victim_support.access import Ctx, ensure_owns, victim_ref
from services.victim_support.models import Program, Support
from services.victim_support.program_schemas import (
    DeliveryBatchIn,
    DeliveryBatchOut,
    DeliveryCorrection,
    DeliveryItem,
    DeliveryOut,
    DeliveryResult,
)
from services.victim_support.programs import SHARE, may_serve, program_for, program_refusal
from services.victim_support.victims import add_support, ensure_entitled, step

DIFFERS = "differs from the delivery recorded under this external_id"


@dataclass(frozen=True)
class Stored:
    """What a delivery recorded earlier holds, as read once (a savepoint rolled back later in the
    batch must not expire what an answer needs)."""

    support_id: UUID
    victim_id: UUID
    type: str
    amount_vnd: int
    delivered_on: date
    version: int

    @classmethod
    def of(cls, support: Support) -> Stored:
        return cls(
            support.id,
            support.victim_id,
            support.type,
            support.amount_vnd,
            support.provided_on,
            support.version,
        )


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "item", "message": e["msg"]}
        for e in exc.errors()
    ]


def _parse(raw_items: list[Any]) -> tuple[list[DeliveryItem | None], list[DeliveryResult | None]]:
    parsed: list[DeliveryItem | None] = []
    results: list[DeliveryResult | None] = []
    for index, raw in enumerate(raw_items):
        try:
            parsed.append(DeliveryItem.model_validate(raw))
            results.append(None)
        except ValidationError as exc:
            parsed.append(None)
            external = raw.get("external_id") if isinstance(raw, dict) else None
            results.append(
                DeliveryResult(
                    index=index,
                    external_id=str(external)[:100] if external is not None else None,
                    status="rejected",
                    errors=_errors(exc),
                )
            )
    return parsed, results


def _person_field(item: DeliveryItem) -> str:
    return "victim_id" if item.victim_id is not None else "person_external_id"


def _against(
    index: int, item: DeliveryItem, victim_id: UUID | None, stored: Stored
) -> DeliveryResult:
    """An ``external_id`` recorded before: the same delivery again is a duplicate; other content
    is a conflict naming each field that differs (correct it with PUT, never by resending)."""
    differs = [
        field
        for field, same in (
            (_person_field(item), victim_id == stored.victim_id),
            ("type", item.type.value == stored.type),
            ("amount_vnd", item.amount_vnd == stored.amount_vnd),
            ("delivered_on", item.delivered_on == stored.delivered_on),
        )
        if not same
    ]
    return DeliveryResult(
        index=index,
        external_id=item.external_id,
        status="conflict" if differs else "duplicate",
        support_id=stored.support_id,
        version=stored.version,
        errors=[{"field": field, "message": DIFFERS} for field in differs],
    )


async def batch(ctx: Ctx, program_id: UUID, body: DeliveryBatchIn) -> DeliveryBatchOut:
    """Up to 1,000 deliveries, each judged on its own: a bad item is rejected with its reasons
    and never blocks the good ones; an ``external_id`` seen before is a duplicate, or a conflict
    when its content differs, never a second delivery. Each good item is written under a
    savepoint. The lock order is in docs/architecture.md ("The locks of a delivery batch")."""
    session = ctx.session
    program = await program_for(ctx, program_id)
    ensure_owns(ctx.require_principal(), program)
    parsed, results = _parse(body.items)
    items = [p for p in parsed if p is not None]
    # The NGO names a person by the id, or by its own reference given at enrollment.
    refs = sorted({i.person_external_id for i in items if i.person_external_id is not None})
    by_ref = await program_repository.enrolled_by_external_ids(session, program.id, refs)

    def person_of(item: DeliveryItem) -> UUID | None:
        if item.victim_id is not None:
            return item.victim_id
        return by_ref.get(item.person_external_id or "")

    victim_ids = list({v for v in map(person_of, items) if v is not None})
    # Read without locks first: a person the NGO may not touch is never locked by it.
    enrolled = await program_repository.enrolled_victims(session, program.id, victim_ids)
    consent = await program_repository.consents_for_org(session, list(enrolled), SHARE, program.org)
    allowed = sorted(v for v in enrolled if consent.get(v, False))
    # Lock those (a retried batch waits, then sees its duplicates) and read consent again.
    victims = await repository.victims_by_ids(session, allowed, for_update=True)
    consent = await program_repository.consents_for_org(session, list(victims), SHARE, program.org)
    seen = {
        external_id: Stored.of(support)
        for external_id, support in (
            await program_repository.supports_by_external_ids(
                session, program.id, [i.external_id for i in items]
            )
        ).items()
    }
    for index, item in enumerate(parsed):
        if item is None:
            continue
        victim_id = person_of(item)
        if item.external_id in seen:
            results[index] = _against(index, item, victim_id, seen[item.external_id])
            continue
        reason = _refusal(item, victim_id, program, enrolled, consent)
        if reason is not None:
            results[index] = DeliveryResult(
                index=index, external_id=item.external_id, status="rejected", errors=[reason]
            )
            continue
        assert victim_id is not None  # _refusal answered for an unknown person
        try:
            async with session.begin_nested():
                support = await add_support(
                    ctx,
                    victims[victim_id],
                    support_type=item.type,
                    amount_vnd=item.amount_vnd,
                    provided_on=item.delivered_on,
                    provider_org=program.org,
                    program_id=program.id,
                    external_id=item.external_id,
                )
                await session.flush()
        except Unprocessable as exc:
            results[index] = DeliveryResult(
                index=index,
                external_id=item.external_id,
                status="rejected",
                errors=exc.errors or [{"field": "type", "message": exc.detail}],
            )
            continue
        except IntegrityError as exc:
            # Another request stored this external_id meanwhile (for other people than ours,
            # or we would have waited for it above): the savepoint undid ours, theirs stands.
            if "external_id" not in str(exc.orig):
                raise
            # The rollback to the savepoint expired what it had changed on the person.
            await repository.reload(session, victims[victim_id])
            stored = await program_repository.supports_by_external_ids(
                session, program.id, [item.external_id]
            )
            seen[item.external_id] = Stored.of(stored[item.external_id])
            results[index] = _against(index, item, victim_id, seen[item.external_id])
            continue
        seen[item.external_id] = Stored.of(support)
        results[index] = DeliveryResult(
            index=index,
            external_id=item.external_id,
            status="created",
            support_id=support.id,
            version=support.version,
        )
    final = [r for r in results if r is not None]
    return DeliveryBatchOut(
        created=sum(r.status == "created" for r in final),
        duplicate=sum(r.status == "duplicate" for r in final),
        conflict=sum(r.status == "conflict" for r in final),
        rejected=sum(r.status == "rejected" for r in final),
        results=final,
    )


def _refusal(
    item: DeliveryItem,
    victim_id: UUID | None,
    program: Program,
    enrolled: set[UUID],
    consent: dict[UUID, bool],
) -> dict[str, str] | None:
    field = _person_field(item)
    if victim_id is None:
        return {"field": field, "message": "no enrollment of this program has this external_id"}
    if victim_id not in enrolled:
        return {"field": field, "message": "not enrolled in this program"}
    if not consent.get(victim_id, False):
        return {"field": field, "message": "consent to share with this organisation withdrawn"}
    return program_refusal(item.type, item.delivered_on, program, date_field="delivered_on")


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
