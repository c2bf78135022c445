"""The partner registry: registration with secrets shown once, URL checks, updates, secret
rotation with an overlap (and its revocation at once), disabling and enabling. Every change is
audited."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.observability import PARTNERS_DISABLED
from libs.common.webhooks import generate_secret
from services.interagency import delivery_repository, domain, repository
from services.interagency.access import Ctx
from services.interagency.circuit import GAUGE_VALUE, Circuit, CircuitState
from services.interagency.domain import KeySet, PartnerStatus, SecretDirection
from services.interagency.egress import UnsafeUrl, check_url
from services.interagency.models import Partner
from services.interagency.schemas import (
    PartnerCreate,
    PartnerCreated,
    PartnerRead,
    PartnerUpdate,
    RotatedSecrets,
)
from services.interagency.settings import InteragencySettings


async def checked_url(url: str, settings: InteragencySettings) -> str:
    """422 unless ``url`` may receive webhooks (resolved off the event loop)."""
    try:
        await asyncio.to_thread(check_url, url, production=settings.is_production)
    except UnsafeUrl as exc:
        raise Unprocessable(
            "the webhook URL is not allowed",
            errors=[{"field": "webhook_url", "message": str(exc)}],
        ) from exc
    return url


async def list_partners(
    ctx: Ctx, after: tuple[datetime, UUID] | None, limit: int
) -> list[PartnerRead]:
    rows = await repository.list_partners(ctx.session, after=after, limit=limit)
    return [PartnerRead.model_validate(p) for p in rows]


async def get_partner(ctx: Ctx, code: str) -> PartnerRead:
    partner = await repository.get_partner(ctx.session, code)
    if partner is None:
        raise NotFound("no such partner")
    return PartnerRead.model_validate(partner)


async def register_partner(ctx: Ctx, data: PartnerCreate) -> PartnerCreated:
    if await repository.get_partner(ctx.session, data.code) is not None:
        raise Conflict(f"partner {data.code} is already registered; rotate or update it instead")
    url = await checked_url(data.webhook_url, ctx.settings)
    types = (
        data.alert_types
        if data.alert_types is not None
        else domain.default_alert_types(data.border_countries)
    )
    outbound, inbound = generate_secret(), generate_secret()
    partner = Partner(
        id=new_id(),
        code=data.code,
        name=data.name,
        webhook_url=url,
        alert_types=sorted({t.value for t in types}),
        border_countries=sorted({c.value for c in data.border_countries}),
        status=PartnerStatus.enabled.value,
        outbound_secret=outbound,
        inbound_secret=inbound,
        created_by=ctx.sub,
        created_at=ctx.now,
        updated_at=ctx.now,
        version=1,
    )
    ctx.session.add(partner)
    await ctx.session.flush()
    await _audit(ctx, "partner.register", partner.code, {"url": url})
    read = PartnerRead.model_validate(partner).model_dump()
    return PartnerCreated(**read, outbound_secret=outbound, inbound_secret=inbound)


async def partner_for_change(ctx: Ctx, code: str, if_match: str | None) -> Partner:
    partner = await repository.get_partner(ctx.session, code, for_update=True)
    if partner is None:
        raise NotFound("no such partner")
    check_if_match(if_match, partner.version)
    return partner


async def update_partner(
    ctx: Ctx, code: str, data: PartnerUpdate, if_match: str | None
) -> PartnerRead:
    partner = await partner_for_change(ctx, code, if_match)
    if data.webhook_url is not None:
        partner.webhook_url = await checked_url(data.webhook_url, ctx.settings)
    if data.name is not None:
        partner.name = data.name
    if data.alert_types is not None:
        partner.alert_types = sorted({t.value for t in data.alert_types})
    if data.border_countries is not None:
        partner.border_countries = sorted({c.value for c in data.border_countries})
    partner.updated_at = ctx.now
    partner.version += 1
    await ctx.session.flush()
    changed = sorted(data.model_dump(exclude_none=True))
    await _audit(ctx, "partner.update", code, {"fields": changed})
    return PartnerRead.model_validate(partner)


async def rotate_secret(
    ctx: Ctx,
    code: str,
    direction: SecretDirection,
    if_match: str | None,
) -> RotatedSecrets:
    """New secret(s); the old one keeps signing (outbound, next to the new one) or verifying
    (inbound) for the overlap, so the partner can switch at its own pace."""
    partner = await partner_for_change(ctx, code, if_match)
    overlap = timedelta(hours=ctx.settings.secret_overlap_hours)
    new_outbound = new_inbound = None
    if direction in (SecretDirection.outbound, SecretDirection.both):
        new_outbound = generate_secret()
        ring = KeySet(partner.outbound_secret).rotate(new_outbound, ctx.now, overlap)
        partner.outbound_secret = ring.current
        partner.outbound_previous = ring.previous
        partner.outbound_previous_until = ring.previous_valid_until
    if direction in (SecretDirection.inbound, SecretDirection.both):
        new_inbound = generate_secret()
        ring = KeySet(partner.inbound_secret).rotate(new_inbound, ctx.now, overlap)
        partner.inbound_secret = ring.current
        partner.inbound_previous = ring.previous
        partner.inbound_previous_until = ring.previous_valid_until
    partner.updated_at = ctx.now
    partner.version += 1
    await ctx.session.flush()
    await _audit(ctx, "partner.rotate_secret", code, {"direction": direction.value})
    return RotatedSecrets(
        code=code,
        outbound_secret=new_outbound,
        inbound_secret=new_inbound,
        previous_valid_until=ctx.now + overlap,
        version=partner.version,
    )


async def revoke_previous_secret(
    ctx: Ctx,
    code: str,
    direction: SecretDirection,
    if_match: str | None,
) -> PartnerRead:
    """End the rotation overlap now: the previous inbound secret stops verifying (a leaked or
    compromised one must not keep working for a day) and the previous outbound one stops
    signing. Idempotent: with nothing left to revoke the partner is unchanged (same version);
    every call is audited, as an administrator's reaction to a suspected leak."""
    partner = await partner_for_change(ctx, code, if_match)
    revoked: list[str] = []
    if direction in (SecretDirection.outbound, SecretDirection.both) and (
        partner.outbound_previous is not None or partner.outbound_previous_until is not None
    ):
        partner.outbound_previous = partner.outbound_previous_until = None
        revoked.append(SecretDirection.outbound.value)
    if direction in (SecretDirection.inbound, SecretDirection.both) and (
        partner.inbound_previous is not None or partner.inbound_previous_until is not None
    ):
        partner.inbound_previous = partner.inbound_previous_until = None
        revoked.append(SecretDirection.inbound.value)
    if revoked:
        partner.updated_at = ctx.now
        partner.version += 1
        await ctx.session.flush()
    await _audit(
        ctx,
        "partner.revoke_secret",
        code,
        {"direction": direction.value, "revoked": revoked},
    )
    return PartnerRead.model_validate(partner)


async def set_partner_status(
    ctx: Ctx,
    code: str,
    status: PartnerStatus,
    reason: str | None,
    if_match: str | None,
) -> PartnerRead:
    """Disabling pauses deliveries (they stay pending) and refuses the partner's webhooks."""
    partner = await partner_for_change(ctx, code, if_match)
    if status is PartnerStatus.disabled:
        await disable(ctx, partner, reason)
        return PartnerRead.model_validate(partner)
    if partner.status != status.value:
        await checked_url(partner.webhook_url, ctx.settings)
    partner.status = status.value
    partner.disabled_reason = partner.disabled_at = None
    partner.updated_at = ctx.now
    partner.version += 1
    await ctx.session.flush()
    await _audit(ctx, "partner.enabled", code, {"reason": reason})
    return PartnerRead.model_validate(partner)


async def disable(ctx: Ctx, partner: Partner, reason: str | None) -> None:
    """Deliveries pause and webhooks are refused; audited, by an administrator or the sender."""
    partner.status = PartnerStatus.disabled.value
    partner.disabled_reason = reason
    partner.disabled_at = ctx.now
    partner.updated_at = ctx.now
    partner.version += 1
    await ctx.session.flush()
    await _audit(ctx, "partner.disabled", partner.code, {"reason": reason})
    why = "admin" if ctx.principal is not None else "gone"  # the sender acts on a 410
    PARTNERS_DISABLED.labels(ctx.settings.service_name, partner.code, why).inc()


def circuit_of(partner: Partner) -> Circuit:
    """The partner's breaker as stored in its row."""
    return Circuit(
        CircuitState(partner.circuit),
        partner.circuit_failures,
        partner.circuit_open_until,
        partner.circuit_open_seconds,
    )


async def circuit_gauge(ctx: Ctx) -> dict[str, float]:
    """``ctip_partner_circuit`` per enabled partner: 0 closed, 1 half-open, 2 open."""
    circuits = await delivery_repository.circuits(ctx.session)
    return {code: GAUGE_VALUE[c.state_at(ctx.now)] for code, c in circuits.items()}


async def _audit(ctx: Ctx, action: str, code: str, details: dict[str, Any]) -> None:
    await ctx.record(action, "partner", code, "partner registry", details)
