"""Interagency's event handlers, each inside the inbox transaction of ``EventConsumer``.

A partner's found person is matched from our own ``interagency.alert.received`` event, off the
partner's request; intake's reports are kept for matching and alerted once published."""

from __future__ import annotations

from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.intake import (
    MissingPersonPublished,
    MissingPersonReported,
    MissingPersonResolved,
)
from libs.contracts.interagency import AlertReceived
from services.interagency import matches, missing_persons
from services.interagency.access import Ctx


async def on_missing_person_reported(
    ctx: Ctx, event: CloudEvent, report: MissingPersonReported
) -> None:
    await missing_persons.missing_person_reported(ctx, report)


async def on_missing_person_published(
    ctx: Ctx, event: CloudEvent, published: MissingPersonPublished
) -> None:
    await missing_persons.missing_person_published(ctx, published)


async def on_missing_person_resolved(
    ctx: Ctx, event: CloudEvent, resolved: MissingPersonResolved
) -> None:
    await missing_persons.missing_person_resolved(ctx, resolved)


async def on_alert_received(ctx: Ctx, event: CloudEvent, received: AlertReceived) -> None:
    await matches.match_received_alert(ctx, received.alert_id)


HANDLERS: dict[str, Handler] = {
    "interagency.alert.received": on_alert_received,
    "intake.missing_person.reported": on_missing_person_reported,
    "intake.missing_person.published": on_missing_person_published,
    "intake.missing_person.resolved": on_missing_person_resolved,
}
