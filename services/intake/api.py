"""Intake's HTTP API: routes only; access in ``access.py``, use cases in ``tips.py``,
``receipts.py`` and ``missing_persons.py``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from libs.common.auth import OptionalPrincipal
from libs.common.concurrency import IfMatch
from libs.common.context import PublicContext, Purpose
from libs.common.errors import NotFound
from libs.common.figures import PeriodFrom, PeriodTo, ProvinceFilter, within_province
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.open_clocks import DeadlineFilter
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.resident_keys import ResidentIdempotencyKeyHeader, check_random_key
from libs.common.schemas import AssignmentIn
from services.intake import assignment, kpis, missing_persons, receipts, tips
from services.intake.access import (
    DEFAULT_PURPOSE,
    Assigner,
    IntakeOfficer,
    Officer,
    Reader,
    ReceiptHolder,
)
from services.intake.domain import MissingPersonStatus, Priority, Publication, TipStatus
from services.intake.schemas import (
    ClassificationIn,
    ExtensionIn,
    IntakeKpis,
    MessageIn,
    MessageOut,
    MissingPersonCreate,
    MissingPersonCreated,
    MissingPersonRead,
    MissingPersonSummary,
    ReceiptLookupIn,
    ReceiptMessageIn,
    ReceiptView,
    ResolutionIn,
    ReviewIn,
    TipCreate,
    TipCreated,
    TipRead,
    TipSummary,
    VerificationIn,
)

router = APIRouter(prefix="/v1")
ASSIGNMENT_PURPOSE = "tip assignment"


# Public: tips, missing-person reports and receipts ----------------------------------------------


@router.post("/tips", status_code=201, response_model=TipCreated, tags=["tips"])
async def create_tip(
    body: TipCreate,
    principal: OptionalPrincipal,
    request: Request,
    idempotency_key: ResidentIdempotencyKeyHeader = None,
) -> Response:
    """File a tip, with or without a token. The receipt code is shown once: keep it.

    Without a token an ``Idempotency-Key`` is required, a UUID v4 or v7 new for each tip (422
    otherwise): retrying with it after a lost answer returns the same receipt code, and files
    one tip, not two. A retry while the first is still running is 409
    ``idempotency-in-progress`` with ``Retry-After``; the same key with another body is 409
    ``idempotency-key-reused``."""
    return await tips.file_tip_answer(request, principal, body, idempotency_key)


@router.post(
    "/missing-persons",
    status_code=201,
    response_model=MissingPersonCreated,
    tags=["missing persons"],
)
async def create_missing_person(
    body: MissingPersonCreate,
    ctx: PublicContext,
    request: Request,
    idempotency_key: ResidentIdempotencyKeyHeader = None,
) -> JSONResponse:
    """Report a missing person (đơn trình báo mất tích), with or without a token; without one,
    an ``Idempotency-Key`` is required, a UUID v4 or v7 new for each report (as for a tip)."""
    client = receipts.guard_filing(request, ctx.principal)
    response = await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.principal.sub if ctx.principal else None,
        lambda: missing_persons.report(ctx, body),
        headers=tips.NO_STORE,
        anonymous=ctx.principal is None,
    )
    return receipts.charge_filing(request, client, response)


@router.post("/receipts/lookup", response_model=ReceiptView, tags=["receipts"])
async def look_up_receipt(
    body: ReceiptLookupIn, ctx: ReceiptHolder, request: Request
) -> JSONResponse:
    """The status and the messages meant for the reporter. The code travels in the body, never
    in a URL, which proxies and gateways log. A wrong code is 404; guessing is rate-limited
    (429 with Retry-After)."""
    client = await receipts.receipt_client(request)
    if not await receipts.known_code(request, ctx.index, body.receipt_code):
        raise await receipts.wrong_code(request, client)
    view = await receipts.receipt_view(ctx, body.receipt_code)
    if view is None:
        raise NotFound("no report with this receipt code")
    return JSONResponse(view.model_dump(mode="json"), headers=tips.NO_STORE)


@router.post(
    "/receipts/messages",
    status_code=201,
    response_model=MessageOut,
    tags=["receipts"],
)
async def post_receipt_message(
    body: ReceiptMessageIn,
    ctx: ReceiptHolder,
    request: Request,
    idempotency_key: ResidentIdempotencyKeyHeader = None,
) -> JSONResponse:
    """The reporter adds information to their report. An ``Idempotency-Key`` is scoped to the
    receipt by its keyed hash, never by the code: two reporters who pick the same key never
    replay each other's message, and the stored scope reveals no code. It is required, a UUID v4
    or v7 new for each message."""
    check_random_key(idempotency_key)  # before the code is tried: a refusal costs no guess
    client = await receipts.receipt_client(request)
    code = body.receipt_code
    if not await receipts.known_code(request, ctx.index, code):
        raise await receipts.wrong_code(request, client)

    async def add() -> MessageOut:
        message = await receipts.add_reporter_message(ctx, code, body.body)
        if message is None:
            raise NotFound("no report with this receipt code")
        return message

    scope = "receipt:" + receipts.receipt_hash(ctx.index, code)
    return await ctx.idempotency.run(
        ctx.session, request, idempotency_key, scope, add, anonymous=True
    )


# Officers: tips ---------------------------------------------------------------------------------


@router.get("/tips", response_model=Page[TipSummary], tags=["tips"])
async def list_tips(
    ctx: Reader,
    status: TipStatus | None = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    priority: Priority | None = None,
    overdue: bool | None = None,
    due_soon: bool | None = None,
    deadline: DeadlineFilter = None,
    assignee: Annotated[
        str | None, Query(min_length=1, max_length=200, description="an officer's sub, or me")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TipSummary]:
    """Tips in your jurisdiction, newest first; no personal data in the list."""
    rows = await tips.list_tips(
        ctx,
        status=status.value if status else None,
        ward_code=ward_code,
        priority=priority.value if priority else None,
        overdue=overdue,
        due_soon=due_soon,
        after=time_keyset(cursor),
        limit=limit,
        assignee=assignee,
        deadline=deadline,
    )
    return Page(
        items=[tips.summary(t, ctx.now) for t in rows],
        next_cursor=time_cursor(rows, "received_at", limit),
    )


@router.get("/tips/{tip_id}", response_model=TipRead, tags=["tips"])
async def get_tip(
    tip_id: UUID,
    ctx: Reader,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> TipRead:
    """The tip with its persons, messages and possible duplicates; the read is audited."""
    return await tips.read_tip(ctx, tip_id, purpose)


@router.post("/tips/{tip_id}/messages", status_code=201, response_model=MessageOut, tags=["tips"])
async def message_reporter(
    tip_id: UUID,
    body: MessageIn,
    ctx: IntakeOfficer,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Ask the reporter a question; they read it through their receipt."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: tips.message_reporter(ctx, tip_id, body.body),
    )


@router.post("/tips/{tip_id}/assignment", response_model=TipSummary, tags=["tips"])
async def assign_tip(
    tip_id: UUID,
    body: AssignmentIn,
    ctx: Assigner,
    request: Request,
    if_match: IfMatch = None,
    purpose: Purpose = ASSIGNMENT_PURPOSE,
) -> TipSummary:
    """Give an open tip to an intake officer of its place (``sub``, as in their token); its
    deadline reminders go to them. Anyone else, unknown or from elsewhere, is 422
    ``assignee_not_eligible``; the current assignee again is a 200 that changes nothing."""
    directory = request.app.state.directory
    return await assignment.assign(ctx, tip_id, body.sub, directory, purpose, if_match)


@router.post("/tips/{tip_id}/classification", response_model=TipSummary, tags=["tips"])
async def classify_tip(
    request: Request,
    tip_id: UUID,
    body: ClassificationIn,
    ctx: IntakeOfficer,
    if_match: IfMatch = None,
) -> TipSummary:
    """``assigned_to``, if given, assigns the tip in the same transaction, checked as
    ``POST /v1/tips/{id}/assignment`` checks it: a refused assignee refuses the classification."""
    classified = await tips.classify(ctx, tip_id, body, if_match)
    if body.assigned_to is None:
        return classified
    directory = request.app.state.directory
    return await assignment.assign(
        ctx, tip_id, body.assigned_to, directory, ASSIGNMENT_PURPOSE, None
    )


@router.post("/tips/{tip_id}/extension", response_model=TipSummary, tags=["tips"])
async def extend_tip_deadline(
    tip_id: UUID,
    body: ExtensionIn,
    ctx: IntakeOfficer,
    if_match: IfMatch = None,
) -> TipSummary:
    """Record an extension of the resolution deadline (Criminal Procedure Code Art. 147)."""
    return await tips.extend_deadline(ctx, tip_id, body, if_match)


@router.post("/tips/{tip_id}/verification", response_model=TipSummary, tags=["tips"])
async def verify_tip(
    tip_id: UUID,
    body: VerificationIn,
    ctx: Officer,
    if_match: IfMatch = None,
) -> TipSummary:
    """``substantiated`` opens a case in casework; the others close the tip."""
    return await tips.verify(ctx, tip_id, body, if_match)


# Officers: missing persons ----------------------------------------------------------------------


@router.get("/missing-persons", response_model=Page[MissingPersonSummary], tags=["missing persons"])
async def list_missing_persons(
    ctx: Reader,
    status: MissingPersonStatus | None = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    publication: Publication | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MissingPersonSummary]:
    """Reports in your jurisdiction, newest first; ``publication=pending`` is the review queue."""
    rows, items = await missing_persons.list_reports(
        ctx,
        status=status.value if status else None,
        ward_code=ward_code,
        publication=publication.value if publication else None,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(items=items, next_cursor=time_cursor(rows, "reported_at", limit))


@router.get(
    "/missing-persons/{missing_person_id}",
    response_model=MissingPersonRead,
    tags=["missing persons"],
)
async def get_missing_person(
    missing_person_id: UUID,
    ctx: Reader,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> MissingPersonRead:
    """The report with possible matches found by interagency; the read is audited."""
    return await missing_persons.read(ctx, missing_person_id, purpose)


@router.post(
    "/missing-persons/{missing_person_id}/messages",
    status_code=201,
    response_model=MessageOut,
    tags=["missing persons"],
)
async def message_missing_person_reporter(
    missing_person_id: UUID,
    body: MessageIn,
    ctx: Officer,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Write to the family who reported; they read it through their receipt."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: missing_persons.message_reporter(ctx, missing_person_id, body.body),
    )


@router.post(
    "/missing-persons/{missing_person_id}/resolution",
    response_model=MissingPersonSummary,
    tags=["missing persons"],
)
async def resolve_missing_person(
    missing_person_id: UUID,
    body: ResolutionIn,
    ctx: Officer,
    if_match: IfMatch = None,
) -> MissingPersonSummary:
    return await missing_persons.resolve(ctx, missing_person_id, body, if_match)


@router.post(
    "/missing-persons/{missing_person_id}/review",
    response_model=MissingPersonSummary,
    tags=["missing persons"],
)
async def review_missing_person(
    missing_person_id: UUID,
    body: ReviewIn,
    ctx: IntakeOfficer,
    if_match: IfMatch = None,
) -> MissingPersonSummary:
    """``publish`` alerts partner provinces (``intake.missing_person.published``); ``hold``
    keeps the report from them, with a reason. A report from the public is never sent to
    partners before an intake officer of the place publishes it."""
    return await missing_persons.review(ctx, missing_person_id, body, if_match)


# Figures -----------------------------------------------------------------------------------------


@router.get("/kpis", response_model=IntakeKpis, tags=["figures"])
async def get_kpis(
    ctx: Reader,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    province_code: ProvinceFilter = None,
) -> IntakeKpis:
    """The plan's intake targets as figures, each with numerator and denominator."""
    ctx = within_province(ctx, province_code)  # the plan report of one province
    return await kpis.intake_kpis(ctx, period_from=from_, period_to=to, ward_code=ward_code)
