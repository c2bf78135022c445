"""Partners' signed alerts: verified against *that* partner's inbound secret (the previous one too
during a rotation), deduplicated by ``webhook-id``, validated against the allow-list, stored."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from libs.common.errors import Unauthorized, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import is_province_code
from libs.common.validation import broken_json, field_errors
from libs.common.webhooks import WebhookVerificationError, generate_secret, verify
from libs.contracts.interagency import AlertReceived
from services.interagency import domain, repository
from services.interagency.access import Ctx
from services.interagency.alert_data import InboundEvent, VictimHandoverData
from services.interagency.domain import AlertType, Direction, KeySet, PartnerStatus
from services.interagency.models import Alert, Partner
from services.interagency.schemas import InboundAccepted

# Keys nobody holds, for an unknown or disabled partner: the same work, so no code is revealed.
_DUMMY_KEYS = (generate_secret(), generate_secret())
# Every request is checked against this many keys, padded with dummies.
_KEYS_VERIFIED = 2


def _keys_to_verify(partner: Partner | None, now: datetime) -> list[str]:
    """The partner's valid inbound secrets (none if unknown or disabled), padded with dummies."""
    keys: list[str] = []
    if partner is not None and partner.status == PartnerStatus.enabled.value:
        keyset = KeySet(
            partner.inbound_secret, partner.inbound_previous, partner.inbound_previous_until
        )
        keys = keyset.keys(now)
    return keys + list(_DUMMY_KEYS[: _KEYS_VERIFIED - len(keys)])


async def receive(
    ctx: Ctx, partner_code: str, headers: Mapping[str, str], body: bytes
) -> InboundAccepted:
    """Verify, deduplicate, validate and store; matching follows from our own
    ``interagency.alert.received`` event, so the answer never tells whether the person matched."""
    session, now = ctx.session, ctx.now
    # Not a province code: no lookup (no odd bytes in SQL), the same 401 all the same.
    partner = (
        await repository.get_partner(session, partner_code)
        if is_province_code(partner_code)
        else None
    )
    try:
        verified = verify(
            _keys_to_verify(partner, now),
            headers,
            body,
            now=now,
            tolerance_seconds=ctx.settings.webhook_tolerance_seconds,
        )
    except WebhookVerificationError as exc:
        # The reason helps a partner fix its sender, and is the same for any code.
        raise Unauthorized(f"invalid webhook signature: {exc}") from exc
    if partner is None or partner.status != PartnerStatus.enabled.value:  # unreachable in practice
        raise Unauthorized("invalid webhook signature: no matching signature")
    seen = await repository.get_receipt(session, partner.code, verified.msg_id)
    if seen is not None:
        return InboundAccepted(alert_id=seen.alert_id)
    try:
        event = InboundEvent.model_validate(json.loads(body))
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            raise Unprocessable(
                "the alert is not valid", errors=field_errors(exc.errors())
            ) from exc
        where = (
            broken_json(exc.pos, exc.doc)
            if isinstance(exc, json.JSONDecodeError)
            else {"field": "body", "message": "not a JSON document", "code": "body.json_invalid"}
        )
        raise Unprocessable("the body is not JSON", errors=[where]) from exc
    if event.source != domain.partner_source(partner.code):
        raise Unprocessable(
            "the CloudEvent source does not name the signing partner",
            errors=[
                {
                    "field": "source",
                    "message": f"expected {domain.partner_source(partner.code)}",
                    "code": "source.not_the_signer",
                }
            ],
        )
    alert_id = new_id()
    if not await repository.record_receipt(session, partner.code, verified.msg_id, alert_id, now):
        seen = await repository.get_receipt(session, partner.code, verified.msg_id)
        assert seen is not None
        return InboundAccepted(alert_id=seen.alert_id)
    data = event.data
    alert_type = AlertType(data.alert_type)
    fields = data.fields_set()
    owner = domain.inbound_owner(alert_type, fields, ctx.settings.alert_desk_province)
    alert = Alert(
        id=alert_id,
        direction=Direction.inbound.value,
        alert_type=alert_type.value,
        partner_code=partner.code,
        subject_id=None,  # our missing person, once matched
        event_id=event.id,
        owner_ward_code=owner.ward_code if owner else None,
        owner_province_code=owner.province_code if owner else None,
        data=json.dumps(fields, ensure_ascii=False),
        created_by=f"partner:{partner.code}",
        created_at=now,
    )
    session.add(alert)
    await session.flush()
    await ctx.emit("interagency.alert.received", alert.id, _received(alert, data))
    return InboundAccepted(alert_id=alert.id)


def _received(alert: Alert, data: Any) -> AlertReceived:
    """Person fields only for a handover: victim_support receives that person."""
    base: dict[str, Any] = {
        "alert_id": alert.id,
        "partner_code": alert.partner_code,
        "alert_type": alert.alert_type,
        "received_at": alert.created_at,
    }
    if isinstance(data, VictimHandoverData):
        base.update(data.model_dump(exclude={"alert_type"}, exclude_none=True))
    return AlertReceived.model_validate(base)
