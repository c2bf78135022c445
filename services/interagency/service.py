"""Interagency use cases: outbound alerts and bulletins, reading alerts, replaying deliveries.

Each function works inside the caller's transaction and only ``flush()``es; the outbox event is
written in that same transaction. The partner registry is in ``partners.py``; inbound alerts and
matching are in ``inbound.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.crypto import BlindIndex
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.platform import platform_of
from libs.contracts.interagency import AlertSent
from services.interagency import domain, repository
from services.interagency.domain import (
    AlertType,
    DeliveryStatus,
    Direction,
    PartnerStatus,
)
from services.interagency.models import Alert, Delivery, DeliveryAttempt, Partner, metadata
from services.interagency.schemas import (
    AlertCreated,
    AlertRead,
    AlertSummary,
    AttemptOut,
    BulletinIn,
    BulletinRead,
    DeliveryOut,
    DeliveryRead,
    OutboundAlertIn,
    SituationBulletinData,
    VictimHandoverData,
)
from services.interagency.settings import InteragencySettings

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who acts (None for an event handler or a partner), with what keys and settings, when."""

    principal: Principal | None
    index: BlindIndex
    settings: InteragencySettings
    now: datetime

    @property
    def sub(self) -> str:
        return self.principal.sub if self.principal else "system"


# Outbound alerts ----------------------------------------------------------------------------------


async def queue_alert(
    session: AsyncSession,
    actor: Actor,
    alert_type: AlertType,
    data: dict[str, Any],
    partners: list[Partner],
    subject_id: UUID | None,
    owner: domain.Owner | None = None,
) -> Alert:
    """Store the alert (allow-listed) and one pending delivery per partner, due now.

    ``owner`` is the office it belongs to; when not given, a ``missing_person`` alert belongs to
    the area of the report it is about (where it was last seen), and any other type to the
    interagency desk. Only bulletins belong to no one.
    """
    if owner is None and alert_type is not AlertType.situation_bulletin:
        owner = await _report_owner(session, subject_id) or domain.Owner(
            ward_code=None, province_code=actor.settings.alert_desk_province
        )
    alert = Alert(
        id=new_id(),
        direction=Direction.outbound.value,
        alert_type=alert_type.value,
        partner_code=None,
        subject_id=subject_id,
        owner_ward_code=owner.ward_code if owner else None,
        owner_province_code=owner.province_code if owner else None,
        data=json.dumps(domain.allow_listed(alert_type, data), ensure_ascii=False),
        created_by=actor.sub,
        created_at=actor.now,
    )
    session.add(alert)
    await session.flush()
    for partner in partners:
        session.add(
            Delivery(
                id=new_id(),
                alert_id=alert.id,
                partner_code=partner.code,
                status=DeliveryStatus.pending.value,
                attempts=0,
                next_attempt_at=actor.now,
                replays=0,
                created_at=actor.now,
            )
        )
    await session.flush()
    await platform.outbox.add(
        session,
        "interagency.alert.sent",
        alert.id,
        AlertSent(
            alert_id=alert.id,
            alert_type=alert_type.value,
            partner_codes=[p.code for p in partners],
            subject_id=subject_id,
            sent_at=actor.now,
        ),
    )
    return alert


async def _report_owner(session: AsyncSession, subject_id: UUID | None) -> domain.Owner | None:
    """The area of our missing person ``subject_id``, if it is one."""
    if subject_id is None:
        return None
    ref = await repository.get_missing_person(session, subject_id)
    if ref is None:
        return None
    return domain.Owner(ward_code=ref.last_seen_ward_code, province_code=ref.province_code)


async def _recipients(
    session: AsyncSession, alert_type: AlertType, codes: list[str] | None
) -> list[Partner]:
    if codes is None:
        partners = list(await repository.subscribed_partners(session, alert_type.value))
        if not partners:
            reason = f"no enabled partner is subscribed to {alert_type.value}"
            raise Unprocessable(reason, errors=[{"field": "partner_codes", "message": reason}])
        return partners
    found = {p.code: p for p in await repository.partners_by_code(session, sorted(set(codes)))}
    problems = [
        {"field": "partner_codes", "message": f"{code}: no enabled partner with this code"}
        for code in sorted(set(codes))
        if code not in found or found[code].status != PartnerStatus.enabled.value
    ]
    if problems or not found:
        raise Unprocessable("some partners cannot receive alerts", errors=problems)
    return list(found.values())


async def send_alert(session: AsyncSession, actor: Actor, body: OutboundAlertIn) -> AlertCreated:
    """An officer's alert, owned by the officer's office: readable there, 404 elsewhere."""
    assert actor.principal is not None
    owner = domain.sender_owner(actor.principal.jurisdiction)
    if owner is None:
        raise Forbidden("your token names no jurisdiction to send alerts from")
    data = body.data
    alert_type = AlertType(data.alert_type)
    if isinstance(data, VictimHandoverData):
        home = data.receiving_province_code
        if body.partner_codes not in (None, [home]):
            raise Unprocessable(
                "a handover goes to the receiving province only",
                errors=[{"field": "partner_codes", "message": f"expected [{home!r}] or nothing"}],
            )
        partners = await _recipients(session, alert_type, [home])
    else:
        partners = await _recipients(session, alert_type, body.partner_codes)
    payload = {**data.fields_set(), "contact_agency": data.contact_agency or _contact(actor)}
    alert = await queue_alert(session, actor, alert_type, payload, partners, body.subject_id, owner)
    return AlertCreated(
        id=alert.id,
        alert_type=alert_type,
        partner_codes=[p.code for p in partners],
        created_at=alert.created_at,
    )


def _contact(actor: Actor) -> str:
    return actor.settings.contact_agency


async def send_bulletin(session: AsyncSession, actor: Actor, body: BulletinIn) -> AlertCreated:
    data = SituationBulletinData(
        title=body.title, summary=body.summary, period=body.period, documents=body.documents
    )
    partners = await _recipients(session, AlertType.situation_bulletin, body.partner_codes)
    alert = await queue_alert(
        session, actor, AlertType.situation_bulletin, data.fields_set(), partners, None
    )
    return AlertCreated(
        id=alert.id,
        alert_type=AlertType.situation_bulletin,
        partner_codes=[p.code for p in partners],
        created_at=alert.created_at,
    )


def bulletin_read(alert: Alert) -> BulletinRead:
    data = SituationBulletinData.model_validate(json.loads(alert.data))
    return BulletinRead(
        id=alert.id,
        direction=Direction(alert.direction),
        partner_code=alert.partner_code,
        title=data.title,
        summary=data.summary,
        period=data.period,
        documents=data.documents,
        created_at=alert.created_at,
    )


# Reading alerts and deliveries --------------------------------------------------------------------


def alert_summary(alert: Alert, counts: dict[str, int] | None = None) -> AlertSummary:
    return AlertSummary(
        id=alert.id,
        direction=Direction(alert.direction),
        alert_type=AlertType(alert.alert_type),
        partner_code=alert.partner_code,
        subject_id=alert.subject_id,
        created_at=alert.created_at,
        delivery_counts=counts or {},
    )


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        alert_id=delivery.alert_id,
        partner_code=delivery.partner_code,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at
        if delivery.status == DeliveryStatus.pending.value
        else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        replays=delivery.replays,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        failed_at=delivery.failed_at,
    )


def _attempt(attempt: DeliveryAttempt) -> AttemptOut:
    return AttemptOut(
        attempted_at=attempt.attempted_at,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
        outcome=attempt.outcome,
    )


async def read_alert(
    session: AsyncSession, principal: Principal, alert_id: UUID, purpose: str
) -> AlertRead:
    alert = await repository.get_alert(session, alert_id)
    if alert is None or not await repository.alert_visible(session, principal, alert_id):
        raise NotFound("no such alert")
    deliveries = await repository.deliveries_of(session, alert.id)
    attempts = await repository.attempts_of(session, [d.id for d in deliveries])
    data: dict[str, Any] = json.loads(alert.data)
    full_view = principal.has_role(Role.intake_officer, Role.investigator, Role.social_worker)
    if not full_view:
        data = domain.redact_for_supervisor(data)
    if alert.alert_type != AlertType.situation_bulletin.value:
        await platform.audit.record(
            session,
            actor=principal,
            action="read",
            record_type="alert",
            record_id=str(alert.id),
            purpose=purpose,
            details={"view": "full" if full_view else "names_only"},
        )
    counts: dict[str, int] = {}
    for d in deliveries:
        counts[d.status] = counts.get(d.status, 0) + 1
    return AlertRead(
        **alert_summary(alert, counts).model_dump(),
        data=data,
        event_id=alert.event_id,
        deliveries=[
            DeliveryRead(
                **delivery_out(d).model_dump(),
                attempt_log=[_attempt(a) for a in attempts.get(d.id, [])],
            )
            for d in deliveries
        ],
    )


async def replay_delivery(session: AsyncSession, actor: Actor, delivery_id: UUID) -> DeliveryOut:
    """A failed delivery goes back in the queue, due now, with a fresh retry schedule; the
    ``webhook-id`` stays the same, so a partner that did get it after all can drop it."""
    delivery = await repository.get_delivery(session, delivery_id, for_update=True)
    if delivery is None:
        raise NotFound("no such delivery")
    if delivery.status != DeliveryStatus.failed.value:
        raise Conflict(f"only failed deliveries are replayed; this one is {delivery.status}")
    partner = await repository.get_partner(session, delivery.partner_code)
    if partner is None or partner.status != PartnerStatus.enabled.value:
        raise Conflict(f"partner {delivery.partner_code} is disabled; enable it first")
    delivery.status = DeliveryStatus.pending.value
    delivery.attempts = 0
    delivery.next_attempt_at = actor.now
    delivery.failed_at = None
    delivery.replays += 1
    await session.flush()
    await platform.audit.record(
        session,
        actor=actor.principal or actor.sub,
        action="delivery.replay",
        record_type="delivery",
        record_id=str(delivery.id),
        purpose="delivery recovery",
        details={"partner_code": delivery.partner_code},
    )
    return delivery_out(delivery)
