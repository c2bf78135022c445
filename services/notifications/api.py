"""notifications' HTTP API: the caller's own notifications (a list, a stream) and preferences,
and the figures."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.pagination import Cursor, Limit, Page, seq_cursor, seq_keyset
from services.notifications import inbox, kpis, preferences, stream
from services.notifications.access import Recipient
from services.notifications.schemas import (
    NotificationKpis,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
)

router = APIRouter(prefix="/v1")


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


LastEventId = Annotated[
    int | None,
    Header(
        alias="Last-Event-ID",
        ge=0,
        description="the `id` of the last event received: the stream resumes after it",
    ),
]

STREAM_DOC = {
    200: {
        "description": "Server-Sent Events: `id` the notification's seq, `event` its kind, "
        "`data` the notification (JSON); comment lines as heartbeats",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/notifications", response_model=Page[NotificationOut], tags=["notifications"])
async def list_notifications(
    ctx: Recipient,
    unread: Annotated[bool, Query(description="only those not read yet")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[NotificationOut]:
    """The caller's notifications, newest first."""
    items = await inbox.list_mine(ctx, unread=unread, below=seq_keyset(cursor), limit=limit)
    return Page(items=list(items), next_cursor=seq_cursor(items, limit))


@router.get(
    "/notifications/stream",
    response_class=EventStream,
    responses=STREAM_DOC,  # type: ignore[arg-type]
    tags=["notifications"],
)
async def stream_notifications(
    ctx: Recipient, request: Request, last_event_id: LastEventId = None
) -> EventStream:
    """The caller's notifications as they arrive; after `Last-Event-ID`, what was missed first."""
    events = await stream.open_stream(
        ctx,
        last_event_id,
        hub=request.app.state.stream_hub,
        sessions=request.app.state.db.sessions,
    )
    return EventStream(events, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    tags=["notifications"],
)
async def read_notification(ctx: Recipient, notification_id: UUID) -> NotificationOut:
    """Marks one of the caller's notifications read (once: the first moment is kept)."""
    return await inbox.mark_read(ctx, notification_id)


@router.get("/notifications/preferences", response_model=PreferencesOut, tags=["preferences"])
async def get_preferences(ctx: Recipient) -> PreferencesOut:
    return await preferences.get_preferences(ctx)


@router.put("/notifications/preferences", response_model=PreferencesOut, tags=["preferences"])
async def put_preferences(ctx: Recipient, body: PreferencesIn) -> PreferencesOut:
    """The caller's channels, quiet hours and digest, replaced as a whole."""
    return await preferences.put_preferences(ctx, body)


@router.get("/kpis", response_model=NotificationKpis, tags=["figures"])
async def get_kpis(
    ctx: Recipient, from_: PeriodFrom = None, to: PeriodTo = None
) -> NotificationKpis:
    """Notifications created and read, by kind, about records of the caller's jurisdiction."""
    return await kpis.notification_kpis(ctx, period_from=from_, period_to=to)
