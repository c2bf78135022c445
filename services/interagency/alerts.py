"""Outbound alerts and bulletins, reading alerts and deliveries, replaying a failed delivery.

Each function works inside the caller's transaction and only ``flush()``es; the outbox event is
written in that same transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.contracts.interagency import AlertSent
from services.interagency import delivery_repository, domain, match_repository, repository
from services.interagency.access import Ctx, alert_view
from services.interagency.alert_data import SituationBulletinData, VictimHandoverData
from services.interagency.domain import AlertType, DeliveryStatus, Direction, PartnerStatus
from services.interagency.models import Alert, Partner
from services.interagency.schemas import (
    AlertCreated,
    AlertRead,
    AlertSummary,
    AttemptOut,
    BulkReplayIn,
    BulkReplayOut,
    BulletinIn,
    BulletinRead,
    DeliveryOut,
    DeliveryRead,
    OutboundAlertIn,
)

# Outbound alerts ----------------------------------------------------------------------------------


async def queue_alert(
    ctx: Ctx,
    alert_type: AlertType,
    data: dict[str, Any],
    partners: list[Partner],
    subject_id: UUID | None,
    owner: domain.Owner | None = None,
) -> Alert:
    """Store the alert (allow-listed) and one pending delivery per partner, due now. Without an
    ``owner``, a ``missing_person`` alert belongs to its report's area, another to the desk."""
    session = ctx.session
    if owner is None and alert_type is not AlertType.situation_bulletin:
        owner = await _report_owner(ctx, subject_id) or domain.Owner(
            ward_code=None, province_code=ctx.settings.alert_desk_province
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
        created_by=ctx.sub,
        created_at=ctx.now,
    )
    session.add(alert)
    await session.flush()
    await delivery_repository.add_deliveries(
        session,
        [
            {
                "id": new_id(),
                "alert_id": alert.id,
                "partner_code": partner.code,
                "status": DeliveryStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": ctx.now,
                "replays": 0,
                "created_at": ctx.now,
            }
            for partner in partners
        ],
    )
    await ctx.emit(
        "interagency.alert.sent",
        alert.id,
        AlertSent(
            alert_id=alert.id,
            alert_type=alert_type.value,
            partner_codes=[p.code for p in partners],
            subject_id=subject_id,
            sent_at=ctx.now,
        ),
    )
    return alert


async def _report_owner(ctx: Ctx, subject_id: UUID | None) -> domain.Owner | None:
    """The area of our missing person ``subject_id``, if it is one."""
    if subject_id is None:
        return None
    ref = await match_repository.get_missing_person(ctx.session, subject_id)
    if ref is None:
        return None
    return domain.Owner(ward_code=ref.last_seen_ward_code, province_code=ref.province_code)


async def _recipients(ctx: Ctx, alert_type: AlertType, codes: list[str] | None) -> list[Partner]:
    if codes is None:
        partners = list(await repository.subscribed_partners(ctx.session, alert_type.value))
        if not partners:
            reason = f"no enabled partner is subscribed to {alert_type.value}"
            raise Unprocessable(reason, errors=[{"field": "partner_codes", "message": reason}])
        return partners
    found = {p.code: p for p in await repository.partners_by_code(ctx.session, sorted(set(codes)))}
    problems = [
        {"field": "partner_codes", "message": f"{code}: no enabled partner with this code"}
        for code in sorted(set(codes))
        if code not in found or found[code].status != PartnerStatus.enabled.value
    ]
    if problems or not found:
        raise Unprocessable("some partners cannot receive alerts", errors=problems)
    return list(found.values())


async def send_alert(ctx: Ctx, body: OutboundAlertIn) -> AlertCreated:
    """An officer's alert, owned by the officer's office: readable there, 404 elsewhere."""
    owner = domain.sender_owner(ctx.require_principal().jurisdiction)
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
        partners = await _recipients(ctx, alert_type, [home])
    else:
        partners = await _recipients(ctx, alert_type, body.partner_codes)
    contact = data.contact_agency or ctx.settings.contact_agency
    payload = {**data.fields_set(), "contact_agency": contact}
    alert = await queue_alert(ctx, alert_type, payload, partners, body.subject_id, owner)
    return _created(alert, partners)


async def send_bulletin(ctx: Ctx, body: BulletinIn) -> AlertCreated:
    data = SituationBulletinData(
        title=body.title, summary=body.summary, period=body.period, documents=body.documents
    )
    partners = await _recipients(ctx, AlertType.situation_bulletin, body.partner_codes)
    alert = await queue_alert(ctx, AlertType.situation_bulletin, data.fields_set(), partners, None)
    return _created(alert, partners)


def _created(alert: Alert, partners: list[Partner]) -> AlertCreated:
    return AlertCreated(
        id=alert.id,
        alert_type=AlertType(alert.alert_type),
        partner_codes=[p.code for p in partners],
        created_at=alert.created_at,
    )


# Reading alerts and deliveries --------------------------------------------------------------------


async def list_alerts(
    ctx: Ctx,
    *,
    direction: Direction | None,
    alert_type: AlertType | None,
    partner_code: str | None,
    subject_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[AlertSummary]:
    """Alerts this reader may see, newest first, with delivery counts and no personal data."""
    rows = await repository.list_alerts(
        ctx.session,
        conditions=[
            repository.alert_scope(ctx.require_principal()),
            *repository.alert_filters(
                direction=direction.value if direction else None,
                alert_type=alert_type.value if alert_type else None,
                partner_code=partner_code,
                subject_id=subject_id,
            ),
        ],
        after=after,
        limit=limit,
    )
    counts = await repository.delivery_counts(ctx.session, [a.id for a in rows])
    return [alert_summary(a, counts.get(a.id)) for a in rows]


async def list_bulletins(
    ctx: Ctx,
    *,
    direction: Direction | None,
    partner_code: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[BulletinRead]:
    rows = await repository.list_alerts(
        ctx.session,
        conditions=repository.alert_filters(
            direction=direction.value if direction else None,
            alert_type=AlertType.situation_bulletin.value,
            partner_code=partner_code,
            subject_id=None,
        ),
        after=after,
        limit=limit,
    )
    return [bulletin_read(a) for a in rows]


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


def alert_summary(alert: Alert, counts: dict[str, int] | None = None) -> AlertSummary:
    return AlertSummary.model_validate(alert).model_copy(update={"delivery_counts": counts or {}})


async def read_alert(ctx: Ctx, alert_id: UUID, purpose: str) -> AlertRead:
    """The alert's data (as this reader may see it), its deliveries and attempts; audited."""
    principal = ctx.require_principal()
    alert = await repository.visible_alert(ctx.session, principal, alert_id)
    if alert is None:
        raise NotFound("no such alert")
    deliveries = await repository.deliveries_of(ctx.session, alert.id)
    attempts = await repository.attempts_of(ctx.session, [d.id for d in deliveries])
    data, full_view = alert_view(principal, json.loads(alert.data))
    if alert.alert_type != AlertType.situation_bulletin.value:
        view = {"view": "full" if full_view else "names_only"}
        await ctx.record("read", "alert", alert.id, purpose, view)
    counts: dict[str, int] = {}
    for d in deliveries:
        counts[d.status] = counts.get(d.status, 0) + 1
    return AlertRead(
        **alert_summary(alert, counts).model_dump(),
        data=data,
        event_id=alert.event_id,
        deliveries=[
            DeliveryRead(
                **DeliveryOut.model_validate(d).model_dump(),
                attempt_log=[AttemptOut.model_validate(a) for a in attempts.get(d.id, [])],
            )
            for d in deliveries
        ],
    )


async def list_deliveries(
    ctx: Ctx,
    *,
    status: DeliveryStatus | None,
    partner_code: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[DeliveryOut]:
    rows = await repository.list_deliveries(
        ctx.session,
        status=status.value if status else None,
        partner_code=partner_code,
        after=after,
        limit=limit,
    )
    return [DeliveryOut.model_validate(d) for d in rows]


async def replay_delivery(ctx: Ctx, delivery_id: UUID) -> DeliveryOut:
    """A failed delivery is due again now, with a fresh schedule and the same ``webhook-id`` (a
    partner that got it after all can drop it)."""
    delivery = await repository.get_delivery(ctx.session, delivery_id, for_update=True)
    if delivery is None:
        raise NotFound("no such delivery")
    if delivery.status != DeliveryStatus.failed.value:
        raise Conflict(f"only failed deliveries are replayed; this one is {delivery.status}")
    partner = await repository.get_partner(ctx.session, delivery.partner_code)
    if partner is None or partner.status != PartnerStatus.enabled.value:
        raise Conflict(f"partner {delivery.partner_code} is disabled; enable it first")
    delivery.status = DeliveryStatus.pending.value
    delivery.attempts = 0
    delivery.next_attempt_at = ctx.now
    delivery.failed_at = None
    delivery.replays += 1
    await ctx.session.flush()
    await ctx.record(
        "delivery.replay",
        "delivery",
        delivery.id,
        "delivery recovery",
        {"partner_code": delivery.partner_code},
    )
    return DeliveryOut.model_validate(delivery)


async def replay_failed(ctx: Ctx, filters: BulkReplayIn) -> BulkReplayOut:
    """Failed deliveries matching ``filters`` due again now, each with a fresh schedule and its
    own ``webhook-id``, in one statement; those of disabled partners stay failed and are
    counted. Replaying again finds only what failed since: nothing is sent twice by it."""
    where = filters.model_dump(include={"partner_code", "failed_from", "failed_to"})
    where["alert_type"] = filters.alert_type.value if filters.alert_type else None
    ids, left, more = await delivery_repository.requeue_failed(
        ctx.session, now=ctx.now, limit=filters.limit, **where
    )
    await ctx.record(
        "delivery.replay_bulk",
        "delivery",
        filters.partner_code or "*",
        "delivery recovery",
        {
            "filters": filters.model_dump(mode="json", exclude_none=True),
            "requeued": len(ids),
            "ids": [str(i) for i in ids],
            "left_at_disabled_partners": left,
        },
    )
    return BulkReplayOut(
        requeued=len(ids), ids=ids, left_at_disabled_partners=left, more_may_match=more
    )
