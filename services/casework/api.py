"""Casework's HTTP API: routes only; the rules are in ``domain.py``, the use cases in
``cases.py``, ``parties.py`` and ``rings.py``."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from libs.common.concurrency import IfMatch
from libs.common.context import Purpose
from libs.common.figures import PeriodFrom, PeriodTo, ProvinceFilter, within_province
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.open_clocks import DeadlineFilter
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.schemas import AssignmentIn
from services.casework import assignment, cases, graph, kpis, rings
from services.casework.access import Assigner, CaseOfficer, Investigator, Reader
from services.casework.domain import CaseStatus
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

router = APIRouter(prefix="/v1")
DEFAULT_PURPOSE = "case handling"
ASSIGNMENT_PURPOSE = "case assignment"


@router.post("/cases", status_code=201, response_model=CaseSummary, tags=["cases"])
async def open_case(
    body: CaseCreate,
    ctx: Investigator,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Open a case directly (cases from substantiated tips open by themselves)."""
    return await ctx.idempotency.run(
        ctx.session, request, idempotency_key, ctx.sub, lambda: cases.open_case(ctx, body)
    )


@router.get("/cases", response_model=Page[CaseSummary], tags=["cases"])
async def list_cases(
    ctx: Reader,
    status: CaseStatus | None = None,
    tip_id: UUID | None = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    overdue: bool | None = None,
    deadline: DeadlineFilter = None,
    assignee: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="an officer's `sub`, or `me`"),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CaseSummary]:
    rows = await cases.list_cases(
        ctx,
        status=status.value if status else None,
        tip_id=tip_id,
        ward_code=ward_code,
        overdue=overdue,
        deadline=deadline,
        assignee=assignee,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[cases.summary(c, ctx.now) for c in rows],
        next_cursor=time_cursor(rows, "opened_at", limit),
    )


@router.get("/cases/{case_id}", response_model=CaseRead, tags=["cases"])
async def get_case(case_id: UUID, ctx: Reader, purpose: Purpose = DEFAULT_PURPOSE) -> CaseRead:
    """The case with its parties, legal facts, allowed actions and timeline (audited)."""
    return await cases.read_case(ctx, case_id, purpose)


@router.post("/cases/{case_id}/transitions", response_model=CaseSummary, tags=["cases"])
async def transition_case(
    case_id: UUID, body: TransitionIn, ctx: CaseOfficer, if_match: IfMatch = None
) -> CaseSummary:
    """Take one step of the procedure; a step not allowed now is 409 with the allowed ones."""
    return await cases.transition(ctx, case_id, body, if_match)


@router.post("/cases/{case_id}/assignment", response_model=CaseSummary, tags=["cases"])
async def assign_case(
    case_id: UUID,
    body: AssignmentIn,
    ctx: Assigner,
    request: Request,
    if_match: IfMatch = None,
    purpose: Purpose = ASSIGNMENT_PURPOSE,
) -> CaseSummary:
    """Give the case to an investigator whose jurisdiction covers its ward (`sub`, as in their
    token); anyone else is 422 `assignee_not_eligible`. The same investigator again changes
    nothing."""
    directory = request.app.state.directory
    return await assignment.assign(ctx, case_id, body.sub, directory, purpose, if_match)


@router.post("/cases/{case_id}/persons", status_code=201, response_model=PartyOut, tags=["cases"])
async def add_person(
    case_id: UUID,
    body: PartyIn,
    ctx: Investigator,
    request: Request,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Add a suspect, victim or witness; a victim is sent to victim_support for reception."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: cases.add_person(ctx, case_id, body, if_match),
    )


@router.get("/cases/{case_id}/related", response_model=list[RelatedCase], tags=["rings"])
async def related_cases(case_id: UUID, ctx: Investigator) -> list[RelatedCase]:
    """Other cases in your jurisdiction sharing a suspect (name + birth year), phone or ID."""
    return await cases.related_cases(ctx, case_id)


@router.post("/rings", status_code=201, response_model=RingRead, tags=["rings"])
async def create_ring(
    body: RingCreate,
    ctx: Investigator,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await ctx.idempotency.run(
        ctx.session, request, idempotency_key, ctx.sub, lambda: rings.create_ring(ctx, body)
    )


@router.post("/rings/{ring_id}/cases", response_model=RingRead, tags=["rings"])
async def add_ring_cases(ring_id: UUID, body: RingCasesIn, ctx: Investigator) -> RingRead:
    return await rings.add_cases(ctx, ring_id, body.case_ids)


@router.get("/rings/{ring_id}", response_model=RingRead, tags=["rings"])
async def get_ring(ring_id: UUID, ctx: Investigator) -> RingRead:
    return await rings.read_ring(ctx, ring_id)


@router.get(
    "/rings/{ring_id}/graph",
    response_model=RingGraph,
    tags=["rings"],
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def get_ring_graph(
    ring_id: UUID,
    ctx: Investigator,
    format: Literal["json", "svg"] = "json",
    purpose: Purpose = DEFAULT_PURPOSE,
) -> Response:
    """Nodes (cases, persons, phones, places) and edges; ``?format=svg`` draws it."""
    drawn = await rings.ring_graph(ctx, ring_id, purpose)
    if format == "svg":
        return Response(graph.render_svg(drawn), media_type="image/svg+xml")
    return JSONResponse(drawn.model_dump(mode="json"))


@router.get("/kpis", response_model=CaseworkKpis, tags=["figures"])
async def get_kpis(
    ctx: Reader,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    province_code: ProvinceFilter = None,
) -> CaseworkKpis:
    ctx = within_province(ctx, province_code)  # the plan report of one province
    return await kpis.casework_kpis(ctx, period_from=from_, period_to=to, ward_code=ward_code)
