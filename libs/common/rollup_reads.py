"""Reading the rollups of ``libs.common.rollups``: a period as a UNION ALL of index ranges of its
whole months, the days at its edges and the pending rows (:func:`period_slice`), and the sums per
ward and in all, ranked and cut in PostgreSQL (:func:`ward_sums`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, Subquery, Table, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from libs.common.rollups import DAY, MONTH


def period_slice(table: Table, first: date | None, after: date | None) -> Subquery:
    """The rows of a rollup ``table`` whose sum is the period [first, after) of whole days (None:
    unbounded), as a UNION ALL of index ranges (each an index-only scan of ``ix_*_read``): the
    folded months wholly inside it, the folded days before and after those months, and every
    pending row of a day inside it. Its columns: the table's keys and counters.

    A first month mostly inside the period is read as its folded month less its folded days
    before ``first`` (their counters negated): a year from the 6th reads 5 days a ward, not 26.
    The month and its days are folded by the same statement, so the difference is exact."""
    columns = [c for c in table.c if c.name not in ("grain", "period_start", "folded")]
    start = table.c.period_start

    def rows(grain: str | None, low: date | None, high: date | None, sign: int = 1) -> Select[Any]:
        where = [table.c.folded, table.c.grain == grain] if grain else [~table.c.folded]
        if low is not None:
            where.append(start >= low)
        if high is not None:
            where.append(start < high)
        counters = table.info["counters"]
        signed = [(-c).label(c.name) if sign < 0 and c.name in counters else c for c in columns]
        return select(*signed).where(*where)

    months_from = _first_month_from(first)
    months_to = date(after.year, after.month, 1) if after is not None else None
    parts = [rows(None, first, after)]
    if months_from is not None and months_to is not None and months_from >= months_to:
        parts.append(rows(DAY, first, after))
    else:
        parts.append(rows(MONTH, months_from, months_to))
        if first is not None and months_from is not None and first < months_from:
            month = first.replace(day=1)
            if (first - month).days + 1 < (months_from - first).days:  # fewer rows so
                parts += [rows(MONTH, month, months_from), rows(DAY, month, first, sign=-1)]
            else:
                parts.append(rows(DAY, first, months_from))
        if months_to is not None and (after is None or months_to < after):
            parts.append(rows(DAY, months_to, after))
    return union_all(*parts).subquery("period")


def _first_month_from(first: date | None) -> date | None:
    """The first month that begins on or after ``first``."""
    if first is None:
        return None
    if first.day == 1:
        return first
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@dataclass(frozen=True)
class WardSums:
    """A period's counters summed from a rollup keyed by ``ward_code``: over every row read
    (``total``), over the rows of no ward (``unplaced``), and per ward for the busiest wards
    (``wards``, most first, then by code)."""

    total: dict[str, int]
    unplaced: dict[str, int]
    wards: list[tuple[str, dict[str, int]]]


async def ward_sums(
    session: AsyncSession,
    period: Subquery,
    counters: Sequence[str],
    *,
    where: ColumnElement[bool],
    rank: str,
    limit: int,
) -> WardSums:
    """The sums of ``counters`` over the rows of ``period`` (a :func:`period_slice`) that
    ``where`` keeps, with the ``limit`` wards whose ``rank`` sum is largest (and above zero).
    PostgreSQL sums per ward and in all (``GROUP BY ROLLUP``), ranks and cuts, so that at most
    ``limit + 2`` rows come back whatever the number of wards."""
    ward = period.c.ward_code
    whole = func.grouping(ward)
    # Summed as int4 (a row counts one ward's day or month): PostgreSQL adds int4s in a plain
    # int8, bigints in a 128-bit state that it ends as a numeric (a country's year: ~15% less).
    summed = {c: func.sum(period.c[c].cast(Integer)) for c in counters}
    sums = [func.coalesce(summed[c], 0).cast(BigInteger) for c in counters]
    ranked = summed[rank]  # the same aggregate: PostgreSQL computes it once
    rows = await session.execute(
        select(whole, ward, *sums)
        .where(where)
        .group_by(func.rollup(ward))
        .having((whole == 1) | ward.is_(None) | (ranked > 0))
        # the total first, then the rows of no ward, then the wards by their rank
        .order_by(whole.desc(), ward.is_(None).desc(), ranked.desc(), ward)
        .limit(limit + 2)
    )
    total = dict.fromkeys(counters, 0)
    unplaced = dict.fromkeys(counters, 0)
    wards: list[tuple[str, dict[str, int]]] = []
    for is_whole, code, *values in rows.all():
        named = dict(zip(counters, values, strict=True))
        if is_whole:
            total = named
        elif code is None:
            unplaced = named
        else:
            wards.append((code, named))
    return WardSums(total, unplaced, wards[:limit])
