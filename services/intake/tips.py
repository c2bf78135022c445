"""Tip use cases: load, apply ``domain.py``, save with the outbox event (the API commits)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.context import request_context
from libs.common.db import Database
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.open_clocks import DeadlineWindow, in_window
from libs.common.statemachine import RuleViolation
from libs.common.validation import field_error
from libs.contracts.intake import (
    TipClassified,
    TipClosed,
    TipDeadlineExtended,
    TipPersonData,
    TipReceived,
    TipVerified,
)
from services.intake import access, domain, receipts, repository, tip_clocks, tip_persons
from services.intake.access import Ctx
from services.intake.filing_rows import Filing, NewTip
from services.intake.models import Tip, TipExtension, TipPerson
from services.intake.schemas import (
    ClassificationIn,
    DuplicateOut,
    ExtensionIn,
    ExtensionOut,
    MessageOut,
    PersonOut,
    ReporterOut,
    TipCreate,
    TipCreated,
    TipRead,
    TipSummary,
    VerificationIn,
)

NO_STORE = {"Cache-Control": "no-store"}  # an answer holding a receipt code is never cached


async def file_tip(ctx: Ctx, data: TipCreate) -> TipCreated:
    """The tip, its persons, their blind indexes, a receipt, the event and the watches of its
    clocks, in one statement (``tip_persons``, ``tip_clocks``)."""
    now, reporter, ward = ctx.now, data.reporter, data.incident_ward_code
    status = domain.TipStatus.received
    tip = NewTip(
        id=new_id(),
        channel=data.channel.value,
        status=status.value,
        description=data.description,
        incident_ward_code=ward,
        province_code=province_of(ward) if ward else None,
        occurred_on=data.occurred_on,
        exploitation_types=sorted({t.value for t in data.exploitation_types}),
        destination_country=data.destination_country,
        anonymous=reporter is None or not any((reporter.name, reporter.phone, reporter.email)),
        reporter_name=reporter.name if reporter else None,
        reporter_phone=reporter.phone if reporter else None,
        reporter_email=reporter.email if reporter else None,
        filed_by=ctx.principal.sub if ctx.principal else None,
        extensions=[],
        received_at=now,
        resolution_due_at=domain.resolution_due_at(now),
        updated_at=now,
        version=1,
    )
    persons, digests = tip_persons.filed_persons(ctx.index, tip.id, data.persons, ward, now)
    code, receipt = receipts.new_receipt(ctx, "tip", tip.id)
    _, event = ctx.outbox.event_row(
        "intake.tip.received",
        tip.id,
        TipReceived(
            tip_id=tip.id,
            channel=tip.channel,
            status=tip.status,
            incident_ward_code=ward,
            province_code=tip.province_code,
            exploitation_types=tip.exploitation_types,
            received_at=now,
            resolution_due_at=tip.resolution_due_at,
        ),
    )
    filing = Filing(tip, persons, digests, receipt, tip_clocks.first_watches(ctx, tip))
    await repository.insert_filing(
        ctx.session, ctx.outbox.table, ctx.deadlines.table, filing, event
    )
    return TipCreated(
        id=tip.id,
        receipt_code=code,
        status=status,
        received_at=now,
        resolution_due_at=tip.resolution_due_at,
    )


async def file_tip_answer(
    request: Request, principal: Principal | None, data: TipCreate, idempotency_key: str | None
) -> Response:
    """``POST /v1/tips``: the anonymous flood guard, then the filing. With an Idempotency-Key
    (always, for a resident) in a session, with the key's lock, lookup and stored answer; an
    officer's filing without one has nothing to look up or keep, and is one statement
    (:func:`file_tip`), run in autocommit (``Database.one_statement``): no BEGIN, no COMMIT."""
    client = receipts.guard_filing(request, principal)
    db: Database = request.app.state.db
    if idempotency_key is None and principal is not None:
        async with db.one_statement() as session:
            ctx = request_context(request, session, principal, "anonymous")
            created = await file_tip(ctx, data)
        return Response(
            created.model_dump_json(), 201, headers=NO_STORE, media_type="application/json"
        )
    async with db.sessions() as session, session.begin():
        ctx = request_context(request, session, principal, "anonymous")
        response = await ctx.idempotency.run(
            session,
            request,
            idempotency_key,
            principal.sub if principal else None,
            lambda: file_tip(ctx, data),
            headers=NO_STORE,
            anonymous=principal is None,
        )
    return receipts.charge_filing(request, client, response)


async def tip_for_action(
    ctx: Ctx, tip_id: UUID, if_match: str | None, action: domain.TipAction
) -> tuple[Tip, domain.TipStatus]:
    """The tip, locked, and where the action leads; else 404, 403, 412 or 409, in that order."""
    principal = ctx.require_principal()
    tip = await repository.get_tip(ctx.session, tip_id, for_update=True)
    if tip is None:
        raise NotFound("no such tip")
    if not access.can_see(principal, tip, ctx.settings.triage_province):
        raise Forbidden("this tip is outside your jurisdiction")
    check_if_match(if_match, tip.version)
    target = domain.TIP_LIFECYCLE.take(domain.TipStatus(tip.status), action).to
    return tip, target


def summary(tip: Tip, now: datetime) -> TipSummary:
    status = domain.TipStatus(tip.status)
    return TipSummary(
        id=tip.id,
        channel=tip.channel,
        status=tip.status,
        priority=tip.priority,
        trafficking_related=tip.trafficking_related,
        incident_ward_code=tip.incident_ward_code,
        exploitation_types=tip.exploitation_types,
        received_at=tip.received_at,
        resolution_due_at=tip.resolution_due_at,
        overdue=domain.is_overdue(status, tip.resolution_due_at, now),
        due_soon=domain.is_due_soon(status, tip.resolution_due_at, now),
        assigned_to=tip.assignee,
        assignee=tip.assignee,
        version=tip.version,
    )


async def list_tips(
    ctx: Ctx,
    *,
    status: str | None,
    ward_code: str | None,
    priority: str | None,
    overdue: bool | None,
    due_soon: bool | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    assignee: str | None = None,
    deadline: DeadlineWindow | None = None,
) -> list[Tip]:
    """Tips in the caller's jurisdiction (and the triage queue for its officers), newest first;
    ``assignee`` ``me`` is the caller's own; ``deadline``: those whose resolution clock is due
    soon or missed, as the figures count them."""
    scope = repository.tip_scope(ctx.require_principal(), ctx.settings.triage_province)
    rows = await repository.list_tips(
        ctx.session,
        scope=scope,
        status=status,
        ward_code=ward_code,
        priority=priority,
        overdue=overdue,
        due_soon=due_soon,
        now=ctx.now,
        after=after,
        limit=limit,
        assignee=ctx.sub if assignee == "me" else assignee,
        clocks=in_window(
            ctx, deadline, record_type=domain.WATCHED_RECORD, kind=domain.TipClock.resolution
        ),
    )
    return list(rows)


def _person_out(person: TipPerson, names_only: bool) -> PersonOut:
    if names_only:
        return PersonOut(id=person.id, role=person.role, full_name=person.full_name)
    return PersonOut.model_validate(person)


async def read_tip(ctx: Ctx, tip_id: UUID, purpose: str) -> TipRead:
    """The full record (supervisors: names only), audited with its purpose."""
    principal = ctx.require_principal()
    tip = await repository.get_tip(ctx.session, tip_id)
    if tip is None or not access.can_see(principal, tip, ctx.settings.triage_province):
        raise NotFound("no such tip")
    names_only = access.names_only(principal)
    persons = await repository.persons_of(ctx.session, tip.id)
    extensions = await repository.extensions_of(ctx.session, tip.id)
    messages = await repository.messages_of(ctx.session, "tip", tip.id)
    duplicates = await repository.possible_duplicates(
        ctx.session, tip.id, repository.tip_scope(principal, ctx.settings.triage_province)
    )
    view = "names_only" if names_only else "full"
    await ctx.record("read", "tip", tip.id, purpose, {"view": view, "persons": len(persons)})
    return TipRead(
        **summary(tip, ctx.now).model_dump(),
        description=None if names_only else tip.description,
        occurred_on=tip.occurred_on,
        destination_country=tip.destination_country,
        anonymous=tip.anonymous,
        reporter=None
        if names_only or tip.anonymous
        else ReporterOut(
            name=tip.reporter_name, phone=tip.reporter_phone, email=tip.reporter_email
        ),
        persons=[_person_out(p, names_only) for p in persons],
        classification_notes=None if names_only else tip.classification_notes,
        verification_outcome=tip.verification_outcome,
        duplicate_of=tip.duplicate_of,
        verification_notes=None if names_only else tip.verification_notes,
        resolved_at=tip.resolved_at,
        extensions=[
            ExtensionOut.model_validate(e).model_copy(update={"reason": None} if names_only else {})
            for e in extensions
        ],
        messages=[] if names_only else [MessageOut.model_validate(m) for m in messages],
        possible_duplicates=[DuplicateOut(tip_id=k, reasons=v) for k, v in duplicates.items()],
    )


async def message_reporter(ctx: Ctx, tip_id: UUID, body: str) -> MessageOut:
    tip, _ = await tip_for_action(ctx, tip_id, None, domain.TipAction.message_reporter)
    return await receipts.add_message(ctx, "tip", tip.id, receipts.TO_REPORTER, body)


async def classify(
    ctx: Ctx, tip_id: UUID, data: ClassificationIn, if_match: str | None
) -> TipSummary:
    principal = ctx.require_principal()
    tip, target = await tip_for_action(ctx, tip_id, if_match, domain.TipAction.classify)
    # Triage places an unlocated tip wherever it happened (that is what the queue is for); a
    # located tip moves only within the officer's own jurisdiction.
    placing = tip.incident_ward_code is None
    if data.incident_ward_code and not placing and not principal.covers(data.incident_ward_code):
        raise Forbidden("you cannot place a tip in a ward outside your jurisdiction")
    tip.trafficking_related = data.trafficking_related.value
    tip.priority = data.priority.value
    if data.exploitation_types:
        tip.exploitation_types = sorted({t.value for t in data.exploitation_types})
    if data.incident_ward_code and data.incident_ward_code != tip.incident_ward_code:
        tip.incident_ward_code = data.incident_ward_code
        tip.province_code = province_of(data.incident_ward_code)
        await tip_clocks.follow(ctx, tip)
    tip.classification_notes = data.notes
    tip.classified_at = ctx.now
    tip.classified_by = ctx.sub
    tip.status = target.value
    receipts.touch(tip, ctx)
    await repository.save(ctx.session, tip)
    await ctx.emit(
        "intake.tip.classified",
        tip.id,
        TipClassified(
            tip_id=tip.id,
            status=tip.status,
            trafficking_related=tip.trafficking_related,
            priority=tip.priority,
            exploitation_types=tip.exploitation_types,
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            classified_at=ctx.now,
        ),
    )
    return summary(tip, ctx.now)


async def extend_deadline(
    ctx: Ctx, tip_id: UUID, data: ExtensionIn, if_match: str | None
) -> TipSummary:
    tip, _ = await tip_for_action(ctx, tip_id, if_match, domain.TipAction.extend)
    granted = [domain.ExtensionKind(k) for k in tip.extensions]
    try:
        extension = domain.extend(
            kind=data.kind,
            received_at=tip.received_at,
            granted=granted,
            current_due_at=tip.resolution_due_at,
            now=ctx.now,
        )
    except RuleViolation as exc:
        raise Conflict(exc.reason) from exc
    granted_row = TipExtension(
        id=new_id(),
        tip_id=tip.id,
        kind=data.kind.value,
        reason=data.reason,
        previous_due_at=tip.resolution_due_at,
        new_due_at=extension.new_due_at,
        granted_by=ctx.sub,
        granted_at=ctx.now,
    )
    tip.extensions = [*tip.extensions, data.kind.value]
    tip.resolution_due_at = extension.new_due_at
    await tip_clocks.follow(ctx, tip)
    receipts.touch(tip, ctx)
    await repository.save(ctx.session, granted_row, tip)
    await ctx.emit(
        "intake.tip.deadline_extended",
        tip.id,
        TipDeadlineExtended(
            tip_id=tip.id, kind=data.kind.value, resolution_due_at=extension.new_due_at
        ),
    )
    return summary(tip, ctx.now)


async def _check_original(ctx: Ctx, tip: Tip, original_id: UUID) -> None:
    if original_id == tip.id:
        raise Unprocessable(
            "a tip cannot duplicate itself",
            errors=[field_error("duplicate_of", "must be another tip", "duplicate_of.self")],
        )
    original = await repository.get_tip(ctx.session, original_id)
    principal = ctx.require_principal()
    if original is None or not access.can_see(principal, original, ctx.settings.triage_province):
        raise Unprocessable(
            "the original tip does not exist",
            errors=[field_error("duplicate_of", "no such tip", "duplicate_of.unknown")],
        )


async def verify(ctx: Ctx, tip_id: UUID, data: VerificationIn, if_match: str | None) -> TipSummary:
    tip, _ = await tip_for_action(ctx, tip_id, if_match, domain.TipAction.verify)
    substantiated = data.outcome is domain.VerificationOutcome.substantiated
    if substantiated and tip.incident_ward_code is None:
        raise Conflict(
            "locate the tip first (classification with incident_ward_code): "
            "the case it opens belongs to a ward's jurisdiction"
        )
    if data.duplicate_of is not None:
        await _check_original(ctx, tip, data.duplicate_of)
    tip.verification_outcome = data.outcome.value
    tip.duplicate_of = data.duplicate_of
    tip.verification_notes = data.notes
    tip.verified_at = tip.resolved_at = ctx.now
    tip.verified_by = ctx.sub
    tip.status = domain.VERIFICATION_STATUS[data.outcome].value
    await tip_clocks.settle(ctx, tip)
    receipts.touch(tip, ctx)
    await repository.save(ctx.session, tip)
    persons = await repository.persons_of(ctx.session, tip.id) if substantiated else []
    await ctx.emit(
        "intake.tip.verified",
        tip.id,
        TipVerified(
            tip_id=tip.id,
            status=tip.status,
            outcome=data.outcome.value,
            duplicate_of=data.duplicate_of,
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            exploitation_types=tip.exploitation_types,
            destination_country=tip.destination_country,
            received_at=tip.received_at,
            verified_at=ctx.now,
            verified_by=ctx.sub,
            persons=[TipPersonData.model_validate(p, from_attributes=True) for p in persons],
        ),
    )
    if tip.status == domain.TipStatus.closed.value:
        await ctx.emit(
            "intake.tip.closed",
            tip.id,
            TipClosed(tip_id=tip.id, outcome=data.outcome.value, closed_at=ctx.now),
        )
    return summary(tip, ctx.now)
