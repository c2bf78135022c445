"""Jurisdiction as a query condition: a record is visible where its ward or province is covered."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import InstrumentedAttribute

from libs.common.auth import Principal
from libs.common.jurisdiction import is_province_code


def jurisdiction_clause(
    principal: Principal,
    ward_column: InstrumentedAttribute[str | None] | InstrumentedAttribute[str],
    province_column: InstrumentedAttribute[str | None] | InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    provinces = [c for c in principal.jurisdiction if is_province_code(c)]
    wards = [c for c in principal.jurisdiction if not is_province_code(c)]
    conditions: list[ColumnElement[bool]] = []
    if provinces:
        conditions.append(province_column.in_(provinces))
    if wards:
        conditions.append(ward_column.in_(wards))
    return or_(*conditions) if conditions else false()
