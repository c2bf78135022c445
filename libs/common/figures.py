"""A plan figure: every ratio carries its numerator and denominator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from typing_extensions import TypedDict

from libs.common.context import Context
from libs.common.errors import Forbidden

_EARLIEST, _LATEST = date(2000, 1, 1), date(2100, 12, 31)
PeriodFrom = Annotated[
    date | None, Query(alias="from", ge=_EARLIEST, le=_LATEST, description="first day counted")
]
PeriodTo = Annotated[date | None, Query(ge=_EARLIEST, le=_LATEST, description="last day counted")]
ProvinceFilter = Annotated[
    str | None,
    Query(
        pattern=r"^\d{2}$",
        description="only this province of the caller's jurisdiction: the figures a supervisor "
        "of that province alone would see (the plan report of one province)",
    ),
]
C = TypeVar("C", bound=Context[Any])


# Figures per ward are dictionaries, not models: pydantic-core validates a country's 3,321 of them
# in a third to a quarter of the time it takes to build as many model instances (outreach's
# coverage: 48 -> 11 ms); the schema is the same either way.
class Figure(TypedDict):
    value: Annotated[
        float | None, Field(description="numerator / denominator; null when nothing to count")
    ]
    numerator: int
    denominator: int


class WardDeadlines(TypedDict):
    ward_code: Annotated[
        str | None, Field(description="null: records not yet placed in a ward (tips)")
    ]
    ward_name: Annotated[
        str | None, Field(description="the ward's name, as the administrative list has it")
    ]
    due_soon: Annotated[int, Field(description="open, due between now and now + horizon_days")]
    missed: Annotated[int, Field(description="open, past due")]


class DeadlineFigures(BaseModel):
    """The open legal clocks of now, whatever the period: counts only, one per record (its
    ``deadline_kind`` clock), in the caller's jurisdiction and the ward asked for. Each figure
    is listed by the service's list with ``deadline=due_soon|missed`` and ``ward_code``."""

    record_type: str = Field(description="tip, case or victim")
    deadline_kind: str = Field(description="the clock counted: resolution, stage, verification")
    horizon_days: float = Field(description="how far ahead due_soon looks (the first reminder)")
    due_soon: int
    missed: int
    by_ward: list[WardDeadlines] = Field(description="wards with a clock due soon or missed")


def ratio(numerator: int, denominator: int) -> Figure:
    """Two counts and their quotient (null when nothing is counted), to four decimals."""
    return {
        "value": round(numerator / denominator, 4) if denominator else None,
        "numerator": int(numerator),
        "denominator": int(denominator),
    }


def day_start(day: date) -> datetime:
    """The first moment of a counted day (a period's ``from``, or the day after its ``to``)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


async def plan_for_these_values(session: AsyncSession) -> None:
    """Plan every statement of the rest of the transaction for the values it is sent with.

    asyncpg prepares each statement, and after five executions PostgreSQL may keep a generic
    plan, made without the values: the same plan for a year of the whole country and for one
    ward's quarter, although one reads most of a table and the other a few hundred rows through
    an index. A figure's statement runs once per request, so planning it each time costs less
    than a plan that ignores the period's and the ward's selectivity. ``SET LOCAL``: it ends
    with the request's transaction, and the connection goes back to the pool as it was.
    """
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def within_province(ctx: C, province_code: str | None) -> C:
    """``ctx`` with its caller narrowed to ``province_code``, which must be in their
    jurisdiction: every figure after it is scoped as a supervisor of that province alone is
    (None: the whole jurisdiction, unchanged)."""
    if province_code is None:
        return ctx
    principal = ctx.require_principal()
    if not principal.covers(province_code):
        raise Forbidden("that province is outside your jurisdiction")
    return replace(ctx, principal=replace(principal, jurisdiction=(province_code,)))


@dataclass(frozen=True)
class Tally:
    """Counts of rows: over them all (``total``), and per value of each key (``per``, in the
    order of the keys: value → counters)."""

    total: dict[str, int]
    per: tuple[dict[Any, dict[str, int]], ...]

    def ranked(self, key: int, by: str, limit: int | None = None) -> list[tuple[Any, int]]:
        """The values of one key (but none) whose ``by`` count is above zero, with it: most
        first, then by value; the first ``limit``."""
        counted = [(v, c[by]) for v, c in self.per[key].items() if v is not None and c[by]]
        return sorted(counted, key=lambda vc: (-vc[1], vc[0]))[:limit]


async def tally(
    session: AsyncSession,
    counters: Mapping[str, Sequence[ColumnElement[bool]]],
    keys: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
    where: Sequence[ColumnElement[bool]],
) -> Tally:
    """Count the rows ``where`` keeps in one pass over them (``GROUPING SETS``): each counter
    counts the rows that meet all its conditions (none: every row), over all the rows and per
    value of each key."""
    counts = [func.count().filter(*c) if c else func.count() for c in counters.values()]
    rows = await session.execute(
        select(func.grouping(*keys), *keys, *counts)
        .where(*where)
        .group_by(func.grouping_sets(text("()"), *keys))
    )
    last = len(keys) - 1
    total = dict.fromkeys(counters, 0)
    per: tuple[dict[Any, dict[str, int]], ...] = tuple({} for _ in keys)
    for aggregated, *values in rows.all():  # a bit per key, the first key's the highest
        named = dict(zip(counters, values[len(keys) :], strict=True))
        grouped = [i for i in range(len(keys)) if not aggregated >> (last - i) & 1]
        if grouped:
            per[grouped[0]][values[grouped[0]]] = named
        else:
            total = named
    return Tally(total, per)
