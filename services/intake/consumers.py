"""Intake's event handlers; each runs inside the inbox transaction of ``EventConsumer``."""

from __future__ import annotations

from libs.common.events import CloudEvent
from libs.common.inbox import Handler
from libs.contracts.interagency import MatchDecided, MatchFound
from services.intake import missing_persons
from services.intake.access import Ctx


async def on_match_found(ctx: Ctx, event: CloudEvent, match: MatchFound) -> None:
    """Shows interagency's candidate on the missing-person report as a possible match."""
    await missing_persons.record_match(ctx, match)


async def on_match_decided(ctx: Ctx, event: CloudEvent, decided: MatchDecided) -> None:
    """An officer confirmed or rejected interagency's candidate: the possible match says so."""
    await missing_persons.record_decision(ctx, decided)


HANDLERS: dict[str, Handler] = {
    "interagency.match.found": on_match_found,
    "interagency.match.decided": on_match_decided,
}
