"""Intake's figure queries (``GET /v1/kpis``): counts over the tips, and sums over their daily
rollups (``TIP_ROLLUP``, ``TIP_KIND_ROLLUP``, ``OPEN_TIP_ROLLUP``, kept by triggers:
libs/common/rollups.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.figures import day_start, tally
from libs.common.rollup_reads import period_slice, ward_sums
from libs.common.scoping import jurisdiction_clause
from services.intake.domain import DUE_SOON
from services.intake.models import (
    MissingPerson,
    Tip,
    open_tip_rollup,
    tip_kind_rollup,
    tip_rollup,
)
from services.intake.repository import OPEN_TIP, missing_person_scope


def figure_conditions(
    principal: Principal,
    *,
    counts_unlocated: bool,
    ward_code: str | None,
    start: datetime | None,
    end: datetime | None,
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """What the figures count: the area's tips, those received in the period, and the area's
    missing-person reports made in the period."""
    where = jurisdiction_clause(principal, Tip.incident_ward_code, Tip.province_code)
    if counts_unlocated:
        where = or_(where, Tip.incident_ward_code.is_(None))
    area: list[ColumnElement[bool]] = [where]
    reports: list[ColumnElement[bool]] = [missing_person_scope(principal)]
    if ward_code:
        area.append(Tip.incident_ward_code == ward_code)
        reports.append(MissingPerson.last_seen_ward_code == ward_code)
    tips = list(area)
    if start is not None:
        tips.append(Tip.received_at >= start)
        reports.append(MissingPerson.reported_at >= start)
    if end is not None:
        tips.append(Tip.received_at < end)
        reports.append(MissingPerson.reported_at < end)
    return area, tips, reports


HOTSPOT_WARDS = 100  # the wards with the most tips, most first (then by code)


async def counted_tip_figures(
    session: AsyncSession, conditions: list[ColumnElement[bool]], now: datetime
) -> tuple[dict[str, int], dict[str, Any]]:
    """The counters and the hotspots of the tips that ``conditions`` select (a period's), counted
    over the tips in two reads of them instead of five: the counters, the wards and the
    destination countries in one pass (:func:`tally`), the exploitation types in another (a tip
    counts once for each type it lists); a ward's, index-only (``ix_tips_ward_received`` holds
    every column counted here). What :func:`rolled_up_tip_figures` sums from the
    rollups, plus ``overdue``: the tips received in the period that are open past their
    deadline."""
    counted = await tally(
        session,
        {
            "received": [],
            "classified": [Tip.classified_at.is_not(None)],
            "verified": [Tip.verified_at.is_not(None)],
            "resolved": [Tip.resolved_at.is_not(None)],
            "on_time": [Tip.resolved_at <= Tip.resolution_due_at],
            "overdue": [OPEN_TIP, Tip.resolution_due_at < now],
            "substantiated": [Tip.verification_outcome == "substantiated"],
        },
        keys=(Tip.incident_ward_code, Tip.destination_country),
        where=conditions,
    )
    per_ward = counted.per[0]
    unplaced = per_ward.get(None, {"received": 0, "substantiated": 0})  # until triage places them
    kind = func.unnest(Tip.exploitation_types).label("kind")
    types = await session.execute(select(kind, func.count()).where(*conditions).group_by(kind))
    hotspots = {
        "by_ward": [
            {"ward_code": w, "tips": n, "substantiated": per_ward[w]["substantiated"]}
            for w, n in counted.ranked(0, "received", HOTSPOT_WARDS)
        ],
        "unplaced": {"tips": unplaced["received"], "substantiated": unplaced["substantiated"]},
        "by_exploitation_type": dict(
            sorted(((v, n) for v, n in types), key=lambda vn: (-vn[1], vn[0]))
        ),
        "by_destination_country": dict(counted.ranked(1, "received")),
    }
    return counted.total, hotspots


async def open_tip_counts(
    session: AsyncSession, area: list[ColumnElement[bool]], now: datetime
) -> dict[str, int]:
    """The area's open tips overdue and due soon, now: read from the open tips alone
    (``ix_tips_open_ward_received`` for a ward)."""
    row = (
        await session.execute(
            select(
                func.count().filter(Tip.resolution_due_at < now),
                func.count().filter(
                    Tip.resolution_due_at >= now, Tip.resolution_due_at <= now + DUE_SOON
                ),
            ).where(*area, OPEN_TIP)
        )
    ).one()
    return {"overdue": int(row[0]), "due_soon": int(row[1])}


async def missing_person_figures(
    session: AsyncSession, conditions: list[ColumnElement[bool]]
) -> tuple[int, int]:
    row = (
        await session.execute(
            select(func.count(), func.count().filter(MissingPerson.status == "open")).where(
                *conditions
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def rolled_up_tip_figures(
    session: AsyncSession,
    principal: Principal,
    *,
    counts_unlocated: bool,
    first: date | None,
    after: date | None,
) -> tuple[dict[str, int], dict[str, Any]]:
    """The counters and the hotspots of the tips received in [first, after) in the caller's
    provinces (and the unplaced tips when it counts them), summed from the rollups: what
    :func:`tip_figures` (all but the figures of now) and :func:`tip_hotspots` count."""
    rollup = period_slice(tip_rollup, first, after)
    kinds = period_slice(tip_kind_rollup, first, after)
    provinces = list(principal.jurisdiction)
    area: ColumnElement[bool] = rollup.c.province_code.in_(provinces)
    kinds_area: ColumnElement[bool] = kinds.c.province_code.in_(provinces)
    if counts_unlocated:
        area = or_(area, rollup.c.ward_code.is_(None))
        kinds_area = or_(kinds_area, kinds.c.unplaced)
    counters = ("received", "classified", "verified", "resolved", "on_time", "substantiated")
    sums = await ward_sums(
        session, rollup, counters, where=area, rank="received", limit=HOTSPOT_WARDS
    )
    per_kind = await session.execute(
        select(kinds.c.kind, kinds.c.value, func.sum(kinds.c.tips))
        .where(kinds_area)
        .group_by(kinds.c.kind, kinds.c.value)
        .order_by(func.sum(kinds.c.tips).desc(), kinds.c.value)
    )
    by_kind: dict[str, dict[str, int]] = {"type": {}, "country": {}}
    for kind, value, n in per_kind.all():
        if n:
            by_kind[kind][value] = int(n)
    hotspots = {
        "by_ward": [
            {"ward_code": w, "tips": n["received"], "substantiated": n["substantiated"]}
            for w, n in sums.wards
        ],
        "unplaced": {
            "tips": sums.unplaced["received"],
            "substantiated": sums.unplaced["substantiated"],
        },
        "by_exploitation_type": by_kind["type"],
        "by_destination_country": by_kind["country"],
    }
    return sums.total, hotspots


async def open_tip_figures(
    session: AsyncSession,
    principal: Principal,
    *,
    counts_unlocated: bool,
    area: list[ColumnElement[bool]],
    period: tuple[datetime | None, datetime | None],
    now: datetime,
) -> dict[str, int]:
    """The figures of now over whole provinces: the area's open tips overdue and due soon, and
    those received in the period and overdue. The tips due before today are summed from
    ``open_tip_rollup``; only those due from today's start to the horizon are read from the tips
    (``ix_tips_open_due``), in the same statement."""
    start, end = period
    today = now.astimezone(UTC).date()
    provinces = list(principal.jurisdiction)

    def due_before_today(first: date | None, after: date | None) -> ScalarSelect[Any]:
        rows = period_slice(open_tip_rollup, first, after)
        where: ColumnElement[bool] = rows.c.province_code.in_(provinces)
        if counts_unlocated:
            where = or_(where, rows.c.unplaced)
        summed = func.coalesce(func.sum(rows.c.tips), 0)
        return select(summed).where(where, rows.c.due_on < today).scalar_subquery()

    received: list[ColumnElement[bool]] = []
    if start is not None:
        received.append(Tip.received_at >= start)
    if end is not None:
        received.append(Tip.received_at < end)
    late = Tip.resolution_due_at < now
    row = (
        await session.execute(
            select(
                func.count().filter(late, *received)
                + due_before_today(start.date() if start else None, end.date() if end else None),
                func.count().filter(late) + due_before_today(None, None),
                func.count().filter(Tip.resolution_due_at >= now),
            ).where(
                *area,
                OPEN_TIP,
                Tip.resolution_due_at >= day_start(today),
                Tip.resolution_due_at <= now + DUE_SOON,
            )
        )
    ).one()
    return {
        key: int(n) for key, n in zip(("overdue_received", "overdue", "due_soon"), row, strict=True)
    }
