"""A plan figure (DESIGN.md section 10): every ratio carries its numerator and denominator."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
