"""The stream over a real HTTP server (uvicorn on a loopback port) and a real client (httpx,
streaming): it stays connected while notifications arrive, and a client that reconnects with
``Last-Event-ID`` gets exactly what it missed, nothing twice.

The server's polling fallback is set to five minutes, so a notification that arrives within the
test's wait was woken by the NOTIFY trigger."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common.directory import SeededDirectory
from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from services.notifications.stream import StreamHub, events
from tests.e2e.conftest import Served, _listening_socket
from tests.integration.notifications.support import MakeContext, Ward, assigned, handled, token
from tests.support import eventually

pytestmark = pytest.mark.integration
STREAM = "/v1/notifications/stream"


@dataclass
class Event:
    id: int
    event: str
    data: dict[str, Any]


@dataclass
class Listener:
    """A client reading one stream in the background, as a browser's EventSource would."""

    events: list[Event] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    status: int | None = None

    async def read(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        async with client.stream("GET", STREAM, headers=headers) as response:
            self.status = response.status_code
            assert response.headers["content-type"].startswith("text/event-stream")
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line.startswith("retry:"):
                    self.opened.set()
                elif line.startswith(":"):
                    self.comments.append(line)
                elif line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                elif "id" in fields:
                    self.events.append(
                        Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                    )
                    fields = {}

    def seqs(self) -> list[int]:
        return [e.id for e in self.events]


@contextlib.asynccontextmanager
async def listening(
    served: Served, headers: dict[str, str]
) -> AsyncIterator[tuple[Listener, asyncio.Task[None]]]:
    listener = Listener()
    async with httpx.AsyncClient(base_url=served.url, timeout=httpx.Timeout(30, read=None)) as c:
        task = asyncio.create_task(listener.read(c, headers))
        try:
            await asyncio.wait_for(listener.opened.wait(), 30)
            yield listener, task
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture(scope="module")
async def served(
    settings_for: Callable[..., Any], directory: SeededDirectory
) -> AsyncIterator[Served]:
    settings = settings_for(
        NotificationsSettings,
        run_consumers=False,
        stream_poll_seconds=300.0,
        stream_heartbeat_seconds=0.5,
        stream_max_seconds=300.0,
    )
    server = Served("notifications", create_app(settings, directory), _listening_socket())
    try:
        await server.start()
        hub: StreamHub = server.app.state.stream_hub
        await asyncio.wait_for(hub.listening.wait(), 30)
        yield server
    finally:
        await server.stop()


async def assign_tips(db: AsyncEngine, as_consumer: MakeContext, ward: Ward, n: int) -> None:
    for _ in range(n):
        await handled(db, as_consumer, assigned("intake.tip.assigned", ward, ward.officer))


async def test_a_stream_stays_open_while_notifications_arrive_and_resumes_after_the_last_id(
    served: Served, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    me = token(ward.officer)
    async with listening(served, me) as (first, _):
        await assign_tips(db, as_consumer, ward, 1)
        await eventually(lambda: _at_least(first, 1), timeout=30)
        await assign_tips(db, as_consumer, ward, 1)  # the same connection, still open
        await eventually(lambda: _at_least(first, 2), timeout=30)
        await eventually(lambda: _true(len(first.comments) >= 2), timeout=30)
    assert first.status == 200
    assert all(e.event == "assigned" for e in first.events)
    assert first.events[0].data["title"] == "Bạn được giao giải quyết một tin báo"
    assert first.events[0].data["seq"] == first.events[0].id
    assert first.comments[0] == ": heartbeat"
    assert len(first.events) == 2

    await assign_tips(db, as_consumer, ward, 2)  # told while nobody listened
    last = str(first.events[-1].id)
    async with listening(served, me | {"Last-Event-ID": last}) as (second, _):
        await eventually(lambda: _at_least(second, 2), timeout=30)
        await assign_tips(db, as_consumer, ward, 1)
        await eventually(lambda: _at_least(second, 3), timeout=30)
    everything = first.seqs() + second.seqs()
    assert everything == sorted(set(everything))  # nothing twice, in order
    assert everything == await _seqs_of(db, ward.officer)  # nothing lost


async def test_a_stream_opened_without_a_last_id_starts_from_now(
    served: Served, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    await assign_tips(db, as_consumer, ward, 2)
    async with listening(served, token(ward.officer)) as (listener, _):
        await assign_tips(db, as_consumer, ward, 1)
        await eventually(lambda: _at_least(listener, 1), timeout=30)
    assert listener.seqs() == (await _seqs_of(db, ward.officer))[-1:]


async def test_a_person_s_stream_carries_only_their_own(
    served: Served, ward: Ward, db: AsyncEngine, as_consumer: MakeContext
) -> None:
    async with (
        listening(served, token(ward.officer)) as (mine, _),
        listening(served, token(ward.second_officer)) as (theirs, _),
    ):
        await handled(db, as_consumer, assigned("intake.tip.assigned", ward, ward.second_officer))
        await assign_tips(db, as_consumer, ward, 1)
        await eventually(lambda: _at_least(mine, 1), timeout=30)
        await eventually(lambda: _at_least(theirs, 1), timeout=30)
    assert mine.seqs() == await _seqs_of(db, ward.officer)
    assert theirs.seqs() == await _seqs_of(db, ward.second_officer)
    assert theirs.events[0].data["title"] == "A tip was assigned to you"  # their locale: en


async def test_every_stream_of_the_process_shares_one_listening_connection(
    served: Served, ward: Ward, db: AsyncEngine
) -> None:
    hub: StreamHub = served.app.state.stream_hub
    before = await _listening_connections(db)
    async with (
        listening(served, token(ward.officer)),
        listening(served, token(ward.second_officer)),
        listening(served, token(ward.supervisor, "supervisor")),
    ):
        assert hub.streams() == 3
        assert await _listening_connections(db) == before == 1
    await eventually(lambda: _true(hub.streams() == 0), timeout=30)


async def test_without_a_notify_a_stream_still_finds_a_notification_by_polling(
    notifications_settings: NotificationsSettings,
    ward: Ward,
    db: AsyncEngine,
    as_consumer: MakeContext,
) -> None:
    """A hub that never listens (its connection lost): the stream's own look finds it."""
    settings = notifications_settings.model_copy(
        update={"stream_poll_seconds": 0.2, "stream_heartbeat_seconds": 60.0}
    )
    deaf = StreamHub(settings.database_url)
    stream = events(
        ward.officer, "en", 0, hub=deaf, sessions=async_sessionmaker(db), settings=settings
    )
    assert await anext(stream) == "retry: 3000\n\n"
    await assign_tips(db, as_consumer, ward, 1)
    frame = await asyncio.wait_for(anext(stream), 30)
    await stream.aclose()
    seq = (await _seqs_of(db, ward.officer))[0]
    assert frame.startswith(f"id: {seq}\nevent: assigned\ndata: {{")
    assert '"title":"A tip was assigned to you"' in frame


async def test_a_last_id_that_is_not_a_number_is_a_422(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
        response = await client.get(STREAM, headers=token("x") | {"Last-Event-ID": "abc"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Last-Event-ID"


async def _at_least(listener: Listener, n: int) -> bool:
    return len(listener.events) >= n


async def _true(value: bool) -> bool:
    return value


async def _seqs_of(db: AsyncEngine, recipient: str) -> list[int]:
    async with AsyncSession(db) as session:
        found = await session.execute(
            text("SELECT seq FROM notifications.notifications WHERE recipient = :r ORDER BY seq"),
            {"r": recipient},
        )
        return list(found.scalars())


async def _listening_connections(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'ctip-notifications-listen'"
            )
        )
        return int(found.scalar_one())


async def test_a_browser_of_the_dashboard_may_resume_a_stream(served: Served) -> None:
    """The CORS preflight of a cross-origin reconnect, which sends Last-Event-ID."""
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
        response = await client.options(
            STREAM,
            headers={
                "Origin": "http://127.0.0.1:8005",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization,last-event-id",
            },
        )
    assert response.status_code == 200, response.text
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "last-event-id" in allowed
