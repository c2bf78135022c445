"""Server-Sent Events: each person's notifications as they are committed.

One LISTEN connection per process (:class:`StreamHub`, a worker of the app) hears the row
trigger of ``notifications`` (its payload is the recipient's ``sub``) and wakes that person's
open streams; a stream holds no database connection while it waits. A stream also looks every
``stream_poll_seconds`` (a lost NOTIFY, or a hub reconnecting, delays a notification, never
drops it), sends a comment every ``stream_heartbeat_seconds`` (proxies close silent
connections), and closes after ``stream_max_seconds``; the client reconnects with
``Last-Event-ID`` (the last ``seq`` it received) and gets exactly what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import asyncpg_dsn
from libs.common.observability import describe_error
from services.notifications import repository
from services.notifications.access import Ctx
from services.notifications.inbox import reader_language, shown
from services.notifications.models import NOTIFY_CHANNEL, Notification
from services.notifications.settings import NotificationsSettings

log = logging.getLogger("ctip.notifications.stream")
# How long a browser's EventSource waits before it reconnects (with Last-Event-ID).
RECONNECT_MS = 3000


class StreamHub:
    """The process's one listener, shared by every open stream."""

    PING_SECONDS = 30.0

    def __init__(self, database_url: str) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._stop = asyncio.Event()
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def subscribe(self, recipient: str) -> Iterator[asyncio.Event]:
        """An event set whenever a notification for ``recipient`` is committed."""
        wake = asyncio.Event()
        self._waiting.setdefault(recipient, set()).add(wake)
        try:
            yield wake
        finally:
            waiting = self._waiting.get(recipient)
            if waiting is not None:
                waiting.discard(wake)
                if not waiting:
                    del self._waiting[recipient]

    def streams(self) -> int:
        return sum(len(w) for w in self._waiting.values())

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, recipient: str) -> None:
        for wake in self._waiting.get(recipient, ()):
            wake.set()

    def _wake_all(self) -> None:
        """After the listener was away: whatever it missed, every stream looks again."""
        for waiting in self._waiting.values():
            for wake in waiting:
                wake.set()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                await self._listen()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("stream listener reconnecting: %s", describe_error(exc))
            if not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), backoff)
                backoff = min(backoff * 2, 10.0)

    async def _listen(self) -> None:
        """Until stopped, or until the connection is lost."""
        conn = await asyncpg.connect(
            self.dsn, server_settings={"application_name": "ctip-notifications-listen"}
        )
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            self.listening.set()
            self._wake_all()
            waits = {asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(lost.wait())}
            try:
                while not (self._stop.is_set() or lost.is_set()):
                    await asyncio.wait(
                        waits, timeout=self.PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                    if not (self._stop.is_set() or lost.is_set()):
                        # A connection that vanished without a word (a network partition) is
                        # noticed here rather than never.
                        await conn.fetchval("SELECT 1", timeout=self.PING_SECONDS)
            finally:
                for wait in waits:
                    wait.cancel()
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)


def frame(row: Notification, language: str) -> str:
    """One SSE event: ``id`` the seq, ``event`` the kind, ``data`` the notification (one line)."""
    data = shown(row, language).model_dump_json()
    return f"id: {row.seq}\nevent: {row.kind}\ndata: {data}\n\n"


async def events(
    recipient: str,
    language: str,
    after: int,
    *,
    hub: StreamHub,
    sessions: async_sessionmaker[AsyncSession],
    settings: NotificationsSettings,
) -> AsyncIterator[str]:
    """The recipient's notifications after ``seq`` ``after``, then each new one, until the
    stream's time is up. Each look is a short transaction of its own."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + settings.stream_max_seconds
    beat = loop.time() + settings.stream_heartbeat_seconds
    look = loop.time()  # at once: what came after ``after`` first
    yield f"retry: {RECONNECT_MS}\n\n"
    with hub.subscribe(recipient) as wake:
        while True:
            if wake.is_set() or loop.time() >= look:
                wake.clear()  # before the look: a commit during it wakes the next one at once
                async with sessions() as session:
                    rows = await repository.after(session, recipient, after, settings.stream_batch)
                for row in rows:
                    yield frame(row, language)
                    after = row.seq
                if len(rows) == settings.stream_batch:
                    continue
                look = loop.time() + settings.stream_poll_seconds
            now = loop.time()
            if now >= ends:
                return
            if now >= beat:
                yield ": heartbeat\n\n"
                beat = now + settings.stream_heartbeat_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), max(min(beat, ends, look) - now, 0.0))


async def open_stream(
    ctx: Ctx,
    last_event_id: int | None,
    *,
    hub: StreamHub,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[str]:
    """The caller's stream: after ``Last-Event-ID`` when reconnecting, else from now on (the
    list holds what came before)."""
    sub = ctx.require_principal().sub
    after = last_event_id
    if after is None:
        after = await repository.latest_seq(ctx.session, sub)
    language = await reader_language(ctx)
    return events(sub, language, after, hub=hub, sessions=sessions, settings=ctx.settings)
