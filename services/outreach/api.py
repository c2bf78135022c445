"""outreach's HTTP API, and the steering committee's dashboard page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response

from libs.common.exports import attachment
from libs.common.figures import PeriodFrom, PeriodTo, ProvinceFilter, within_province
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from services.outreach import campaigns, coverage, dashboard_labels, kpis, reports
from services.outreach.access import Admin, Organiser, Reader, Reporter
from services.outreach.schemas import (
    ActivityCreate,
    ActivityOut,
    CampaignCreate,
    CampaignOut,
    CommendationCreate,
    CommendationOut,
    OutreachKpis,
    PlanReport,
    PopulationIn,
    PopulationOut,
    TargetGroupIn,
    TargetGroupOut,
)
from services.outreach.settings import OutreachSettings

router = APIRouter(prefix="/v1")
pages = APIRouter(tags=["dashboard"])


@router.post("/campaigns", status_code=201, response_model=CampaignOut, tags=["campaigns"])
async def create_campaign(
    body: CampaignCreate,
    ctx: Organiser,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: campaigns.create_campaign(ctx, body),
    )


@router.get("/campaigns", response_model=Page[CampaignOut], tags=["campaigns"])
async def list_campaigns(
    ctx: Reader,
    active_on: date | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CampaignOut]:
    rows = await campaigns.list_campaigns(ctx, active_on, time_keyset(cursor), limit)
    return Page(
        items=[CampaignOut.model_validate(c) for c in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.post("/activities", status_code=201, response_model=ActivityOut, tags=["activities"])
async def record_activity(
    body: ActivityCreate,
    ctx: Organiser,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: campaigns.record_activity(ctx, body),
    )


@router.get("/activities", response_model=Page[ActivityOut], tags=["activities"])
async def list_activities(
    ctx: Reader,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    campaign_id: UUID | None = None,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ActivityOut]:
    rows = await campaigns.list_activities(
        ctx,
        ward_code=ward_code,
        campaign_id=campaign_id,
        held_from=from_,
        held_to=to,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[ActivityOut.model_validate(a) for a in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.put("/wards/{code}/population", response_model=PopulationOut, tags=["coverage"])
async def put_population(
    code: Annotated[str, PathParam(pattern=r"^\d{5}$")],
    body: PopulationIn,
    ctx: Organiser,
) -> PopulationOut:
    """The ward's residents in a year, with the figure's source: the coverage denominator."""
    return await coverage.set_population(ctx, code, body)


@router.post(
    "/commendations", status_code=201, response_model=CommendationOut, tags=["commendations"]
)
async def commend(
    body: CommendationCreate,
    ctx: Organiser,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: campaigns.commend(ctx, body),
    )


@router.get("/target-groups", response_model=list[TargetGroupOut], tags=["coverage"])
async def list_target_groups(ctx: Reader) -> list[TargetGroupOut]:
    return [TargetGroupOut.model_validate(g) for g in await coverage.target_groups(ctx)]


@router.put("/target-groups/{code}", response_model=TargetGroupOut, tags=["coverage"])
async def put_target_group(
    code: Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{1,39}$")],
    body: TargetGroupIn,
    ctx: Admin,
) -> TargetGroupOut:
    """Edit the taxonomy of high-risk groups (add, rename, retire)."""
    return await coverage.put_target_group(ctx, code, body)


@router.get("/kpis", response_model=OutreachKpis, tags=["figures"])
async def get_kpis(
    ctx: Reader,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    province_code: ProvinceFilter = None,
) -> OutreachKpis:
    """Coverage per ward and overall against the 75% target, with numerators and denominators."""
    ctx = within_province(ctx, province_code)  # the plan report of one province
    return await kpis.outreach_kpis(ctx, period_from=from_, period_to=to, ward_code=ward_code)


@router.get(
    "/reports/plan",
    response_model=PlanReport,
    tags=["figures"],
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/html": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
async def plan_report(
    ctx: Reporter,
    request: Request,
    period: Annotated[str, Query(max_length=7, description="2026-Q3 or 2026")],
    jurisdiction: Annotated[str, Query(max_length=5, description="province or ward code")],
    format: Literal["json", "xlsx", "html"] = "json",
) -> Response:
    """Every service's figures for the quarterly report to the city; a service that is down is
    listed under ``missing`` instead of failing the report."""
    body = await reports.plan_report(
        ctx,
        period=period,
        jurisdiction=jurisdiction,
        authorization=request.headers["authorization"],
        transport=getattr(request.app.state, "report_transport", None),
    )
    if format == "xlsx":
        return Response(
            reports.workbook(body),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=attachment(f"plan-{body['period']}.xlsx"),
        )
    if format == "html":
        return HTMLResponse(reports.html_page(body))
    return JSONResponse(body)


@pages.get("/dashboard", response_class=HTMLResponse, summary="The steering committee's page")
async def dashboard() -> HTMLResponse:
    """A static page: it asks for the viewer's token and reads every service's ``/v1/kpis``."""
    return HTMLResponse(dashboard_labels.page())


@pages.get("/dashboard/config.json", summary="Where the dashboard finds each service")
async def dashboard_config(request: Request) -> dict[str, str]:
    settings: OutreachSettings = request.app.state.settings
    return {
        "intake": settings.intake_url,
        "casework": settings.casework_url,
        "victim_support": settings.victim_support_url,
        "interagency": settings.interagency_url,
        "outreach": "",
    }
