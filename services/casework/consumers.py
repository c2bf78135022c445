"""Casework's event handlers, each inside the inbox transaction of ``EventConsumer``: intake's
tips kept as a read model (``tip_refs``), a substantiated tip opens its case exactly once, and
the metadata of a tip's files is kept for the evidence of its case."""

from __future__ import annotations

from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.intake import (
    TipAttachmentAdded,
    TipClassified,
    TipClosed,
    TipReceived,
    TipVerified,
)
from services.casework import cases, evidence, repository
from services.casework.access import Ctx


async def on_tip_received(ctx: Ctx, event: CloudEvent, tip: TipReceived) -> None:
    await repository.tip_received(ctx.session, tip, ctx.now)


async def on_tip_classified(ctx: Ctx, event: CloudEvent, tip: TipClassified) -> None:
    await repository.update_tip(
        ctx.session,
        tip.tip_id,
        ctx.now,
        status=tip.status,
        incident_ward_code=tip.incident_ward_code,
        province_code=tip.province_code,
    )


async def on_tip_closed(ctx: Ctx, event: CloudEvent, tip: TipClosed) -> None:
    await repository.update_tip(
        ctx.session, tip.tip_id, ctx.now, status="closed", outcome=tip.outcome
    )


async def on_tip_verified(ctx: Ctx, event: CloudEvent, tip: TipVerified) -> None:
    """Records the outcome; a substantiated tip opens its case (once, by ``tip_id``)."""
    await repository.tip_verified(ctx.session, tip, ctx.now)
    await cases.open_from_tip(ctx, tip)


async def on_tip_attachment_added(ctx: Ctx, event: CloudEvent, file: TipAttachmentAdded) -> None:
    await evidence.tip_file_added(ctx, file)


HANDLERS: dict[str, Handler] = {
    "intake.tip.received": on_tip_received,
    "intake.tip.classified": on_tip_classified,
    "intake.tip.verified": on_tip_verified,
    "intake.tip.closed": on_tip_closed,
    "intake.tip.attachment_added": on_tip_attachment_added,
}
