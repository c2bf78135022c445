"""Interagency HTTP API: routes only; use cases in ``partners``, ``alerts``, ``webhooks`` and
``matches``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from libs.common.app import BodyLimitMiddleware
from libs.common.concurrency import IfMatch
from libs.common.context import Purpose
from libs.common.events import MEDIA_TYPE
from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.openapi import raw_body
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.webhooks import (
    ID_HEADER,
    SIGNATURE_HEADER,
    SIGNED_HEADERS_DOC,
    TIMESTAMP_HEADER,
)
from services.interagency import alerts, kpis, matches, partners, webhooks
from services.interagency.access import Admin, IntakeOfficer, Officer, Reader, Signed
from services.interagency.alert_data import InboundEvent, OutboundEvent
from services.interagency.domain import (
    AlertType,
    DeliveryStatus,
    Direction,
    MatchStatus,
    PartnerStatus,
)
from services.interagency.schemas import (
    AlertCreated,
    AlertRead,
    AlertSummary,
    BulkReplayIn,
    BulkReplayOut,
    BulletinIn,
    BulletinRead,
    DecisionIn,
    DeliveryOut,
    DisableIn,
    InboundAccepted,
    InteragencyKpis,
    MatchRead,
    OutboundAlertIn,
    PartnerCreate,
    PartnerCreated,
    PartnerRead,
    PartnerUpdate,
    RevokeSecretIn,
    RotatedSecrets,
    RotateSecretIn,
)

PartnerCode = Annotated[str, Path(pattern=r"^\d{2}$", description="the partner's province code")]
INBOUND = "/v1/inbound/"
DEFAULT_PURPOSE = "inter-province exchange"

router = APIRouter(prefix="/v1")


class InboundBodyLimit(BodyLimitMiddleware):
    """Partners' alerts have their own, smaller limit (``inbound_max_bytes``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(INBOUND):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# Partners (admin) ---------------------------------------------------------------------------------


@router.post("/partners", status_code=201, response_model=PartnerCreated, tags=["partners"])
async def register_partner(
    body: PartnerCreate, ctx: Admin, request: Request, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    """Register a partner province. Both secrets are in this response only: hand them over."""
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: partners.register_partner(ctx, body),
        headers={"Cache-Control": "no-store"},
        replayable=False,  # both secrets are shown once: never stored, a replay is 409
    )


@router.get("/partners", response_model=Page[PartnerRead], tags=["partners"])
async def list_partners(ctx: Admin, limit: Limit = 50, cursor: Cursor = None) -> Page[PartnerRead]:
    """Partners, newest first; never their secrets."""
    rows = await partners.list_partners(ctx, time_keyset(cursor), limit)
    return Page(items=rows, next_cursor=time_cursor(rows, "created_at", limit))


@router.get("/partners/{code}", response_model=PartnerRead, tags=["partners"])
async def get_partner(code: PartnerCode, ctx: Admin) -> PartnerRead:
    return await partners.get_partner(ctx, code)


@router.patch("/partners/{code}", response_model=PartnerRead, tags=["partners"])
async def update_partner(
    code: PartnerCode, body: PartnerUpdate, ctx: Admin, if_match: IfMatch = None
) -> PartnerRead:
    return await partners.update_partner(ctx, code, body, if_match)


@router.post("/partners/{code}/rotate-secret", response_model=RotatedSecrets, tags=["partners"])
async def rotate_secret(
    code: PartnerCode,
    ctx: Admin,
    request: Request,
    body: RotateSecretIn | None = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """New secret(s), shown once; the old one stays valid for the overlap (24 h by default)."""
    direction = (body or RotateSecretIn()).direction
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: partners.rotate_secret(ctx, code, direction, if_match),
        status=200,
        headers={"Cache-Control": "no-store"},
        replayable=False,  # the new secret is shown once: never stored, a replay is 409
    )


@router.post("/partners/{code}/revoke-secret", response_model=PartnerRead, tags=["partners"])
async def revoke_secret(
    code: PartnerCode, ctx: Admin, body: RevokeSecretIn | None = None, if_match: IfMatch = None
) -> PartnerRead:
    """End a rotation's overlap at once: the previous secret (``direction`` says whose, both by
    default) stops being valid now. Idempotent and audited; 404 for an unknown partner."""
    direction = (body or RevokeSecretIn()).direction
    return await partners.revoke_previous_secret(ctx, code, direction, if_match)


@router.post("/partners/{code}/disable", response_model=PartnerRead, tags=["partners"])
async def disable_partner(
    code: PartnerCode, ctx: Admin, body: DisableIn | None = None, if_match: IfMatch = None
) -> PartnerRead:
    """Pause deliveries to the partner and refuse its webhooks."""
    reason = (body or DisableIn()).reason
    return await partners.set_partner_status(ctx, code, PartnerStatus.disabled, reason, if_match)


@router.post("/partners/{code}/enable", response_model=PartnerRead, tags=["partners"])
async def enable_partner(code: PartnerCode, ctx: Admin, if_match: IfMatch = None) -> PartnerRead:
    """Resume deliveries (pending ones go out again) after the URL is checked once more."""
    return await partners.set_partner_status(ctx, code, PartnerStatus.enabled, None, if_match)


# Inbound webhooks (partners, signed) --------------------------------------------------------------


@router.post(
    "/inbound/{partner_code}",
    status_code=202,
    response_model=InboundAccepted,
    tags=["webhooks"],
    openapi_extra=raw_body(InboundEvent, MEDIA_TYPE)
    | {
        "parameters": [
            {"name": name, "in": "header", "required": True, "description": text}
            | {"schema": {"type": "string"}}
            for name, text in SIGNED_HEADERS_DOC.items()
        ]
    },
)
async def receive_alert(
    partner_code: Annotated[str, Path(max_length=20)], request: Request, ctx: Signed
) -> JSONResponse:
    """A partner's alert as a CloudEvent, signed per Standard Webhooks with its inbound secret
    (during a rotation the previous secret too, until it expires or is revoked).

    * 401 for a bad, missing, stale or other partner's signature and for an unknown or disabled
      partner code, with the same problem either way: the answer does not say which codes are
      our partners.
    * 202 with ``alert_id``; a repeated ``webhook-id`` is answered exactly as the first
      delivery was (202, the same ``alert_id``) with no second effect. Whether the person
      matched one of our missing persons is never said.
    * 422 for data outside the allow-list of its ``alert_type``, 413 past the size limit.
    """
    body = await request.body()
    accepted = await webhooks.receive(ctx, partner_code, request.headers, body)
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202)


# What we send to partners (OpenAPI webhooks): documentation only, the sender is delivery.py.
outbound = APIRouter()


@outbound.post(
    "alert",
    operation_id="alert_to_partner",
    tags=["webhooks"],
    status_code=200,
    responses={
        410: {"description": "the endpoint is retired: we disable the partner and stop"},
        503: {"description": "anything but 2xx and 410 is retried with backoff (Retry-After)"},
    },
)
async def alert_to_partner(
    event: Annotated[OutboundEvent, Body(media_type=MEDIA_TYPE)],
    webhook_id: Annotated[str, Header(alias=ID_HEADER, description=SIGNED_HEADERS_DOC[ID_HEADER])],
    webhook_timestamp: Annotated[
        int, Header(alias=TIMESTAMP_HEADER, description=SIGNED_HEADERS_DOC[TIMESTAMP_HEADER])
    ],
    webhook_signature: Annotated[
        str, Header(alias=SIGNATURE_HEADER, description=SIGNED_HEADERS_DOC[SIGNATURE_HEADER])
    ],
) -> None:
    """An alert we POST to a partner's `webhook_url`, signed with its outbound secret: answer
    2xx once it is stored. Only the allow-listed fields of its `alert_type` are in `data`."""


# Alerts and bulletins (officers) ------------------------------------------------------------------


@router.post("/alerts", status_code=201, response_model=AlertCreated, tags=["alerts"])
async def send_alert(
    body: OutboundAlertIn,
    ctx: Officer,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Send a ``suspect_alert`` (subscribed or named partners) or a ``victim_handover`` (the
    receiving province). Only the allow-listed fields of the type leave."""
    return await ctx.idempotency.run(
        ctx.session, request, idempotency_key, ctx.sub, lambda: alerts.send_alert(ctx, body)
    )


@router.get("/alerts", response_model=Page[AlertSummary], tags=["alerts"])
async def list_alerts(
    ctx: Reader,
    direction: Direction | None = None,
    alert_type: AlertType | None = None,
    partner_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    subject_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AlertSummary]:
    """Alerts in and out, newest first, with delivery counts; no personal data in the list."""
    rows = await alerts.list_alerts(
        ctx,
        direction=direction,
        alert_type=alert_type,
        partner_code=partner_code,
        subject_id=subject_id,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(items=rows, next_cursor=time_cursor(rows, "created_at", limit))


@router.get("/alerts/{alert_id}", response_model=AlertRead, tags=["alerts"])
async def get_alert(alert_id: UUID, ctx: Reader, purpose: Purpose = DEFAULT_PURPOSE) -> AlertRead:
    """The alert's data, its deliveries and every attempt; the read is audited."""
    return await alerts.read_alert(ctx, alert_id, purpose)


@router.post("/bulletins", status_code=201, response_model=AlertCreated, tags=["bulletins"])
async def send_bulletin(
    body: BulletinIn,
    ctx: Officer,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A situation bulletin (figures, routes and methods, legal documents) to partners."""
    return await ctx.idempotency.run(
        ctx.session, request, idempotency_key, ctx.sub, lambda: alerts.send_bulletin(ctx, body)
    )


@router.get("/bulletins", response_model=Page[BulletinRead], tags=["bulletins"])
async def list_bulletins(
    ctx: Reader,
    direction: Direction | None = None,
    partner_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[BulletinRead]:
    rows = await alerts.list_bulletins(
        ctx,
        direction=direction,
        partner_code=partner_code,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(items=rows, next_cursor=time_cursor(rows, "created_at", limit))


# Deliveries (admin) -------------------------------------------------------------------------------


@router.get("/deliveries", response_model=Page[DeliveryOut], tags=["deliveries"])
async def list_deliveries(
    ctx: Admin,
    status: DeliveryStatus | None = None,
    partner_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryOut]:
    rows = await alerts.list_deliveries(
        ctx, status=status, partner_code=partner_code, after=time_keyset(cursor), limit=limit
    )
    return Page(items=rows, next_cursor=time_cursor(rows, "created_at", limit))


@router.post("/deliveries/replay", response_model=BulkReplayOut, tags=["deliveries"])
async def replay_deliveries(body: BulkReplayIn, ctx: Admin) -> BulkReplayOut:
    """Send failed deliveries again in bulk, e.g. after a partner's outage: those matching every
    filter given (``partner_code``, ``alert_type``, failed in ``failed_from``..``failed_to``), at
    most ``limit`` (10,000), oldest failure first, each with the same webhook-id and a fresh
    retry schedule. Deliveries to a disabled partner stay failed (enable it first) and are
    counted in ``left_at_disabled_partners``; ``more_may_match`` says to call again. Audited."""
    return await alerts.replay_failed(ctx, body)


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryOut, tags=["deliveries"])
async def replay_delivery(delivery_id: UUID, ctx: Admin) -> DeliveryOut:
    """Send a failed delivery again, with the same webhook-id and a fresh retry schedule."""
    return await alerts.replay_delivery(ctx, delivery_id)


# Matches (intake officers) ------------------------------------------------------------------------


@router.get("/matches", response_model=Page[MatchRead], tags=["matches"])
async def list_matches(
    ctx: IntakeOfficer,
    missing_person_id: UUID | None = None,
    status: MatchStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MatchRead]:
    """Candidates for missing persons in your jurisdiction, newest first."""
    rows = await matches.list_matches(
        ctx,
        missing_person_id=missing_person_id,
        status=status,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(items=rows, next_cursor=time_cursor(rows, "created_at", limit))


@router.post("/matches/{match_id}/decision", response_model=MatchRead, tags=["matches"])
async def decide_match(
    match_id: UUID, body: DecisionIn, ctx: IntakeOfficer, if_match: IfMatch = None
) -> MatchRead:
    """``confirmed`` or ``rejected``, once (409 after); the outcome of the search itself is
    recorded on the missing-person report in intake."""
    return await matches.decide(ctx, match_id, body.decision, body.note, if_match)


# Figures ------------------------------------------------------------------------------------------


@router.get("/kpis", response_model=InteragencyKpis, tags=["figures"])
async def get_kpis(ctx: Reader, from_: PeriodFrom = None, to: PeriodTo = None) -> InteragencyKpis:
    """Alerts sent and received, delivery success, matches found and confirmed."""
    return await kpis.interagency_kpis(ctx, period_from=from_, period_to=to)
