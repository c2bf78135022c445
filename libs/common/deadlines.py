"""Watching legal clocks (DESIGN §11): each watched record signals ``deadline.approaching`` once
per threshold and ``deadline.missed`` once, through the outbox.

A service that owns a clock installs the ``deadline_watches`` table on its metadata
(:func:`install_deadline_watch`), arms a watch in the use case that sets or moves the deadline
(``ctx.deadlines.arm``), settles it in the one that resolves the record (``settle``), and runs
:func:`deadline_worker` in its worker. The scan reads only the watches whose next signal is due,
through a partial index on ``fire_at``: its cost follows what is due, not how many records exist.

Exactly once: the scan locks the due rows (``FOR UPDATE SKIP LOCKED``, so a second worker takes
other rows or none), writes each signal into the outbox and moves the row's ``fire_at`` in the
same transaction. A restart or a second replica finds the row already moved. A changed deadline
re-arms the watch (an extension can be followed by a new ``approaching``); arming it again with
the same deadline changes nothing; a settled record has no watch left to signal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    case,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.observability import DEADLINE_SIGNALS
from libs.contracts.deadlines import DeadlineSignal, Jurisdiction

log = logging.getLogger("ctip.deadlines")

DEFAULT_THRESHOLDS: tuple[timedelta, ...] = (timedelta(days=5), timedelta(days=1))
MISSED = timedelta(0)

SignalKind = Literal["approaching", "missed"]


# --- the rule: pure ------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    kind: SignalKind
    threshold: timedelta  # before the deadline; MISSED (0) for ``missed``


def thresholds_from_days(days: Iterable[float]) -> tuple[timedelta, ...]:
    """Configured thresholds, latest first, in whole seconds (a watch stores the one it last
    signalled in seconds, and 0 there means ``missed``); repeated ones, and those under a second
    (zero and negative ones too), dropped."""
    seconds = {round(timedelta(days=d).total_seconds()) for d in days}
    return tuple(timedelta(seconds=s) for s in sorted(seconds, reverse=True) if s >= 1)


def horizon_of(days: Iterable[float]) -> timedelta:
    """How far ahead "due soon" looks: the first reminder's threshold (the largest configured,
    5 days by default), so that what the dashboard calls due soon is what officers were told of."""
    return max(thresholds_from_days(days), default=DEFAULT_THRESHOLDS[0])


def pending(thresholds: Sequence[timedelta], last: timedelta | None) -> list[timedelta]:
    """The thresholds still to signal after ``last`` (None: nothing signalled yet)."""
    return [t for t in thresholds if last is None or t < last]


def next_fire_at(
    due_at: datetime, thresholds: Sequence[timedelta], last: timedelta | None
) -> datetime | None:
    """When the watch next has something to say; None once ``missed`` was signalled."""
    if last == MISSED:
        return None
    ahead = pending(thresholds, last)
    return due_at - max(ahead) if ahead else due_at


def passed_when_armed(
    now: datetime, due_at: datetime, thresholds: Sequence[timedelta]
) -> timedelta | None:
    """What a clock armed at ``now`` counts as already said: the thresholds it starts inside,
    except the nearest one. A 3-day verification never hears "5 days left"; a record that
    arrives with 12 hours left still gets its "1 day left" at once. Returned as the ``last``
    threshold that :func:`next_fire_at` and :func:`signal_due` read (None: nothing skipped)."""
    if not thresholds:
        return None
    nearest = min(thresholds)
    skipped = [t for t in thresholds if t != nearest and due_at - t <= now]
    return min(skipped) if skipped else None


def signal_due(
    now: datetime, due_at: datetime, thresholds: Sequence[timedelta], last: timedelta | None
) -> Signal | None:
    """What to signal at ``now``. Of several thresholds passed at once (a record armed late, a
    worker that was down) only the nearest is signalled: an officer told "1 day left" need not
    hear "5 days left" after it. A passed deadline is ``missed`` whatever was said before."""
    if last == MISSED:
        return None
    if now >= due_at:
        return Signal("missed", MISSED)
    passed = [t for t in pending(thresholds, last) if due_at - t <= now]
    if not passed:
        return None
    return Signal("approaching", min(passed))


# --- the table ------------------------------------------------------------------------------


def deadline_watch_table(metadata: MetaData) -> Table:
    table = Table(
        "deadline_watches",
        metadata,
        Column("record_type", String(40), nullable=False),
        Column("record_id", PG_UUID(as_uuid=True), nullable=False),
        Column("deadline_kind", String(40), nullable=False),
        Column("due_at", DateTime(timezone=True), nullable=False),
        # when the current clock was set; a moved deadline re-arms with a new one
        Column("armed_at", DateTime(timezone=True), nullable=False),
        # the threshold last signalled, in seconds before due_at (0: missed); NULL: none yet
        Column("last_threshold_seconds", Integer),
        # when the next signal is due; NULL once missed was signalled
        Column("fire_at", DateTime(timezone=True)),
        Column("ward_code", String(10)),
        Column("province_code", String(10)),
        Column("assignee", String(200)),
        PrimaryKeyConstraint("record_type", "record_id", "deadline_kind"),
    )
    Index(
        "ix_deadline_watches_fire_at",
        table.c.fire_at,
        postgresql_where=table.c.fire_at.is_not(None),
    )
    # The figures per ward (``libs.common.open_clocks``) read only the clocks due by the horizon,
    # through the caller's provinces or wards, index-only: what they count is in the index.
    for area, include in AREA_DUE_INCLUDES.items():
        columns = (table.c[area], table.c.deadline_kind, table.c.due_at)
        Index(f"ix_deadline_watches_{area}_due", *columns, postgresql_include=list(include))
    return table


AREA_DUE_INCLUDES = {"province_code": ("ward_code", "record_type"), "ward_code": ("record_type",)}


def _seconds(threshold: timedelta | None) -> int | None:
    return None if threshold is None else int(threshold.total_seconds())


def _threshold(seconds: int | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


class DeadlineWatch:
    """The watches of one service, in the caller's transaction."""

    INSERT_COLUMNS = (
        "record_type",
        "record_id",
        "deadline_kind",
        "due_at",
        "armed_at",
        "last_threshold_seconds",
        "fire_at",
        "ward_code",
        "province_code",
        "assignee",
    )

    def __init__(self, metadata: MetaData, service: str) -> None:
        self.service = service
        self.table = deadline_watch_table(metadata)
        # The open clocks counted per due day, when the service keeps that rollup
        # (``libs.common.open_clocks.roll_up_open_clocks``).
        self.rollup: Table | None = None

    def new_row(
        self,
        *,
        now: datetime,
        record_type: str,
        record_id: UUID,
        kind: str,
        due_at: datetime,
        ward_code: str | None,
        province_code: str | None,
        thresholds: Sequence[timedelta],
        assignee: str | None = None,
    ) -> dict[str, Any]:
        """A watch with nothing signalled yet, as a row (``INSERT_COLUMNS`` of ``self.table``):
        what :meth:`arm` inserts, for a record written with one bulk statement
        (``libs.common.bulk.InsertTogether``), as intake files a tip. Thresholds the clock
        starts inside are skipped (:func:`passed_when_armed`)."""
        skipped = passed_when_armed(now, due_at, thresholds)
        return {
            "record_type": record_type,
            "record_id": record_id,
            "deadline_kind": kind,
            "due_at": due_at,
            "armed_at": now,
            "last_threshold_seconds": _seconds(skipped),
            "fire_at": next_fire_at(due_at, thresholds, skipped),
            "ward_code": ward_code,
            "province_code": province_code,
            "assignee": assignee,
        }

    async def arm(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        record_type: str,
        record_id: UUID,
        kind: str,
        due_at: datetime,
        ward_code: str | None,
        province_code: str | None,
        thresholds: Sequence[timedelta],
        assignee: str | None = None,
    ) -> None:
        """Watch a clock, or move it. The same deadline again keeps what was signalled (a
        replayed call is no second signal); another deadline starts the thresholds afresh.
        ``assignee`` None keeps the watch's assignee."""
        t = self.table
        fresh = insert(t).values(
            **self.new_row(
                now=now,
                record_type=record_type,
                record_id=record_id,
                kind=kind,
                due_at=due_at,
                ward_code=ward_code,
                province_code=province_code,
                thresholds=thresholds,
                assignee=assignee,
            )
        )
        moved = t.c.due_at.is_distinct_from(fresh.excluded.due_at)
        await session.execute(
            fresh.on_conflict_do_update(
                index_elements=[t.c.record_type, t.c.record_id, t.c.deadline_kind],
                set_={
                    "due_at": fresh.excluded.due_at,
                    "armed_at": case((moved, fresh.excluded.armed_at), else_=t.c.armed_at),
                    "last_threshold_seconds": case(
                        (moved, fresh.excluded.last_threshold_seconds),
                        else_=t.c.last_threshold_seconds,
                    ),
                    "fire_at": case((moved, fresh.excluded.fire_at), else_=t.c.fire_at),
                    "ward_code": fresh.excluded.ward_code,
                    "province_code": fresh.excluded.province_code,
                    "assignee": case(
                        (fresh.excluded.assignee.is_(None), t.c.assignee),
                        else_=fresh.excluded.assignee,
                    ),
                },
            )
        )

    async def settle(
        self, session: AsyncSession, record_type: str, record_id: UUID, kind: str | None = None
    ) -> None:
        """The record is resolved (or this clock no longer runs): nothing more is signalled."""
        t = self.table
        statement = delete(t).where(t.c.record_type == record_type, t.c.record_id == record_id)
        if kind is not None:
            statement = statement.where(t.c.deadline_kind == kind)
        await session.execute(statement)

    async def assign(
        self, session: AsyncSession, record_type: str, record_id: UUID, assignee: str
    ) -> None:
        """Every clock of the record now names its assignee."""
        t = self.table
        await session.execute(
            update(t)
            .where(t.c.record_type == record_type, t.c.record_id == record_id)
            .values(assignee=assignee)
        )

    async def scan(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        thresholds: Sequence[timedelta],
        emit: Callable[[str, UUID, DeadlineSignal], Awaitable[Any]],
        batch: int = 500,
    ) -> int:
        """Signal what is due at ``now`` (up to ``batch`` watches); how many signals."""
        t = self.table
        rows = (
            await session.execute(
                select(t)
                .where(t.c.fire_at.is_not(None), t.c.fire_at <= now)
                .order_by(t.c.fire_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        signalled = 0
        for row in rows:
            last = _threshold(row.last_threshold_seconds)
            signal = signal_due(now, row.due_at, thresholds, last)
            if signal is not None:
                last = signal.threshold
                await emit(
                    f"{self.service}.deadline.{signal.kind}",
                    row.record_id,
                    DeadlineSignal(
                        record_type=row.record_type,
                        record_id=row.record_id,
                        deadline_kind=row.deadline_kind,
                        due_at=row.due_at,
                        threshold_seconds=_seconds(signal.threshold) or 0,
                        jurisdiction=Jurisdiction(
                            ward_code=row.ward_code, province_code=row.province_code
                        ),
                        assignee=row.assignee,
                        armed_at=row.armed_at,
                        signalled_at=now,
                    ),
                )
                DEADLINE_SIGNALS.labels(service=self.service, kind=signal.kind).inc()
                signalled += 1
            await session.execute(
                update(t)
                .where(
                    t.c.record_type == row.record_type,
                    t.c.record_id == row.record_id,
                    t.c.deadline_kind == row.deadline_kind,
                )
                .values(
                    last_threshold_seconds=_seconds(last),
                    fire_at=next_fire_at(row.due_at, thresholds, last),
                )
            )
        return signalled
