"""deadline watches read index-only by area and due date

The figures per ward (``libs.common.open_clocks``) count the watches due by the horizon per ward
and record type, through ``(area, deadline_kind, due_at)``: the indexes now include the ward and
the record type, so that PostgreSQL reads them without visiting the table (a country's clocks due
from today to the horizon: a bitmap heap scan of ~4,000 pages, 20 ms, became an index-only scan).

Revision ID: 8b4e0f2a6c71
Revises: 5e1b7d9c4f3a
Create Date: 2026-12-07 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "8b4e0f2a6c71"
down_revision: str | None = "5e1b7d9c4f3a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "casework"
INCLUDES = {"province_code": ["ward_code", "record_type"], "ward_code": ["record_type"]}


def _index(area: str, include: list[str]) -> None:
    name = f"ix_deadline_watches_{area}_due"
    op.drop_index(name, table_name="deadline_watches", schema=SCHEMA)
    op.create_index(
        name,
        "deadline_watches",
        [area, "deadline_kind", "due_at"],
        schema=SCHEMA,
        postgresql_include=include,
    )


def upgrade() -> None:
    for area, include in INCLUDES.items():
        _index(area, include)


def downgrade() -> None:
    for area in INCLUDES:
        _index(area, [])
