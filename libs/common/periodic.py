"""A worker that runs one use case every so often, as the system, in a transaction of its own:
housekeeping that no request asks for (intake deleting files past their retention)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from libs.common.context import Context
from libs.common.db import Database

log = logging.getLogger("ctip.periodic")

Task = Callable[[Context[Any]], Awaitable[int]]


class Periodic:
    def __init__(
        self,
        db: Database,
        make_context: Callable[[Any], Context[Any]],
        name: str,
        task: Task,
        *,
        interval_seconds: float,
    ) -> None:
        self.db = db
        self.make_context = make_context
        self.name = name
        self.task = task
        self.interval_seconds = interval_seconds
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def once(self) -> int:
        """One run, committed; how many things it did."""
        async with self.db.sessions() as session, session.begin():
            return await self.task(self.make_context(session))

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                done = await self.once()
                if done:
                    log.info("%s: %d done", self.name, done)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("%s failed, retrying later: %s", self.name, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_seconds)
