"""A plan figure: every ratio carries its numerator and denominator."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

_EARLIEST, _LATEST = date(2000, 1, 1), date(2100, 12, 31)
PeriodFrom = Annotated[
    date | None, Query(alias="from", ge=_EARLIEST, le=_LATEST, description="first day counted")
]
PeriodTo = Annotated[date | None, Query(ge=_EARLIEST, le=_LATEST, description="last day counted")]


class Figure(BaseModel):
    value: float | None = Field(description="numerator / denominator; null when nothing to count")
    numerator: int
    denominator: int


def ratio(numerator: int, denominator: int) -> Figure:
    return Figure(
        value=round(numerator / denominator, 4) if denominator else None,
        numerator=numerator,
        denominator=denominator,
    )


def day_start(day: date) -> datetime:
    """The first moment of a counted day (a period's ``from``, or the day after its ``to``)."""
    return datetime.combine(day, time.min, tzinfo=UTC)
