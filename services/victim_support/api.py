"""victim_support HTTP API (DESIGN.md section 7). Thin handlers: roles as dependencies, rules in
``domain.py``, use cases in ``service.py`` and ``programs.py``."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from libs.common.auth import Principal, Role, require_roles
from libs.common.concurrency import IfMatch
from libs.common.context import Purpose
from libs.common.db import DbSession
from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.platform import platform_of
from services.victim_support import kpis, links, programs, repository, service
from services.victim_support.domain import LinkStatus, Source, VictimStatus
from services.victim_support.models import metadata
from services.victim_support.schemas import (
    ConsentIn,
    ConsentOut,
    DeliveryBatchIn,
    DeliveryBatchOut,
    EnrollmentIn,
    EnrollmentOut,
    IdentificationIn,
    ProgramCreate,
    ProgramRead,
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

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

router = APIRouter(prefix="/v1")

SocialWorker = Annotated[Principal, Depends(require_roles(Role.social_worker))]
Reader = Annotated[Principal, Depends(require_roles(Role.social_worker, Role.supervisor))]
Supporter = Annotated[Principal, Depends(require_roles(Role.social_worker, Role.ngo))]
ProgramOwner = Annotated[Principal, Depends(require_roles(Role.admin, Role.ngo))]
ProgramReader = Annotated[Principal, Depends(require_roles(Role.admin, Role.ngo, Role.supervisor))]
Ngo = Annotated[Principal, Depends(require_roles(Role.ngo))]
DEFAULT_PURPOSE = "victim support"
LINK_PURPOSE = "link two records of one person"


def _actor(request: Request, principal: Principal | None) -> service.Actor:
    return service.Actor(
        principal=principal, index=request.app.state.blind_index, now=service.now_utc()
    )


@router.post("/victims", status_code=201, response_model=VictimSummary, tags=["victims"])
async def receive_victim(
    body: VictimCreate,
    principal: SocialWorker,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Receive a person; one already received (same ID number, or name and date of birth) is
    linked, not duplicated. Verification is due 3 days after reception (Art. 27)."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.receive_by_hand(session, actor, body),
    )


@router.get("/victims", response_model=Page[VictimSummary], tags=["victims"])
async def list_victims(
    principal: Reader,
    session: DbSession,
    status: VictimStatus | None = None,
    case_id: UUID | None = None,
    source: Source | None = None,
    overdue: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[VictimSummary]:
    """Statuses and figures only; personal data is on the record, for social workers."""
    now = service.now_utc()
    rows = await repository.list_victims(
        session,
        scope=repository.victim_scope(principal),
        status=status.value if status else None,
        case_id=case_id,
        source=source.value if source else None,
        overdue=overdue,
        now=now,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[service.summary(v, now) for v in rows],
        next_cursor=time_cursor(rows, "received_at", limit),
    )


@router.get("/victims/{victim_id}", response_model=VictimRead, tags=["victims"])
async def get_victim(
    victim_id: UUID,
    principal: Reader,
    request: Request,
    session: DbSession,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> VictimRead:
    return await service.read_victim(session, _actor(request, principal), victim_id, purpose)


@router.post("/victims/{victim_id}/identification", response_model=VictimSummary, tags=["victims"])
async def identify(
    victim_id: UUID,
    body: IdentificationIn,
    principal: SocialWorker,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> VictimSummary:
    return await service.identify(session, _actor(request, principal), victim_id, body, if_match)


@router.post("/victims/{victim_id}/protection", response_model=VictimSummary, tags=["victims"])
async def protect(
    victim_id: UUID,
    body: ProtectionIn,
    principal: SocialWorker,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> VictimSummary:
    return await service.protect(session, _actor(request, principal), victim_id, body, if_match)


@router.post(
    "/victims/{victim_id}/consents", status_code=201, response_model=ConsentOut, tags=["victims"]
)
async def record_consent(
    victim_id: UUID,
    body: ConsentIn,
    principal: SocialWorker,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> ConsentOut:
    """Consents are scoped, revocable (``granted: false``) and time-stamped."""
    return await service.consent(session, _actor(request, principal), victim_id, body, if_match)


@router.post(
    "/victims/{victim_id}/supports", status_code=201, response_model=SupportOut, tags=["victims"]
)
async def record_support(
    victim_id: UUID,
    body: SupportIn,
    principal: Supporter,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A support the person's status and nationality entitle them to (Art. 37); else 422
    naming the rule."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: (
            service.record_support(session, actor, victim_id, body, if_match)
            if principal.has_role(Role.social_worker)
            else programs.record_support(session, actor, victim_id, body, if_match)
        ),
    )


@router.post("/victims/{victim_id}/reintegration", response_model=VictimSummary, tags=["victims"])
async def reintegration(
    victim_id: UUID,
    body: ReintegrationIn,
    principal: SocialWorker,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> VictimSummary:
    """A follow-up visit; ``closed: true`` ends support."""
    return await service.reintegrate(session, _actor(request, principal), victim_id, body, if_match)


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
    principal: SocialWorker,
    request: Request,
    session: DbSession,
    purpose: Purpose = LINK_PURPOSE,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Propose that your record and another office's record are one person (that office told
    you its id, often after a ``possible_duplicate`` suggestion made to it). Nothing is linked
    until the office holding the other record confirms; the answer is the same whether or not
    that record exists. Audited."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: links.propose(session, actor, victim_id, body, purpose),
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
    principal: SocialWorker,
    request: Request,
    session: DbSession,
    purpose: Purpose = LINK_PURPOSE,
    if_match: IfMatch = None,
) -> VictimLinkOut:
    """Confirm or reject a link another office proposed to a record you hold. On
    confirmation, both records' timelines name the other record. Audited."""
    return await links.decide(session, _actor(request, principal), link_id, body, purpose, if_match)


@router.get("/victim-links", response_model=Page[VictimLinkOut], tags=["victim links"])
async def list_links(
    principal: SocialWorker,
    session: DbSession,
    victim_id: UUID | None = None,
    status: LinkStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[VictimLinkOut]:
    """Suggestions made to your office (a reception elsewhere matched one of your people), your
    proposals, and proposals made to your records; newest first."""
    return await links.list_links(
        session,
        principal,
        victim_id=victim_id,
        status=status,
        after=time_keyset(cursor),
        limit=limit,
    )


@router.post("/programs", status_code=201, response_model=ProgramRead, tags=["programs"])
async def create_program(
    body: ProgramCreate,
    principal: ProgramOwner,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: programs.create_program(session, actor, body),
    )


@router.get("/programs/{program_id}", response_model=ProgramRead, tags=["programs"])
async def get_program(
    program_id: UUID, principal: ProgramOwner, request: Request, session: DbSession
) -> ProgramRead:
    return await programs.read_program(session, _actor(request, principal), program_id)


@router.get(
    "/programs/{program_id}/report",
    tags=["programs"],
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
async def program_report(
    program_id: UUID,
    principal: ProgramReader,
    session: DbSession,
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Response:
    """Counts and amounts by support type and month, for donors."""
    data = await programs.report(session, principal, program_id)
    name = f"program-{program_id}"
    if format == "csv":
        return Response(
            programs.report_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "xlsx":
        return Response(
            programs.report_xlsx(data),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
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
    principal: Ngo,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Enroll a person who consented to share with your organisation."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: programs.enroll(session, actor, program_id, body),
    )


@router.post(
    "/programs/{program_id}/deliveries:batch",
    status_code=207,
    response_model=DeliveryBatchOut,
    tags=["programs"],
)
async def deliveries_batch(
    program_id: UUID,
    body: DeliveryBatchIn,
    principal: Ngo,
    request: Request,
    session: DbSession,
) -> JSONResponse:
    """Up to 1,000 deliveries; per-item results; idempotent by ``external_id``."""
    result = await programs.deliveries(session, _actor(request, principal), program_id, body)
    return JSONResponse(result.model_dump(mode="json"), status_code=207)


@router.get("/kpis", response_model=VictimKpis, tags=["figures"])
async def get_kpis(
    principal: Reader,
    session: DbSession,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> VictimKpis:
    return await kpis.victim_kpis(
        session,
        principal,
        period_from=from_,
        period_to=to,
        ward_code=ward_code,
        now=service.now_utc(),
    )
