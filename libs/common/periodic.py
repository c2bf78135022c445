"""A worker that runs one use case every so often, as the system, in a transaction of its own:
housekeeping that no request asks for (intake deleting files past their retention)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from libs.common.context import Context
from libs.common.db import Database
from libs.common.deadlines import thresholds_from_days

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
        busy_at: int | None = None,
    ) -> None:
        self.db = db
        self.make_context = make_context
        self.name = name
        self.task = task
        self.interval_seconds = interval_seconds
        # a run that did this much found a backlog: the next one starts at once
        self.busy_at = busy_at
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
            else:
                if self.busy_at is not None and done >= self.busy_at:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_seconds)


def deadline_worker(
    service: str, thresholds_days: Iterable[float], interval_seconds: float, batch: int = 500
) -> Callable[[Database, Callable[[Any], Context[Any]]], Periodic]:
    """The worker factory of a service that owns legal clocks (``libs/common/deadlines.py``):
    a scan per interval, as the system, in a transaction of its own; at once again while a scan
    finds a full batch due."""
    thresholds = thresholds_from_days(thresholds_days)

    async def task(ctx: Context[Any]) -> int:
        return await ctx.deadlines.scan(
            ctx.session, now=ctx.now, thresholds=thresholds, emit=ctx.emit, batch=batch
        )

    def factory(db: Database, make_context: Callable[[Any], Context[Any]]) -> Periodic:
        return Periodic(
            db,
            make_context,
            f"{service} deadlines",
            task,
            interval_seconds=interval_seconds,
            busy_at=batch,
        )

    return factory
