"""The figures per ward (``libs.common.open_clocks``) read the deadline watches index-only: every
column of ``deadline_watches`` their statement touches is in the index it ranges over, through
the caller's provinces (``ix_deadline_watches_province_code_due``) or wards (``..._ward_code_due``).
A column left out of an index would send PostgreSQL to the table for every clock counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, MetaData, Table
from sqlalchemy.sql.visitors import iterate

from libs.common.auth import Principal
from libs.common.deadlines import deadline_watch_table
from libs.common.open_clocks import _clocks_per_ward


def _index_columns(table: Table, name: str) -> set[str]:
    (index,) = [i for i in table.indexes if i.name == name]
    keys = {c.name for c in index.columns}
    return keys | set(index.dialect_options["postgresql"]["include"] or ())


def _read_columns(table: Table, principal: Principal, ward_code: str | None) -> set[str]:
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    statement = _clocks_per_ward(
        table,
        record_type="tip",
        kind="resolution",
        principal=principal,
        ward_code=ward_code,
        now=now,
        horizon=timedelta(days=5),
        since=now.replace(hour=0),
    )
    return {
        element.name
        for element in iterate(statement)
        if isinstance(element, Column) and element.table is table
    }


@pytest.mark.parametrize(
    ("area", "jurisdiction", "ward_code"),
    [
        ("province_code", ("01", "79"), None),
        ("ward_code", ("00004", "26734"), None),
        ("province_code", ("01",), "00004"),  # a ward of the caller's provinces
    ],
)
def test_the_figures_per_ward_read_only_what_the_index_holds(
    area: str, jurisdiction: tuple[str, ...], ward_code: str | None
) -> None:
    table = deadline_watch_table(MetaData(schema="intake"))
    principal = Principal(sub="s", roles=frozenset({"supervisor"}), jurisdiction=jurisdiction)
    read = _read_columns(table, principal, ward_code)
    assert {"record_type", "deadline_kind", "due_at", "ward_code"} <= read
    held = _index_columns(table, f"ix_deadline_watches_{area}_due")
    assert read <= held, read - held
