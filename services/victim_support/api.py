"""victim_support's HTTP API: routes only, the use cases are in ``reception``, ``care``,
``links``, ``programs``, ``deliveries`` and ``program_reports``."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from libs.common.concurrency import IfMatch
from libs.common.context import Purpose
from libs.common.exports import attachment
from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.open_clocks import DeadlineFilter
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from services.victim_support import (
    care,
    deliveries,
    delivery_batch,
    kpis,
    links,
    program_reports,
    programs,
    reception,
)
from services.victim_support.access import (
    Ngo,
    ProgramOwner,
    ProgramReader,
    Reader,
    SocialWorker,
    Supporter,
)
from services.victim_support.domain import LinkStatus, Source, VictimStatus
from services.victim_support.program_schemas import (
    DeliveryBatchIn,
    DeliveryBatchOut,
    DeliveryCorrection,
    DeliveryOut,
    EnrollmentIn,
    EnrollmentOut,
    ProgramCreate,
    ProgramRead,
    ProgramSummary,
)
from services.victim_support.schemas import (
    ConsentIn,
    ConsentOut,
    IdentificationIn,
    ProtectionIn,
    ReintegrationIn,
    SupportIn,
    SupportOut,
    VictimCreate,
    VictimKpis,
    VictimLinkDecisionIn,
    VictimLinkIn,
    VictimLinkOut,
    VictimRead,
    VictimSummary,
)

router = APIRouter(prefix="/v1")
DEFAULT_PURPOSE = "victim support"
LINK_PURPOSE = "link two records of one person"


@router.post("/victims", status_code=201, response_model=VictimSummary, tags=["victims"])
async def receive_victim(
    body: VictimCreate,
    ctx: SocialWorker,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Receive a person; one already received (same ID number, or name and date of birth) is
    linked, not duplicated. Verification is due 3 days after reception (Art. 27)."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: reception.receive_by_hand(ctx, body),
    )


@router.get("/victims", response_model=Page[VictimSummary], tags=["victims"])
async def list_victims(
    ctx: Reader,
    status: VictimStatus | None = None,
    case_id: UUID | None = None,
    source: Source | None = None,
    overdue: bool | None = None,
    deadline: DeadlineFilter = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[VictimSummary]:
    """Statuses and figures only; personal data is on the record, for social workers."""
    rows, items = await care.list_victims(
        ctx,
        status=status,
        case_id=case_id,
        source=source,
        overdue=overdue,
        deadline=deadline,
        ward_code=ward_code,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(items=items, next_cursor=time_cursor(rows, "received_at", limit))


@router.get("/victims/{victim_id}", response_model=VictimRead, tags=["victims"])
async def get_victim(
    victim_id: UUID,
    ctx: Reader,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> VictimRead:
    return await care.read_victim(ctx, victim_id, purpose)


@router.post("/victims/{victim_id}/identification", response_model=VictimSummary, tags=["victims"])
async def identify(
    victim_id: UUID,
    body: IdentificationIn,
    ctx: SocialWorker,
    if_match: IfMatch = None,
) -> VictimSummary:
    return await care.identify(ctx, victim_id, body, if_match)


@router.post("/victims/{victim_id}/protection", response_model=VictimSummary, tags=["victims"])
async def protect(
    victim_id: UUID,
    body: ProtectionIn,
    ctx: SocialWorker,
    if_match: IfMatch = None,
) -> VictimSummary:
    return await care.protect(ctx, victim_id, body, if_match)


@router.post(
    "/victims/{victim_id}/consents", status_code=201, response_model=ConsentOut, tags=["victims"]
)
async def record_consent(
    victim_id: UUID,
    body: ConsentIn,
    ctx: SocialWorker,
    if_match: IfMatch = None,
) -> ConsentOut:
    """Consents are scoped, revocable (``granted: false``) and time-stamped."""
    return await care.consent(ctx, victim_id, body, if_match)


@router.post(
    "/victims/{victim_id}/supports", status_code=201, response_model=SupportOut, tags=["victims"]
)
async def record_support(
    victim_id: UUID,
    body: SupportIn,
    ctx: Supporter,
    request: Request,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A support the person's status and nationality entitle them to (Art. 37); else 422
    naming the rule."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: care.record_support(ctx, victim_id, body, if_match),
    )


@router.post("/victims/{victim_id}/reintegration", response_model=VictimSummary, tags=["victims"])
async def reintegration(
    victim_id: UUID,
    body: ReintegrationIn,
    ctx: SocialWorker,
    if_match: IfMatch = None,
) -> VictimSummary:
    """A follow-up visit; ``closed: true`` ends support."""
    return await care.reintegrate(ctx, victim_id, body, if_match)


@router.post(
    "/victims/{victim_id}/links",
    status_code=201,
    response_model=VictimLinkOut,
    tags=["victim links"],
    responses={403: {"description": "the record is outside your jurisdiction"}},
)
async def propose_link(
    victim_id: UUID,
    body: VictimLinkIn,
    ctx: SocialWorker,
    request: Request,
    purpose: Purpose = LINK_PURPOSE,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Propose that your record and another office's record are one person (that office told
    you its id, often after a ``possible_duplicate`` suggestion made to it). Nothing is linked
    until the office holding the other record confirms; the answer is the same whether or not
    that record exists. Audited."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: links.propose(ctx, victim_id, body, purpose),
    )


@router.post(
    "/victim-links/{link_id}/decision",
    response_model=VictimLinkOut,
    tags=["victim links"],
    responses={
        403: {"description": "the person who proposed a link does not decide on it"},
        404: {"description": "no proposal to a record in your jurisdiction with this id"},
        409: {"description": "the link is decided already"},
    },
)
async def decide_link(
    link_id: UUID,
    body: VictimLinkDecisionIn,
    ctx: SocialWorker,
    purpose: Purpose = LINK_PURPOSE,
    if_match: IfMatch = None,
) -> VictimLinkOut:
    """Confirm or reject a link another office proposed to a record you hold. On
    confirmation, both records' timelines name the other record. Audited."""
    return await links.decide(ctx, link_id, body, purpose, if_match)


@router.get("/victim-links", response_model=Page[VictimLinkOut], tags=["victim links"])
async def list_links(
    ctx: SocialWorker,
    victim_id: UUID | None = None,
    status: LinkStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[VictimLinkOut]:
    """Suggestions made to your office (a reception elsewhere matched one of your people), your
    proposals, and proposals made to your records; newest first."""
    return await links.list_links(
        ctx,
        victim_id=victim_id,
        status=status,
        after=time_keyset(cursor),
        limit=limit,
    )


@router.post("/programs", status_code=201, response_model=ProgramRead, tags=["programs"])
async def create_program(
    body: ProgramCreate,
    ctx: ProgramOwner,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: programs.create_program(ctx, body),
    )


@router.get("/programs", response_model=Page[ProgramSummary], tags=["programs"])
async def list_programs(
    ctx: ProgramOwner, limit: Limit = 50, cursor: Cursor = None
) -> Page[ProgramSummary]:
    """Your organisation's programs (an admin: every program), newest first."""
    rows = await programs.list_programs(ctx, after=time_keyset(cursor), limit=limit)
    return Page(
        items=[programs.summary(p) for p in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.get("/programs/{program_id}", response_model=ProgramRead, tags=["programs"])
async def get_program(program_id: UUID, ctx: ProgramOwner) -> ProgramRead:
    return await programs.read_program(ctx, program_id)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/programs/{program_id}/report",
    tags=["programs"],
    responses={200: {"content": {"application/json": {}, "text/csv": {}, XLSX: {}}}},
)
async def program_report(
    program_id: UUID,
    ctx: ProgramReader,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: Annotated[
        Literal["vi", "en"] | None,
        Query(description="the spreadsheet's language; else Accept-Language, else Vietnamese"),
    ] = None,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Deliveries, people and amounts by support type and month, with the totals (people
    counted once), for donors. ``xlsx`` is ready to hand over, in Vietnamese or English."""
    data = await program_reports.report(ctx, program_id)
    name = f"program-{program_id}"
    if format == "csv":
        csv_text = program_reports.report_csv(data)
        return Response(
            csv_text, media_type="text/csv; charset=utf-8", headers=attachment(f"{name}.csv")
        )
    if format == "xlsx":
        language = program_reports.language(lang, accept_language)
        return Response(
            program_reports.report_xlsx(data, language),
            media_type=XLSX,
            headers={**attachment(f"{name}.xlsx"), "Content-Language": language},
        )
    return JSONResponse(data)


@router.post(
    "/programs/{program_id}/enrollments",
    status_code=201,
    response_model=EnrollmentOut,
    tags=["programs"],
)
async def enroll(
    program_id: UUID,
    body: EnrollmentIn,
    ctx: Ngo,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Enroll a person who consented to share with your organisation."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: programs.enroll(ctx, program_id, body),
    )


@router.post(
    "/programs/{program_id}/deliveries:batch",
    status_code=207,
    response_model=DeliveryBatchOut,
    tags=["programs"],
)
async def deliveries_batch(program_id: UUID, body: DeliveryBatchIn, ctx: Ngo) -> Response:
    """Up to 1,000 deliveries; per-item results; idempotent by ``external_id`` (the same
    content again is a ``duplicate``, other content a ``conflict`` naming the fields)."""
    result = await delivery_batch.batch(ctx, program_id, body)
    # Serialised by pydantic-core in one pass (1,000 results: no dicts, then json.dumps).
    return Response(result.model_dump_json(), status_code=207, media_type="application/json")


@router.put(
    "/programs/{program_id}/deliveries/{external_id}",
    response_model=DeliveryOut,
    tags=["programs"],
    responses={
        403: {"description": "the person's consent to share with you is withdrawn"},
        404: {"description": "no delivery of your program has this external_id"},
        412: {"description": "If-Match names an older version of the delivery"},
    },
)
async def correct_delivery(
    program_id: UUID,
    external_id: Annotated[str, Path(min_length=1, max_length=100)],
    body: DeliveryCorrection,
    ctx: Ngo,
    if_match: IfMatch = None,
) -> DeliveryOut:
    """Correct a delivery's type, amount or date (the version from its batch result in
    ``If-Match``). Audited; the donor report follows."""
    return await deliveries.correct(ctx, program_id, external_id, body, if_match)


@router.get("/kpis", response_model=VictimKpis, tags=["figures"])
async def get_kpis(
    ctx: kpis.FiguresReader,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> VictimKpis:
    return await kpis.victim_kpis(ctx, period_from=from_, period_to=to, ward_code=ward_code)
