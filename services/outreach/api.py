"""outreach HTTP API (DESIGN.md sections 9 and 10) and the steering committee's dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response

from libs.common.auth import Principal, Role, require_roles
from libs.common.db import DbSession
from libs.common.errors import Forbidden, Unprocessable
from libs.common.exports import attachment
from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.jurisdiction import is_valid_code
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.platform import platform_of
from services.outreach import domain, report, repository, service
from services.outreach.models import metadata
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

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

router = APIRouter(prefix="/v1")
pages = APIRouter(tags=["dashboard"])
STATIC = Path(__file__).parent / "static"

Organiser = Annotated[Principal, Depends(require_roles(Role.admin, Role.social_worker))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.supervisor,
            Role.admin,
            Role.social_worker,
            Role.intake_officer,
            Role.investigator,
            Role.prosecutor,
            Role.court_clerk,
            Role.auditor,
        )
    ),
]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Reporter = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]


def _actor(principal: Principal) -> service.Actor:
    return service.Actor(principal=principal, now=service.now_utc())


@router.post("/campaigns", status_code=201, response_model=CampaignOut, tags=["campaigns"])
async def create_campaign(
    body: CampaignCreate,
    principal: Organiser,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.create_campaign(session, _actor(principal), body),
    )


@router.get("/campaigns", response_model=Page[CampaignOut], tags=["campaigns"])
async def list_campaigns(
    principal: Reader,
    session: DbSession,
    active_on: date | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CampaignOut]:
    rows = await repository.list_campaigns(
        session, repository.campaign_scope(principal), active_on, time_keyset(cursor), limit
    )
    return Page(
        items=[service.campaign_out(c) for c in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.post("/activities", status_code=201, response_model=ActivityOut, tags=["activities"])
async def record_activity(
    body: ActivityCreate,
    principal: Organiser,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.record_activity(session, _actor(principal), body),
    )


@router.get("/activities", response_model=Page[ActivityOut], tags=["activities"])
async def list_activities(
    principal: Reader,
    session: DbSession,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    campaign_id: UUID | None = None,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ActivityOut]:
    rows = await repository.list_activities(
        session,
        repository.activity_scope(principal),
        ward_code=ward_code,
        campaign_id=campaign_id,
        held_from=from_,
        held_to=to,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[service.activity_out(a) for a in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.put("/wards/{code}/population", response_model=PopulationOut, tags=["coverage"])
async def put_population(
    code: Annotated[str, PathParam(pattern=r"^\d{5}$")],
    body: PopulationIn,
    principal: Organiser,
    session: DbSession,
) -> PopulationOut:
    """The ward's residents in a year, with the figure's source: the coverage denominator."""
    return await service.set_population(session, _actor(principal), code, body)


@router.post(
    "/commendations", status_code=201, response_model=CommendationOut, tags=["commendations"]
)
async def commend(
    body: CommendationCreate,
    principal: Organiser,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.commend(session, _actor(principal), body),
    )


@router.get("/target-groups", response_model=list[TargetGroupOut], tags=["coverage"])
async def list_target_groups(principal: Reader, session: DbSession) -> list[TargetGroupOut]:
    return [
        TargetGroupOut(code=g.code, name_vi=g.name_vi, name_en=g.name_en, active=g.active)
        for g in await repository.target_groups(session)
    ]


@router.put("/target-groups/{code}", response_model=TargetGroupOut, tags=["coverage"])
async def put_target_group(
    code: Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{1,39}$")],
    body: TargetGroupIn,
    principal: Admin,
    session: DbSession,
) -> TargetGroupOut:
    """Edit the taxonomy of high-risk groups (add, rename, retire)."""
    return await service.put_target_group(session, code, body)


@router.get("/kpis", response_model=OutreachKpis, tags=["figures"])
async def get_kpis(
    principal: Reader,
    session: DbSession,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> OutreachKpis:
    """Coverage per ward and overall against the 75% target, with numerators and denominators."""
    return await service.coverage_kpis(
        session, principal, period_from=from_, period_to=to, ward_code=ward_code,
        now=service.now_utc(),
    )  # fmt: skip


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
    principal: Reporter,
    request: Request,
    session: DbSession,
    period: Annotated[str, Query(max_length=7, description="2026-Q3 or 2026")],
    jurisdiction: Annotated[str, Query(max_length=5, description="province or ward code")],
    format: Literal["json", "xlsx", "html"] = "json",
) -> Response:
    """Every service's figures for the quarterly report to the city; a service that is down is
    listed under ``missing`` instead of failing the report."""
    try:
        start, end = domain.quarter(period)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "period", "message": str(exc)}]) from exc
    if not is_valid_code(jurisdiction):
        raise Unprocessable(
            "unknown jurisdiction",
            errors=[{"field": "jurisdiction", "message": "not a province or ward code"}],
        )
    if not principal.covers(jurisdiction):
        raise Forbidden("that jurisdiction is outside yours")
    ward = jurisdiction if len(jurisdiction) == 5 else None
    local = await service.coverage_kpis(
        session, principal, period_from=start, period_to=end, ward_code=ward,
        now=service.now_utc(),
    )  # fmt: skip
    settings: OutreachSettings = request.app.state.settings
    figures, missing = await report.gather_figures(
        settings,
        request.headers["authorization"],
        start,
        end,
        ward,
        local.model_dump(mode="json"),
        transport=getattr(request.app.state, "report_transport", None),
    )
    body = {
        "period": period.strip().upper(),
        "jurisdiction": jurisdiction,
        "generated_at": datetime.now(UTC).isoformat(),
        "targets": report.targets(figures),
        "figures": figures,
        "missing": missing,
    }
    if format == "xlsx":
        return Response(
            report.workbook(body),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=attachment(f"plan-{body['period']}.xlsx"),
        )
    if format == "html":
        return HTMLResponse(report.html_page(body))
    return JSONResponse(body)


@pages.get("/dashboard", response_class=HTMLResponse, summary="The steering committee's page")
async def dashboard() -> HTMLResponse:
    """A static page: it asks for the viewer's token and reads every service's ``/v1/kpis``."""
    return HTMLResponse((STATIC / "dashboard.html").read_text(encoding="utf-8"))


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
