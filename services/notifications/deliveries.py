"""The channels' use cases: planning each notification's e-mail and webhook deliveries from the
recipient's preferences, recording an attempt's outcome, and what administrators do (see the
failed, replay one, set a province's gateway).

Planning is exactly once per notification: the worker takes the notifications left to plan
(``FOR UPDATE SKIP LOCKED``), plans them and marks them planned in one transaction. An e-mail
joins the person's message of its digest window (``channel_rules.email_slot``); a webhook is
one request per notification to the gateway of the record's province. Nothing leaves inside the
person's quiet hours: it is planned for their end, and checked again when it is sent.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from libs.common.errors import Conflict, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import is_province_code
from libs.common.webhooks import generate_secret
from services.notifications import delivery_repository as repository
from services.notifications.access import Ctx
from services.notifications.channel_rules import (
    DeliveryChannel,
    DeliveryStatus,
    Outcome,
    QuietHours,
    email_slot,
    quiet_hours,
    release_at,
)
from services.notifications.delivery_schemas import DeliveryOut, EndpointIn, EndpointOut
from services.notifications.domain import DEFAULT_CHANNELS, Channel
from services.notifications.models import ChannelEndpoint, Delivery, Notification, Preference
from services.notifications.webhook_channel import UnsafeEndpoint, check_endpoint

log = logging.getLogger("ctip.notifications.deliveries")


def channels_of(preference: Preference | None) -> set[str]:
    return set(preference.channels) if preference is not None else set(DEFAULT_CHANNELS)


async def plan(ctx: Ctx, batch: int) -> int:
    """Plan the deliveries of up to ``batch`` notifications; how many were planned."""
    rows = await repository.unplanned(ctx.session, batch)
    if not rows:
        return 0
    subs = sorted({n.recipient for n in rows})
    preferences = await repository.preferences_of(ctx.session, subs)
    provinces = sorted({n.province_code for n in rows if n.province_code})
    gateways = await repository.endpoint_provinces(ctx.session, provinces)
    reachable: dict[str, bool] = {}
    for notification in rows:
        preference = preferences.get(notification.recipient)
        wanted = channels_of(preference)
        quiet = quiet_of(preference)
        if Channel.email.value in wanted and ctx.settings.email_enabled:
            sub = notification.recipient
            if sub not in reachable:
                person = await ctx.settings.directory.person(sub)
                reachable[sub] = person is not None and bool(person.email)
            if reachable[sub]:
                await _plan_email(ctx, notification, quiet)
        if Channel.webhook.value in wanted and notification.province_code in gateways:
            ctx.session.add(
                Delivery(
                    id=new_id(),
                    channel=Channel.webhook.value,
                    kind="notices",
                    recipient=notification.recipient,
                    notification_ids=[notification.id],
                    province_code=notification.province_code,
                    status=DeliveryStatus.pending.value,
                    attempts=0,
                    replays=0,
                    next_attempt_at=release_at(ctx.now, quiet),
                    created_at=ctx.now,
                )
            )
    await ctx.session.flush()
    await repository.mark_planned(ctx.session, [n.id for n in rows])
    return len(rows)


def quiet_of(preference: Preference | None) -> QuietHours | None:
    if preference is None:
        return None
    return quiet_hours(preference.quiet_start, preference.quiet_end)


async def _plan_email(ctx: Ctx, notification: Notification, quiet: QuietHours | None) -> None:
    slot = email_slot(notification.recipient, ctx.now, ctx.settings.email_window_seconds, quiet)
    if slot.key is not None and await repository.join_window(
        ctx.session,
        key=slot.key,
        recipient=notification.recipient,
        notification_id=notification.id,
        send_at=slot.send_at,
        now=ctx.now,
    ):
        return
    # No window, or its message already left (a worker's clock ahead of ours): a message alone.
    ctx.session.add(
        Delivery(
            id=new_id(),
            channel=Channel.email.value,
            kind="notices",
            recipient=notification.recipient,
            notification_ids=[notification.id],
            status=DeliveryStatus.pending.value,
            attempts=0,
            replays=0,
            next_attempt_at=slot.send_at,
            created_at=ctx.now,
        )
    )


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to: the outcome, the receiver's code and why it failed."""

    outcome: Outcome
    code: int | None = None
    error: str | None = None
    retry_after: float | None = None


async def record(
    ctx: Ctx, delivery_id: UUID, attempt: Attempt, rng: random.Random | None = None
) -> Delivery | None:
    """Store an attempt: sent, kept as failed (permanent refusal, schedule used up, endpoint
    gone) or due again after the schedule's next wait. None when the delivery is no longer
    pending (an administrator's action, or another worker, came first)."""
    delivery = await repository.get_delivery(ctx.session, delivery_id, for_update=True)
    if delivery is None or delivery.status != DeliveryStatus.pending.value:
        return None
    delivery.attempts += 1
    delivery.last_code = attempt.code
    delivery.last_error = attempt.error
    if attempt.outcome is Outcome.sent:
        delivery.status = DeliveryStatus.sent.value
        delivery.sent_at = ctx.now
        return delivery
    delay = None
    if attempt.outcome is Outcome.retry:
        delay = ctx.settings.retry_policy().next_delay(
            delivery.attempts, retry_after=attempt.retry_after, rng=rng
        )
    if delay is None:
        delivery.status = DeliveryStatus.failed.value
        delivery.failed_at = ctx.now
        log.warning(
            "%s delivery %s failed after %d attempts: %s",
            delivery.channel,
            delivery.id,
            delivery.attempts,
            attempt.error,
        )
    else:
        delivery.next_attempt_at = ctx.now + timedelta(seconds=delay)
    if attempt.outcome is Outcome.gone:
        await _disable_gateway(ctx, delivery.province_code)
    return delivery


async def hold_until(ctx: Ctx, delivery_id: UUID, moment: datetime) -> None:
    """Put a taken delivery back, due at ``moment`` (the end of its recipient's quiet hours),
    without counting an attempt."""
    delivery = await repository.get_delivery(ctx.session, delivery_id, for_update=True)
    if delivery is not None and delivery.status == DeliveryStatus.pending.value:
        delivery.next_attempt_at = moment


async def _disable_gateway(ctx: Ctx, province_code: str | None) -> None:
    endpoint = await repository.get_endpoint(ctx.session, province_code, for_update=True)
    if endpoint is None or not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = "the endpoint answered 410 Gone"
    endpoint.updated_at = ctx.now
    await ctx.record(
        "endpoint.disabled",
        "notification_endpoint",
        endpoint.province_code,
        "notification delivery",
        {"reason": endpoint.disabled_reason},
    )
    log.warning("the gateway of province %s answered 410: disabled", endpoint.province_code)


# Administration ----------------------------------------------------------------------------------


async def list_deliveries(
    ctx: Ctx,
    *,
    status: DeliveryStatus | None,
    channel: DeliveryChannel | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[DeliveryOut]:
    rows = await repository.list_deliveries(
        ctx.session,
        status=status.value if status else None,
        channel=channel.value if channel else None,
        after=after,
        limit=limit,
    )
    return [DeliveryOut.model_validate(d) for d in rows]


async def replay(ctx: Ctx, delivery_id: UUID) -> DeliveryOut:
    """A failed delivery is due again now with a fresh schedule: the same message, under the
    same Message-ID or webhook-id, so a receiver that got it after all can tell."""
    delivery = await repository.get_delivery(ctx.session, delivery_id, for_update=True)
    if delivery is None:
        raise NotFound("no such delivery")
    if delivery.status != DeliveryStatus.failed.value:
        raise Conflict(f"only failed deliveries are replayed; this one is {delivery.status}")
    if delivery.channel == Channel.webhook.value:
        endpoint = await repository.get_endpoint(ctx.session, delivery.province_code)
        if endpoint is None or not endpoint.enabled:
            raise Conflict(
                f"the gateway of province {delivery.province_code} is disabled; set it first"
            )
    delivery.status = DeliveryStatus.pending.value
    delivery.attempts = 0
    delivery.next_attempt_at = ctx.now
    delivery.failed_at = None
    delivery.replays += 1
    await ctx.session.flush()
    await ctx.record(
        "delivery.replay",
        "notification_delivery",
        delivery.id,
        "delivery recovery",
        {"channel": delivery.channel},
    )
    return DeliveryOut.model_validate(delivery)


async def set_endpoint(ctx: Ctx, province_code: str, data: EndpointIn) -> EndpointOut:
    """Where a province's gateway receives its people's notifications; enabled again if a 410
    had disabled it. Without a secret, a new one is made and shown in this answer only."""
    if not is_province_code(province_code):
        raise Unprocessable(
            "not a province code",
            errors=[
                {
                    "field": "province_code",
                    "message": "not a province code",
                    "code": "province_code.unknown",
                }
            ],
        )
    try:
        url = check_endpoint(data.url, allow_http=ctx.settings.environment == "test")
    except UnsafeEndpoint as exc:
        raise Unprocessable(
            str(exc), errors=[{"field": "url", "message": str(exc), "code": "url.refused"}]
        ) from exc
    endpoint = await repository.get_endpoint(ctx.session, province_code, for_update=True)
    made = None if data.secret is not None else generate_secret()
    if endpoint is None:
        endpoint = ChannelEndpoint(province_code=province_code, secret=data.secret or made)
        ctx.session.add(endpoint)
    elif data.secret is not None:
        endpoint.secret = data.secret
    else:
        made = None  # the gateway keeps the secret it has
    endpoint.url = url
    endpoint.enabled = data.enabled
    endpoint.disabled_reason = None if data.enabled else "disabled by an administrator"
    endpoint.updated_by = ctx.sub
    endpoint.updated_at = ctx.now
    await ctx.session.flush()
    await ctx.record(
        "endpoint.set",
        "notification_endpoint",
        province_code,
        "notification delivery",
        {
            "url": url,
            "enabled": data.enabled,
            "new_secret": data.secret is not None or made is not None,
        },
    )
    return EndpointOut.of(endpoint, made)


async def list_endpoints(ctx: Ctx) -> list[EndpointOut]:
    return [EndpointOut.of(e) for e in await repository.list_endpoints(ctx.session)]
