"""notifications' event handlers, each inside the inbox transaction of ``EventConsumer``: a
deadline signal or an assignment becomes one notification per person the ladder names (an
event seen again tells nobody again)."""

from __future__ import annotations

from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.deadlines import DeadlineSignal, RecordAssigned
from services.notifications import inbox
from services.notifications.access import Ctx


async def on_deadline(ctx: Ctx, event: CloudEvent, signal: DeadlineSignal) -> None:
    await inbox.tell_deadline(ctx, event, signal)


async def on_assigned(ctx: Ctx, event: CloudEvent, assigned: RecordAssigned) -> None:
    await inbox.tell_assigned(ctx, event, assigned)


HANDLERS: dict[str, Handler] = {
    **{
        f"{service}.deadline.{kind}": on_deadline
        for service in ("intake", "casework", "victim_support")
        for kind in ("approaching", "missed")
    },
    "intake.tip.assigned": on_assigned,
    "casework.case.assigned": on_assigned,
}
