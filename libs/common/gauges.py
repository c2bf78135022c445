"""A worker that sets a gauge from the database every so often: what ops alert on without a
request asking for it (casework's cases past their legal deadline)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from prometheus_client import Gauge

from libs.common.context import Context
from libs.common.db import Database

log = logging.getLogger("ctip.gauges")

# per label value (e.g. a stage), the figure now
Measure = Callable[[Context[Any]], Awaitable[Mapping[str, float]]]


class GaugeRefresher:
    def __init__(
        self,
        db: Database,
        make_context: Callable[[Any], Context[Any]],
        gauge: Gauge,
        fixed: Mapping[str, str],
        label: str,
        measure: Measure,
        *,
        interval_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.make_context = make_context
        self.gauge = gauge
        self.fixed = dict(fixed)
        self.label = label
        self.measure = measure
        self.interval_seconds = interval_seconds
        self._stop = asyncio.Event()
        self._seen: set[str] = set()

    def stop(self) -> None:
        self._stop.set()

    async def refresh(self) -> None:
        async with self.db.sessions() as session, session.begin():
            figures = await self.measure(self.make_context(session))
        for value in self._seen - set(figures):  # a stage with none left reads 0, not stale
            self.gauge.labels(**self.fixed, **{self.label: value}).set(0)
        for value, figure in figures.items():
            self.gauge.labels(**self.fixed, **{self.label: value}).set(figure)
        self._seen |= set(figures)

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("%s not refreshed, retrying later: %s", self.gauge, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_seconds)
