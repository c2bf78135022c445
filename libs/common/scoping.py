"""Jurisdiction as a query condition: a record is visible where its ward or province is covered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import InstrumentedAttribute

from libs.common.auth import Principal
from libs.common.jurisdiction import is_province_code

# a mapped attribute, or a plain table's column (``deadline_watches``)
AreaColumn = InstrumentedAttribute[str | None] | InstrumentedAttribute[str] | ColumnElement[Any]


def jurisdiction_clause(
    principal: Principal, ward_column: AreaColumn, province_column: AreaColumn
) -> ColumnElement[bool]:
    provinces = [c for c in principal.jurisdiction if is_province_code(c)]
    wards = [c for c in principal.jurisdiction if not is_province_code(c)]
    conditions: list[ColumnElement[bool]] = []
    if provinces:
        conditions.append(province_column.in_(provinces))
    if wards:
        conditions.append(ward_column.in_(wards))
    return or_(*conditions) if conditions else false()
