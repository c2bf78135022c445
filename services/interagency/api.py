"""Interagency HTTP API (DESIGN.md sections 4 and 8). Thin handlers: roles as dependencies,
rules in ``domain.py``, use cases in ``service.py`` and ``inbound.py``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from libs.common.auth import Principal, Role, require_roles
from libs.common.concurrency import IfMatch
from libs.common.context import Purpose
from libs.common.db import DbSession
from libs.common.errors import NotFound, PayloadTooLarge
from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.platform import platform_of
from libs.common.scoping import jurisdiction_clause
from services.interagency import inbound, kpis, partners, repository, service
from services.interagency.domain import (
    AlertType,
    DeliveryStatus,
    Direction,
    MatchStatus,
    PartnerStatus,
)
from services.interagency.models import MissingPersonRef, metadata
from services.interagency.schemas import (
    AlertCreated,
    AlertRead,
    AlertSummary,
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
from services.interagency.settings import InteragencySettings

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

PartnerCode = Annotated[str, Path(pattern=r"^\d{2}$", description="the partner's province code")]

router = APIRouter(prefix="/v1")

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Officer = Annotated[
    Principal,
    Depends(require_roles(Role.intake_officer, Role.investigator, Role.social_worker)),
]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(Role.intake_officer, Role.investigator, Role.social_worker, Role.supervisor)
    ),
]
IntakeOfficer = Annotated[Principal, Depends(require_roles(Role.intake_officer))]
DEFAULT_PURPOSE = "inter-province exchange"


def _actor(request: Request, principal: Principal | None) -> service.Actor:
    settings: InteragencySettings = request.app.state.settings
    return service.Actor(
        principal=principal,
        index=request.app.state.blind_index,
        settings=settings,
        now=service.now_utc(),
    )


# Partners (admin) ---------------------------------------------------------------------------------


@router.post("/partners", status_code=201, response_model=PartnerCreated, tags=["partners"])
async def register_partner(
    body: PartnerCreate,
    principal: Admin,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Register a partner province. Both secrets are in this response only: hand them over."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: partners.register_partner(session, actor, body),
        headers={"Cache-Control": "no-store"},
        replayable=False,  # both secrets are shown once: never stored, a replay is 409
    )


@router.get("/partners", response_model=Page[PartnerRead], tags=["partners"])
async def list_partners(
    principal: Admin, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> Page[PartnerRead]:
    """Partners, newest first; never their secrets."""
    rows = await repository.list_partners(session, after=time_keyset(cursor), limit=limit)
    return Page(
        items=[partners.partner_read(p) for p in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.get("/partners/{code}", response_model=PartnerRead, tags=["partners"])
async def get_partner(code: PartnerCode, principal: Admin, session: DbSession) -> PartnerRead:
    partner = await repository.get_partner(session, code)
    if partner is None:
        raise NotFound("no such partner")
    return partners.partner_read(partner)


@router.patch("/partners/{code}", response_model=PartnerRead, tags=["partners"])
async def update_partner(
    code: PartnerCode,
    body: PartnerUpdate,
    principal: Admin,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> PartnerRead:
    return await partners.update_partner(session, _actor(request, principal), code, body, if_match)


@router.post("/partners/{code}/rotate-secret", response_model=RotatedSecrets, tags=["partners"])
async def rotate_secret(
    code: PartnerCode,
    principal: Admin,
    request: Request,
    session: DbSession,
    body: RotateSecretIn | None = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """New secret(s), shown once; the old one stays valid for the overlap (24 h by default)."""
    actor = _actor(request, principal)
    direction = (body or RotateSecretIn()).direction
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: partners.rotate_secret(session, actor, code, direction, if_match),
        status=200,
        headers={"Cache-Control": "no-store"},
        replayable=False,  # the new secret is shown once: never stored, a replay is 409
    )


@router.post("/partners/{code}/revoke-secret", response_model=PartnerRead, tags=["partners"])
async def revoke_secret(
    code: PartnerCode,
    principal: Admin,
    request: Request,
    session: DbSession,
    body: RevokeSecretIn | None = None,
    if_match: IfMatch = None,
) -> PartnerRead:
    """End a rotation's overlap at once: the previous secret (inbound: the partner's old signing
    key; outbound: our old key, ``direction`` says which, both by default) stops being valid now
    instead of 24 h after the rotation. Idempotent and audited; 404 for an unknown partner."""
    direction = (body or RevokeSecretIn()).direction
    return await partners.revoke_previous_secret(
        session, _actor(request, principal), code, direction, if_match
    )


@router.post("/partners/{code}/disable", response_model=PartnerRead, tags=["partners"])
async def disable_partner(
    code: PartnerCode,
    principal: Admin,
    request: Request,
    session: DbSession,
    body: DisableIn | None = None,
    if_match: IfMatch = None,
) -> PartnerRead:
    """Pause deliveries to the partner and refuse its webhooks."""
    reason = (body or DisableIn()).reason
    return await partners.set_partner_status(
        session, _actor(request, principal), code, PartnerStatus.disabled, reason, if_match
    )


@router.post("/partners/{code}/enable", response_model=PartnerRead, tags=["partners"])
async def enable_partner(
    code: PartnerCode,
    principal: Admin,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> PartnerRead:
    """Resume deliveries (pending ones go out again) after the URL is checked once more."""
    return await partners.set_partner_status(
        session, _actor(request, principal), code, PartnerStatus.enabled, None, if_match
    )


# Inbound webhooks (partners, signed) --------------------------------------------------------------


async def _raw_body(request: Request, limit: int) -> bytes:
    """The exact bytes that were signed, refused past ``limit`` as they stream."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"an alert is at most {limit} bytes")
    size = 0
    chunks: list[bytes] = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"an alert is at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/inbound/{partner_code}",
    status_code=202,
    response_model=InboundAccepted,
    tags=["webhooks"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/cloudevents+json": {"schema": {"type": "object"}}},
        }
    },
)
async def receive_alert(
    partner_code: Annotated[str, Path(max_length=20)], request: Request, session: DbSession
) -> JSONResponse:
    """A partner's alert as a CloudEvent, signed per Standard Webhooks with its inbound secret
    (during a rotation the previous secret too, until it expires or is revoked).

    * 401 for a bad, missing, stale or other partner's signature and for an unknown or disabled
      partner code, after the same work and with the same problem for the same fault whether or
      not the code is a partner's: the answer does not say which codes are our partners.
    * 202 with ``alert_id`` and ``duplicate``; a repeated ``webhook-id`` is 202 again with no
      second effect. Whether the person matched one of our missing persons is never said.
    * 422 for data outside the allow-list of its ``alert_type``, 413 past the size limit.
    """
    settings: InteragencySettings = request.app.state.settings
    body = await _raw_body(request, settings.inbound_max_bytes)
    accepted = await inbound.receive(
        session, _actor(request, None), partner_code, request.headers, body
    )
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202)


# Alerts and bulletins (officers) ------------------------------------------------------------------


@router.post("/alerts", status_code=201, response_model=AlertCreated, tags=["alerts"])
async def send_alert(
    body: OutboundAlertIn,
    principal: Officer,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Send a ``suspect_alert`` (subscribed or named partners) or a ``victim_handover`` (the
    receiving province). Only the allow-listed fields of the type leave."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.send_alert(session, actor, body),
    )


@router.get("/alerts", response_model=Page[AlertSummary], tags=["alerts"])
async def list_alerts(
    principal: Reader,
    session: DbSession,
    direction: Direction | None = None,
    alert_type: AlertType | None = None,
    partner_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    subject_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AlertSummary]:
    """Alerts in and out, newest first, with delivery counts; no personal data in the list."""
    rows = await repository.list_alerts(
        session,
        conditions=[
            repository.alert_scope(principal),
            *repository.alert_filters(
                direction=direction.value if direction else None,
                alert_type=alert_type.value if alert_type else None,
                partner_code=partner_code,
                subject_id=subject_id,
            ),
        ],
        after=time_keyset(cursor),
        limit=limit,
    )
    counts = await repository.delivery_counts(session, [a.id for a in rows])
    return Page(
        items=[service.alert_summary(a, counts.get(a.id)) for a in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.get("/alerts/{alert_id}", response_model=AlertRead, tags=["alerts"])
async def get_alert(
    alert_id: UUID,
    principal: Reader,
    session: DbSession,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> AlertRead:
    """The alert's data, its deliveries and every attempt; the read is audited."""
    return await service.read_alert(session, principal, alert_id, purpose)


@router.post("/bulletins", status_code=201, response_model=AlertCreated, tags=["bulletins"])
async def send_bulletin(
    body: BulletinIn,
    principal: Officer,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A situation bulletin (figures, routes and methods, legal documents) to partners."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.send_bulletin(session, actor, body),
    )


@router.get("/bulletins", response_model=Page[BulletinRead], tags=["bulletins"])
async def list_bulletins(
    principal: Reader,
    session: DbSession,
    direction: Direction | None = None,
    partner_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[BulletinRead]:
    rows = await repository.list_alerts(
        session,
        conditions=repository.alert_filters(
            direction=direction.value if direction else None,
            alert_type=AlertType.situation_bulletin.value,
            partner_code=partner_code,
            subject_id=None,
        ),
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[service.bulletin_read(a) for a in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


# Deliveries (admin) -------------------------------------------------------------------------------


@router.get("/deliveries", response_model=Page[DeliveryOut], tags=["deliveries"])
async def list_deliveries(
    principal: Admin,
    session: DbSession,
    status: DeliveryStatus | None = None,
    partner_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryOut]:
    rows = await repository.list_deliveries(
        session,
        status=status.value if status else None,
        partner_code=partner_code,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[service.delivery_out(d) for d in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryOut, tags=["deliveries"])
async def replay_delivery(
    delivery_id: UUID, principal: Admin, request: Request, session: DbSession
) -> DeliveryOut:
    """Send a failed delivery again, with the same webhook-id and a fresh retry schedule."""
    return await service.replay_delivery(session, _actor(request, principal), delivery_id)


# Matches (intake officers) ------------------------------------------------------------------------


@router.get("/matches", response_model=Page[MatchRead], tags=["matches"])
async def list_matches(
    principal: IntakeOfficer,
    session: DbSession,
    missing_person_id: UUID | None = None,
    status: MatchStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MatchRead]:
    """Candidates for missing persons in your jurisdiction, newest first."""
    rows = await repository.list_matches(
        session,
        visible=jurisdiction_clause(
            principal, MissingPersonRef.last_seen_ward_code, MissingPersonRef.province_code
        ),
        missing_person_id=missing_person_id,
        status=status.value if status else None,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[inbound.match_read(m) for m in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )


@router.post("/matches/{match_id}/decision", response_model=MatchRead, tags=["matches"])
async def decide_match(
    match_id: UUID,
    body: DecisionIn,
    principal: IntakeOfficer,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> MatchRead:
    """``confirmed`` or ``rejected``, once (409 after); the outcome of the search itself is
    recorded on the missing-person report in intake."""
    return await inbound.decide(
        session, _actor(request, principal), match_id, body.decision, body.note, if_match
    )


# Figures ------------------------------------------------------------------------------------------


@router.get("/kpis", response_model=InteragencyKpis, tags=["figures"])
async def get_kpis(
    principal: Reader,
    session: DbSession,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
) -> InteragencyKpis:
    """Alerts sent and received, delivery success, matches found and confirmed."""
    return await kpis.interagency_kpis(session, period_from=from_, period_to=to)
