"""Interagency's event handlers; each runs inside the inbox transaction of ``EventConsumer``.

A partner's found person is matched from our own ``interagency.alert.received`` event, not in the
partner's request, so that the webhook's answer and its timing say nothing about a match.

Intake's missing-person reports are kept as a read model for matching (``.reported``); a report
is alerted to the partners subscribed to ``missing_person`` only once an officer published it
(``.published``; exactly once: the inbox dedupes).
"""

from __future__ import annotations

from libs.common.context import Context
from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.intake import (
    MissingPersonPublished,
    MissingPersonReported,
    MissingPersonResolved,
)
from libs.contracts.interagency import AlertReceived
from services.interagency import inbound
from services.interagency.service import Actor
from services.interagency.settings import InteragencySettings

Ctx = Context[InteragencySettings]


def _actor(ctx: Ctx) -> Actor:
    return Actor(principal=None, index=ctx.index, settings=ctx.settings, now=ctx.now)


async def on_missing_person_reported(
    ctx: Ctx, event: CloudEvent, report: MissingPersonReported
) -> None:
    await inbound.missing_person_reported(ctx.session, _actor(ctx), report)


async def on_missing_person_published(
    ctx: Ctx, event: CloudEvent, published: MissingPersonPublished
) -> None:
    await inbound.missing_person_published(ctx.session, _actor(ctx), published)


async def on_missing_person_resolved(
    ctx: Ctx, event: CloudEvent, resolved: MissingPersonResolved
) -> None:
    await inbound.missing_person_resolved(ctx.session, _actor(ctx), resolved)


async def on_alert_received(ctx: Ctx, event: CloudEvent, received: AlertReceived) -> None:
    await inbound.match_received_alert(ctx.session, _actor(ctx), received.alert_id)


HANDLERS: dict[str, Handler] = {
    "interagency.alert.received": on_alert_received,
    "intake.missing_person.reported": on_missing_person_reported,
    "intake.missing_person.published": on_missing_person_published,
    "intake.missing_person.resolved": on_missing_person_resolved,
}
