"""Reading the rollups of ``libs.common.rollups``: a period as a UNION ALL of index ranges of the
fewest whole years, quarters, months and days that add up to it, and the pending rows
(:func:`period_slice`), and the sums per ward and in all, ranked and cut in PostgreSQL
(:func:`ward_sums`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Integer, Select, Subquery, Table, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from libs.common.rollups import DAY, MONTH, QUARTER, YEAR


def period_slice(
    table: Table, first: date | None, after: date | None, *, today: date | None = None
) -> Subquery:
    """The rows of a rollup ``table`` whose sum is the period [first, after) of whole days (None:
    unbounded), as a UNION ALL of index ranges (each an index-only scan of ``ix_*_read``): the
    folded rows of the fewest periods, at the four grains, that add up to it (:func:`cover`),
    and every pending row of a day inside it. Its columns: the table's keys and counters.

    A period is read as its whole years, quarters and months, and the days at its edges; an
    edge mostly inside a year, quarter or month is read as that period less the days (or months)
    outside (their counters negated): a year from the 7th of December reads December less its
    first six days, then the next year less its days to come, which a rollup of days already past
    (``past_days``) does not have. Every grain is folded by the same statement, so the
    differences are exact. ``today``: from which day the days to come begin (UTC now)."""
    columns = [c for c in table.c if c.name not in ("grain", "period_start", "folded")]
    start = table.c.period_start
    counters = table.info["counters"]

    def rows(grain: str | None, low: date | None, high: date | None, sign: int = 1) -> Select[Any]:
        where = [table.c.folded, table.c.grain == grain] if grain else [~table.c.folded]
        if low is not None:
            where.append(start >= low)
        if high is not None:
            where.append(start < high)
        signed = [(-c).label(c.name) if sign < 0 and c.name in counters else c for c in columns]
        return select(*signed).where(*where)

    empty_from = None
    if table.info.get("past_days"):
        empty_from = (today or datetime.now(UTC).date()) + timedelta(days=1)
    parts = [rows(None, first, after)]
    parts += [rows(*part) for part in cover(first, after, empty_from=empty_from)]
    return union_all(*parts).subquery("period")


# -- which periods add up to a period --------------------------------------------------------------

GRAINS = (DAY, MONTH, QUARTER, YEAR)  # finest first
_MONTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}
_RANGE_COST = 0.5  # an index range costs a descent, whatever its rows


class Part(NamedTuple):
    """The folded rows of ``grain`` whose periods start in [low, high), counted with ``sign``."""

    grain: str
    low: date | None
    high: date | None
    sign: int


def _floor(grain: str, day: date) -> date:
    if grain == DAY:
        return day
    month = (day.month - 1) // _MONTHS[grain] * _MONTHS[grain] + 1
    return date(day.year, month, 1)


def _next(grain: str, start: date) -> date:
    if grain == DAY:
        return start + timedelta(days=1)
    months = start.year * 12 + start.month - 1 + _MONTHS[grain]
    return date(months // 12, months % 12 + 1, 1)


def _ceil(grain: str, day: date) -> date:
    floor = _floor(grain, day)
    return floor if floor == day else _next(grain, floor)


def _units(grain: str, low: date, high: date, empty_from: date | None) -> int:
    """How many periods of ``grain`` start in [low, high) before ``empty_from``."""
    if empty_from is not None:
        high = min(high, _ceil(grain, empty_from))
    if high <= low:
        return 0
    if grain == DAY:
        return (high - low).days
    months = (high.year - low.year) * 12 + high.month - low.month
    return months // _MONTHS[grain]


_Plan = tuple[float, tuple[Part, ...]]


def _negated(plan: _Plan) -> _Plan:
    cost, parts = plan
    return cost, tuple(p._replace(sign=-p.sign) for p in parts)


def _joined(*plans: _Plan) -> _Plan:
    return sum(c for c, _ in plans), tuple(p for _, parts in plans for p in parts)


def _cheaper(*plans: _Plan) -> _Plan:
    return min(plans, key=lambda plan: plan[0])


def _range(grain: str, low: date, high: date, empty_from: date | None) -> _Plan:
    if high <= low:
        return 0.0, ()
    return _units(grain, low, high, empty_from) + _RANGE_COST, (Part(grain, low, high, 1),)


@lru_cache(maxsize=4096)
def _cover(first: date, after: date, level: int, empty_from: date | None) -> _Plan:
    """The cheapest sum of whole periods of ``GRAINS[:level + 1]`` that is [first, after)."""
    if after <= first:
        return 0.0, ()
    grain = GRAINS[level]
    if level == 0:
        return _range(DAY, first, after, empty_from)

    def finer(low: date, high: date) -> _Plan:
        return _cover(low, high, level - 1, empty_from)

    def whole(low: date, high: date) -> _Plan:
        return _range(grain, low, high, empty_from)

    low, high = _ceil(grain, first), _floor(grain, after)
    if low > high:  # inside one period of this grain: its days, or the period less the rest
        begin = _floor(grain, first)
        end = _next(grain, begin)
        less = _joined(
            whole(begin, end), _negated(finer(begin, first)), _negated(finer(after, end))
        )
        return _cheaper(finer(first, after), less)
    plans = [whole(low, high)]
    if first < low:  # the head: its days, or its whole period less the days before first
        begin = _floor(grain, first)
        less = _joined(whole(begin, low), _negated(finer(begin, first)))
        plans.append(_cheaper(finer(first, low), less))
    if high < after:  # the tail: its days, or its whole period less the days from after
        end = _next(grain, high)
        less = _joined(whole(high, end), _negated(finer(after, end)))
        plans.append(_cheaper(finer(high, after), less))
    return _joined(*plans)


def cover(first: date | None, after: date | None, *, empty_from: date | None = None) -> list[Part]:
    """The folded periods whose signed sum is [first, after) (None: unbounded), as few rows as
    may be: each period counts one row (per key), each range one descent, and the periods from
    ``empty_from`` on none (a rollup of days already past has none). Adjacent ranges of one
    grain and sign are joined."""
    top = len(GRAINS) - 1
    if first is None and after is None:
        parts: tuple[Part, ...] = (Part(YEAR, None, None, 1),)
    elif first is None:
        assert after is not None
        begin, end = _floor(YEAR, after), _ceil(YEAR, after)
        plus = _joined(
            (_RANGE_COST, (Part(YEAR, None, begin, 1),)), _cover(begin, after, top, empty_from)
        )
        less = _joined(
            (_RANGE_COST, (Part(YEAR, None, end, 1),)),
            _negated(_cover(after, end, top, empty_from)),
        )
        parts = _cheaper(plus, less)[1]
    elif after is None:
        begin, end = _floor(YEAR, first), _ceil(YEAR, first)
        plus = _joined(
            _cover(first, end, top, empty_from), (_RANGE_COST, (Part(YEAR, end, None, 1),))
        )
        less = _joined(
            (_RANGE_COST, (Part(YEAR, begin, None, 1),)),
            _negated(_cover(begin, first, top, empty_from)),
        )
        parts = _cheaper(plus, less)[1]
    else:
        parts = _cover(first, after, top, empty_from)[1]
    joined: list[Part] = []
    for part in sorted(parts, key=lambda p: (p.grain, p.sign, p.low or date.min)):
        last = joined[-1] if joined else None
        if last and (last.grain, last.sign) == (part.grain, part.sign) and last.high == part.low:
            joined[-1] = last._replace(high=part.high)
        else:
            joined.append(part)
    return joined


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
