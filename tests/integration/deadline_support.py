"""Driving a service's deadline worker with a clock of the test's own, and reading what it
signalled from the outbox (``<service>.deadline.approaching|missed``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.context import Context
from libs.common.crypto import BlindIndex
from libs.common.db import Database
from libs.common.periodic import Periodic, deadline_worker
from libs.common.platform import platform_of
from libs.common.settings import ServiceSettings
from tests.support import outbox_event


class Clocked:
    """The service's own deadline worker (``deadline_worker``), each run at the moment given."""

    def __init__(self, settings: ServiceSettings, metadata: MetaData, url: str) -> None:
        self.settings = settings
        self.platform = platform_of(metadata)
        self.index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
        self.db = Database(url, pool_size=8)
        self.now: datetime | None = None

    def context(self, session: Any) -> Context[Any]:
        assert self.now is not None, "set the clock first"
        return Context(
            session=session,
            principal=None,
            settings=self.settings,
            platform=self.platform,
            index=self.index,
            now=self.now,
        )

    def worker(self, batch: int = 500) -> Periodic:
        """A fresh worker, as a restarted or another replica's would be."""
        factory = deadline_worker(
            self.settings.service_name,
            self.settings.deadline_thresholds_days,
            self.settings.deadline_scan_seconds,
            batch=batch,
        )
        periodic = factory(self.db, self.context)
        assert isinstance(periodic, Periodic)
        return periodic

    async def at(self, now: datetime) -> int:
        """One scan at ``now``, committed; how many signals it wrote."""
        self.now = now
        return await self.worker().once()

    async def dispose(self) -> None:
        await self.db.dispose()


@dataclass(frozen=True)
class Signalled:
    kind: str  # approaching | missed
    threshold_seconds: int
    data: dict[str, Any]


async def signals(db: AsyncEngine, service: str, key: str) -> list[Signalled]:
    """The deadline signals written for ``key`` (the record's id), in order."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                f"SELECT type, event FROM {service}.outbox WHERE key = :k"
                " AND type LIKE :t ORDER BY seq"
            ),
            {"k": key, "t": f"vn.ctip.{service}.deadline.%"},
        )
        found = []
        for kind, stored in rows.all():
            data = outbox_event(service, stored)["data"]
            short = str(kind).removeprefix(f"vn.ctip.{service}.deadline.").removesuffix(".v1")
            found.append(Signalled(short, int(data["threshold_seconds"]), data))
        return found


async def watch_of(db: AsyncEngine, service: str, record_id: str) -> dict[str, Any] | None:
    """The record's watch row, or None when nothing watches it."""
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(f"SELECT to_jsonb(w) FROM {service}.deadline_watches w WHERE record_id = :r"),
                {"r": record_id},
            )
        ).scalar_one_or_none()
    return None if row is None else dict(row)
