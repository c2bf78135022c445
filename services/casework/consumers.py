"""Casework's event handlers; each runs inside the inbox transaction of ``EventConsumer``.

Tips are kept as a read model (``tip_refs``) from intake's events; a substantiated tip opens its
case exactly once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.context import Context
from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.intake import TipClassified, TipClosed, TipReceived, TipVerified
from services.casework import service
from services.casework.models import TipRef
from services.casework.settings import CaseworkSettings

Ctx = Context[CaseworkSettings]


async def on_tip_received(ctx: Ctx, event: CloudEvent, tip: TipReceived) -> None:
    now = datetime.now(UTC)
    await ctx.session.execute(
        insert(TipRef)
        .values(
            tip_id=tip.tip_id,
            status=tip.status,
            channel=tip.channel,
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            received_at=tip.received_at,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[TipRef.tip_id])
    )


async def _update(session: AsyncSession, tip_id: Any, **values: Any) -> None:
    await session.execute(
        update(TipRef).where(TipRef.tip_id == tip_id).values(updated_at=datetime.now(UTC), **values)
    )


async def on_tip_classified(ctx: Ctx, event: CloudEvent, tip: TipClassified) -> None:
    await _update(
        ctx.session,
        tip.tip_id,
        status=tip.status,
        incident_ward_code=tip.incident_ward_code,
        province_code=tip.province_code,
    )


async def on_tip_closed(ctx: Ctx, event: CloudEvent, tip: TipClosed) -> None:
    await _update(ctx.session, tip.tip_id, status="closed", outcome=tip.outcome)


async def on_tip_verified(ctx: Ctx, event: CloudEvent, tip: TipVerified) -> None:
    """Records the outcome; a substantiated tip opens its case (once, by ``tip_id``)."""
    await ctx.session.execute(
        insert(TipRef)
        .values(
            tip_id=tip.tip_id,
            status=tip.status,
            channel="unknown",
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            outcome=tip.outcome,
            received_at=tip.received_at,
            verified_at=tip.verified_at,
            updated_at=datetime.now(UTC),
        )
        .on_conflict_do_update(
            index_elements=[TipRef.tip_id],
            set_={
                "status": tip.status,
                "outcome": tip.outcome,
                "verified_at": tip.verified_at,
                "incident_ward_code": tip.incident_ward_code,
                "province_code": tip.province_code,
                "updated_at": datetime.now(UTC),
            },
        )
    )
    actor = service.Actor(
        principal=None, index=ctx.index, now=ctx.now, rules=ctx.settings.stage_rules()
    )
    await service.open_from_tip(ctx.session, tip, actor)


HANDLERS: dict[str, Handler] = {
    "intake.tip.received": on_tip_received,
    "intake.tip.classified": on_tip_classified,
    "intake.tip.verified": on_tip_verified,
    "intake.tip.closed": on_tip_closed,
}
