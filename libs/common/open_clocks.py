"""The open legal clocks as the steering committee reads them (DESIGN §11, issue 18): per ward,
how many are due within the horizon and how many were missed, and the records behind each
figure. Both read a service's ``deadline_watches`` (``libs.common.deadlines``), one clock kind
per record type, so that a figure and the list it links to count the same rows:

* ``due_soon``: due between now and now + the horizon (the first reminder's threshold, 5 days);
* ``missed``: past due, the record still unresolved (a resolved record has no watch left).

Figures only: no record id leaves :func:`deadline_figures`; the ids are for the lists, which
scope them to the caller as they scope everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from sqlalchemy import ColumnElement, Select, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.context import Context
from libs.common.deadlines import horizon_of
from libs.common.figures import DeadlineFigures, WardDeadlines
from libs.common.jurisdiction import name_of
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


@dataclass(frozen=True)
class WardClocks:
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
    t = table
    where = [
        t.c.record_type == record_type,
        t.c.deadline_kind == kind,
        t.c.due_at <= now + horizon,
        jurisdiction_clause(principal, t.c.ward_code, t.c.province_code),
    ]
    if ward_code is not None:
        where.append(t.c.ward_code == ward_code)
    soon = func.count().filter(t.c.due_at >= now)
    missed = func.count().filter(t.c.due_at < now)
    rows = await session.execute(
        select(t.c.ward_code, soon, missed)
        .where(*where)
        .group_by(t.c.ward_code)
        .order_by(t.c.ward_code.nulls_last())
    )
    return [WardClocks(ward, n_soon, n_missed) for ward, n_soon, n_missed in rows.all()]


# --- what a service's /v1/kpis and lists use --------------------------------------------------


async def deadline_figures(
    ctx: Context[Any], *, record_type: str, kind: str, ward_code: str | None
) -> DeadlineFigures:
    horizon = horizon_of(ctx.settings.deadline_thresholds_days)
    rows = await clocks_by_ward(
        ctx.session,
        ctx.deadlines.table,
        record_type=record_type,
        kind=kind,
        principal=ctx.require_principal(),
        ward_code=ward_code,
        now=ctx.now,
        horizon=horizon,
    )
    return DeadlineFigures(
        record_type=record_type,
        deadline_kind=kind,
        horizon_days=horizon / timedelta(days=1),
        due_soon=sum(r.due_soon for r in rows),
        missed=sum(r.missed for r in rows),
        by_ward=[
            WardDeadlines(
                ward_code=r.ward_code,
                ward_name=name_of(r.ward_code) if r.ward_code else None,
                due_soon=r.due_soon,
                missed=r.missed,
            )
            for r in rows
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
