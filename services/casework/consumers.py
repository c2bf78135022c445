"""Casework's event handlers; each runs inside the inbox transaction of ``EventConsumer``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.intake import TipReceived
from services.casework.models import TipRef


async def on_tip_received(session: AsyncSession, event: CloudEvent, tip: TipReceived) -> None:
    await session.execute(
        insert(TipRef)
        .values(
            tip_id=tip.tip_id,
            status=tip.status,
            channel=tip.channel,
            incident_ward_code=tip.incident_ward_code,
            received_at=tip.received_at,
            updated_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=[TipRef.tip_id])
    )


HANDLERS: dict[str, Handler] = {
    "intake.tip.received": on_tip_received,
}
