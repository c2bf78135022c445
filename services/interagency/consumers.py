"""Interagency's event handlers; each runs inside the inbox transaction of ``EventConsumer``.

A partner's found person is matched from our own ``interagency.alert.received`` event, not in the
partner's request, so that the webhook's answer and its timing say nothing about a match.

Intake's missing-person reports are kept as a read model for matching (``.reported``); a report
is alerted to the partners subscribed to ``missing_person`` only once an officer published it
(``.published``; exactly once: the inbox dedupes).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import BlindIndex
from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.intake import (
    MissingPersonPublished,
    MissingPersonReported,
    MissingPersonResolved,
)
from libs.contracts.interagency import AlertReceived
from services.interagency import inbound
from services.interagency.service import Actor, now_utc
from services.interagency.settings import InteragencySettings


def handlers(index: BlindIndex, settings: InteragencySettings) -> dict[str, Handler]:
    def actor() -> Actor:
        return Actor(principal=None, index=index, settings=settings, now=now_utc())

    async def on_missing_person_reported(
        session: AsyncSession, event: CloudEvent, report: MissingPersonReported
    ) -> None:
        await inbound.missing_person_reported(session, actor(), report)

    async def on_missing_person_published(
        session: AsyncSession, event: CloudEvent, published: MissingPersonPublished
    ) -> None:
        await inbound.missing_person_published(session, actor(), published)

    async def on_missing_person_resolved(
        session: AsyncSession, event: CloudEvent, resolved: MissingPersonResolved
    ) -> None:
        await inbound.missing_person_resolved(session, actor(), resolved)

    async def on_alert_received(
        session: AsyncSession, event: CloudEvent, received: AlertReceived
    ) -> None:
        await inbound.match_received_alert(session, actor(), received.alert_id)

    return {
        "interagency.alert.received": on_alert_received,
        "intake.missing_person.reported": on_missing_person_reported,
        "intake.missing_person.published": on_missing_person_published,
        "intake.missing_person.resolved": on_missing_person_resolved,
    }
