"""Casework HTTP API (DESIGN.md section 6). Thin handlers: roles as dependencies, the state
machine in ``domain.py``, use cases in ``service.py``, ``parties.py`` and ``rings.py``."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from libs.common.auth import Principal, Role, require_roles
from libs.common.concurrency import IfMatch
from libs.common.context import Purpose
from libs.common.db import DbSession
from libs.common.errors import Conflict
from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.platform import platform_of
from services.casework import kpis, parties, repository, rings, service
from services.casework.domain import CaseStatus
from services.casework.models import metadata
from services.casework.schemas import (
    CaseCreate,
    CaseRead,
    CaseSummary,
    CaseworkKpis,
    PartyIn,
    PartyOut,
    RelatedCase,
    RingCasesIn,
    RingCreate,
    RingGraph,
    RingRead,
    TransitionIn,
)
from services.casework.settings import CaseworkSettings

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

router = APIRouter(prefix="/v1")

Reader = Annotated[
    Principal,
    Depends(require_roles(Role.investigator, Role.prosecutor, Role.court_clerk, Role.supervisor)),
]
Investigator = Annotated[Principal, Depends(require_roles(Role.investigator))]
Actor = Annotated[
    Principal, Depends(require_roles(Role.investigator, Role.prosecutor, Role.court_clerk))
]
DEFAULT_PURPOSE = "case handling"


def _actor(request: Request, principal: Principal | None) -> service.Actor:
    settings: CaseworkSettings = request.app.state.settings
    return service.Actor(
        principal=principal,
        index=request.app.state.blind_index,
        now=service.now_utc(),
        rules=settings.stage_rules(),
    )


@router.post("/cases", status_code=201, response_model=CaseSummary, tags=["cases"])
async def open_case(
    body: CaseCreate,
    principal: Investigator,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Open a case directly (cases from substantiated tips open by themselves)."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.open_case(session, actor, body),
    )


@router.get("/cases", response_model=Page[CaseSummary], tags=["cases"])
async def list_cases(
    principal: Reader,
    session: DbSession,
    status: CaseStatus | None = None,
    tip_id: UUID | None = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    overdue: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CaseSummary]:
    now = service.now_utc()
    cases = await repository.list_cases(
        session,
        scope=repository.case_scope(principal),
        status=status.value if status else None,
        tip_id=tip_id,
        ward_code=ward_code,
        overdue=overdue,
        now=now,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[service.summary(c, now) for c in cases],
        next_cursor=time_cursor(cases, "opened_at", limit),
    )


@router.get("/cases/{case_id}", response_model=CaseRead, tags=["cases"])
async def get_case(
    case_id: UUID,
    principal: Reader,
    request: Request,
    session: DbSession,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> CaseRead:
    """The case with its parties, legal facts, allowed actions and timeline (audited)."""
    return await service.read_case(session, _actor(request, principal), case_id, purpose)


@router.post("/cases/{case_id}/transitions", response_model=CaseSummary, tags=["cases"])
async def transition_case(
    case_id: UUID,
    body: TransitionIn,
    principal: Actor,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> CaseSummary:
    """Take one step of the procedure; a step not allowed now is 409 with the allowed ones."""
    return await service.transition(session, _actor(request, principal), case_id, body, if_match)


@router.post("/cases/{case_id}/persons", status_code=201, response_model=PartyOut, tags=["cases"])
async def add_person(
    case_id: UUID,
    body: PartyIn,
    principal: Investigator,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Add a suspect, victim or witness; a victim is sent to victim_support for reception."""
    actor = _actor(request, principal)

    async def add() -> PartyOut:
        case = await service.case_for_action(session, principal, case_id, if_match)
        if case.status == CaseStatus.closed.value:
            raise Conflict("the case is closed")
        party = await parties.add_party(session, case, body, actor)
        case.version += 1
        return parties.party_out(party, names_only=False)

    return await platform.idempotency.run(session, request, idempotency_key, principal.sub, add)


@router.get("/cases/{case_id}/related", response_model=list[RelatedCase], tags=["rings"])
async def related_cases(
    case_id: UUID, principal: Investigator, request: Request, session: DbSession
) -> list[RelatedCase]:
    """Other cases in your jurisdiction sharing a suspect (name + birth year), phone or ID."""
    actor = _actor(request, principal)
    case = await service.case_for_read(session, principal, case_id)
    return await parties.related(session, case, actor)


@router.post("/rings", status_code=201, response_model=RingRead, tags=["rings"])
async def create_ring(
    body: RingCreate,
    principal: Investigator,
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
        lambda: rings.create_ring(session, actor, body),
    )


@router.post("/rings/{ring_id}/cases", response_model=RingRead, tags=["rings"])
async def add_ring_cases(
    ring_id: UUID, body: RingCasesIn, principal: Investigator, request: Request, session: DbSession
) -> RingRead:
    return await rings.add_cases(session, _actor(request, principal), ring_id, body.case_ids)


@router.get("/rings/{ring_id}", response_model=RingRead, tags=["rings"])
async def get_ring(
    ring_id: UUID, principal: Investigator, request: Request, session: DbSession
) -> RingRead:
    return await rings.read_ring(session, _actor(request, principal), ring_id)


@router.get(
    "/rings/{ring_id}/graph",
    response_model=RingGraph,
    tags=["rings"],
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def get_ring_graph(
    ring_id: UUID,
    principal: Investigator,
    request: Request,
    session: DbSession,
    format: Literal["json", "svg"] = "json",
    purpose: Purpose = DEFAULT_PURPOSE,
) -> Response:
    """Nodes (cases, persons, phones, places) and edges; ``?format=svg`` draws it."""
    graph = await rings.ring_graph(session, _actor(request, principal), ring_id, purpose)
    if format == "svg":
        return Response(rings.render_svg(graph), media_type="image/svg+xml")
    return JSONResponse(graph.model_dump(mode="json"))


@router.get("/kpis", response_model=CaseworkKpis, tags=["figures"])
async def get_kpis(
    principal: Reader,
    session: DbSession,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> CaseworkKpis:
    return await kpis.casework_kpis(
        session,
        principal,
        period_from=from_,
        period_to=to,
        ward_code=ward_code,
        now=service.now_utc(),
    )
