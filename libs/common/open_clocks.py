"""The open legal clocks as the steering committee reads them (DESIGN §11, issue 18): per ward,
how many are due within the horizon and how many were missed, and the records behind each
figure. Both read a service's ``deadline_watches`` (``libs.common.deadlines``), one clock kind
per record type, so that a figure and the list it links to count the same rows:

* ``due_soon``: due between now and now + the horizon (the first reminder's threshold, 5 days);
* ``missed``: past due, the record still unresolved (a resolved record has no watch left).

Figures only: no record id leaves :func:`deadline_figures`; the ids are for the lists, which
scope them to the caller as they scope everything else.

A service whose clocks run to hundreds of thousands (intake's tips, casework's cases) keeps them
counted per due day too (:func:`roll_up_open_clocks`, a rollup of ``libs.common.rollups``): the
clocks missed before today are then summed from it, per month and day, and only the clocks due
from today's start to the horizon are read one by one (:func:`rolled_up_clocks_by_ward`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, NamedTuple
from uuid import UUID

from fastapi import Query
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    MetaData,
    Select,
    String,
    Table,
    and_,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.context import Context
from libs.common.deadlines import horizon_of
from libs.common.figures import DeadlineFigures, day_start
from libs.common.jurisdiction import name_of
from libs.common.platform import install_deadline_watch
from libs.common.rollup_ops import over_whole_provinces
from libs.common.rollup_reads import period_slice
from libs.common.rollups import Rollup
from libs.common.scoping import jurisdiction_clause


class DeadlineWindow(StrEnum):
    """Which open clocks a figure counts, and the list behind it shows."""

    due_soon = "due_soon"
    missed = "missed"


DeadlineFilter = Annotated[
    DeadlineWindow | None,
    Query(
        description="only the records whose legal clock is due within the horizon (due_soon) "
        "or past due (missed), as `GET /v1/kpis` counts them in `deadlines`"
    ),
]


class WardClocks(NamedTuple):
    """The open clocks of one kind in one ward (None: a record not yet placed)."""

    ward_code: str | None
    due_soon: int
    missed: int


def _in_window(
    table: Table, window: DeadlineWindow, now: datetime, horizon: timedelta
) -> ColumnElement[bool]:
    due = table.c.due_at
    if window is DeadlineWindow.missed:
        return due < now
    return and_(due >= now, due <= now + horizon)


def records_in(
    table: Table,
    window: DeadlineWindow,
    *,
    record_type: str,
    kind: str,
    now: datetime,
    horizon: timedelta,
) -> Select[tuple[UUID]]:
    """The ids of the records whose ``kind`` clock is in ``window``: what a list filtered by
    ``deadline=`` keeps (``Record.id.in_(...)``), the same rows :func:`clocks_by_ward` counts."""
    return select(table.c.record_id).where(
        table.c.record_type == record_type,
        table.c.deadline_kind == kind,
        _in_window(table, window, now, horizon),
    )


def _clocks_per_ward(
    table: Table,
    *,
    record_type: str,
    kind: str,
    principal: Principal,
    ward_code: str | None,
    now: datetime,
    horizon: timedelta,
    since: datetime | None = None,
) -> Select[tuple[str | None, int, int]]:
    """Per ward, the open ``kind`` clocks of the caller's jurisdiction (and ``ward_code``) due
    by ``now + horizon`` (and from ``since``): how many are due from now on, how many missed."""
    t = table
    where = [
        t.c.record_type == record_type,
        t.c.deadline_kind == kind,
        t.c.due_at <= now + horizon,
        jurisdiction_clause(principal, t.c.ward_code, t.c.province_code),
    ]
    if since is not None:
        where.append(t.c.due_at >= since)
    if ward_code is not None:
        where.append(t.c.ward_code == ward_code)
    soon = func.count().filter(t.c.due_at >= now)
    missed = func.count().filter(t.c.due_at < now)
    return select(t.c.ward_code, soon, missed).where(*where).group_by(t.c.ward_code)


async def clocks_by_ward(
    session: AsyncSession,
    table: Table,
    *,
    record_type: str,
    kind: str,
    principal: Principal,
    ward_code: str | None,
    now: datetime,
    horizon: timedelta,
) -> list[WardClocks]:
    """The open ``kind`` clocks in the caller's jurisdiction (and ``ward_code``), per ward: due
    within ``horizon``, and missed. A record has one clock of a kind, so each counts once. Only
    the clocks due by ``now + horizon`` are read, through the caller's provinces or wards
    (``ix_deadline_watches_province_code_due``, ``..._ward_code_due``)."""
    query = _clocks_per_ward(
        table,
        record_type=record_type,
        kind=kind,
        principal=principal,
        ward_code=ward_code,
        now=now,
        horizon=horizon,
    )
    rows = await session.execute(query.order_by(table.c.ward_code.nulls_last()))
    return [WardClocks._make(row) for row in rows.all()]


def roll_up_open_clocks(metadata: MetaData) -> Rollup:
    """The open clocks of a service counted per due day (UTC), record type, clock kind, ward and
    province, kept by triggers on its ``deadline_watches`` (a watch is deleted when its record is
    settled, so every row counts an open clock): the rollup for the service's ``ROLLUPS``, its
    table put on the metadata, where :func:`deadline_figures` reads it."""
    watch = install_deadline_watch(metadata)
    assert metadata.schema is not None
    rollup = Rollup(
        schema=metadata.schema,
        name="open_clock_rollup",
        source="deadline_watches",
        keys=(
            ("record_type", String(40)),
            ("deadline_kind", String(40)),
            ("ward_code", String(10)),
            ("province_code", String(10)),
        ),
        counters=("clocks",),
        area_key="province_code",
        contribution=(
            "SELECT (r.due_at AT TIME ZONE 'UTC')::date, r.record_type, r.deadline_kind,"
            " r.ward_code, r.province_code, {sign} FROM {rows} AS r"
        ),
    )
    watch.rollup = rollup.table(metadata)
    return rollup


async def rolled_up_clocks_by_ward(
    session: AsyncSession,
    table: Table,
    rollup: Table,
    *,
    record_type: str,
    kind: str,
    principal: Principal,
    ward_code: str | None,
    now: datetime,
    horizon: timedelta,
) -> list[WardClocks]:
    """What :func:`clocks_by_ward` counts, with the clocks due before today summed from the
    ``rollup`` of ``table`` (:func:`roll_up_open_clocks`) and only those due from today's start
    to ``now + horizon`` read from the watches."""
    today = now.astimezone(UTC).date()
    before = period_slice(rollup, None, today)
    area = jurisdiction_clause(principal, before.c.ward_code, before.c.province_code)
    where = [before.c.record_type == record_type, before.c.deadline_kind == kind, area]
    if ward_code is not None:
        where.append(before.c.ward_code == ward_code)
    recent = _clocks_per_ward(
        table,
        record_type=record_type,
        kind=kind,
        principal=principal,
        ward_code=ward_code,
        now=now,
        horizon=horizon,
        since=day_start(today),
    )
    summed = (
        select(before.c.ward_code, literal(0).label("soon"), func.sum(before.c.clocks))
        .where(*where)
        .group_by(before.c.ward_code)
    )
    both = union_all(summed, recent).subquery("both")
    ward, soon, missed = both.c
    rows = await session.execute(
        select(ward, func.sum(soon).cast(BigInteger), func.sum(missed).cast(BigInteger))
        .group_by(ward)
        .having((func.sum(soon) > 0) | (func.sum(missed) > 0))
        .order_by(ward.nulls_last())
    )
    return [WardClocks._make(row) for row in rows.all()]


# --- what a service's /v1/kpis and lists use --------------------------------------------------


async def deadline_figures(
    ctx: Context[Any], *, record_type: str, kind: str, ward_code: str | None
) -> DeadlineFigures:
    horizon = horizon_of(ctx.settings.deadline_thresholds_days)
    watch, principal = ctx.deadlines, ctx.require_principal()
    asked: dict[str, Any] = dict(
        record_type=record_type,
        kind=kind,
        principal=principal,
        ward_code=ward_code,
        now=ctx.now,
        horizon=horizon,
    )
    rolled_up = getattr(ctx.settings, "kpi_rollups", False)
    if watch.rollup is not None and rolled_up and over_whole_provinces(principal, ward_code):
        rows = await rolled_up_clocks_by_ward(ctx.session, watch.table, watch.rollup, **asked)
    else:
        rows = await clocks_by_ward(ctx.session, watch.table, **asked)
    return DeadlineFigures(
        record_type=record_type,
        deadline_kind=kind,
        horizon_days=horizon / timedelta(days=1),
        due_soon=sum(r.due_soon for r in rows),
        missed=sum(r.missed for r in rows),
        # validated as dicts (pydantic-core builds the models: thousands of wards for a country)
        by_ward=[
            {
                "ward_code": ward,
                "ward_name": name_of(ward) if ward else None,
                "due_soon": soon,
                "missed": missed,
            }
            for ward, soon, missed in rows
        ],
    )


def in_window(
    ctx: Context[Any], window: DeadlineWindow | None, *, record_type: str, kind: str
) -> Select[tuple[UUID]] | None:
    """For a list's ``deadline=`` filter: the ids in ``window`` (None: no filter)."""
    if window is None:
        return None
    return records_in(
        ctx.deadlines.table,
        window,
        record_type=record_type,
        kind=kind,
        now=ctx.now,
        horizon=horizon_of(ctx.settings.deadline_thresholds_days),
    )
