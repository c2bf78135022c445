"""rollups folded per quarter and year

Every rollup of casework gets its quarters and years beside its days and months: a trigger on the
rollup table adds the pending rows that the fold deletes to their quarter and year
(``Rollup.coarser_ddl``), the triggers' functions are made again (a truncation's recount writes
every grain), and the quarters and years are summed here from the folded months. A read then
takes a year as one row per ward, not twelve months (``libs.common.rollup_reads.cover``).

Revision ID: 1a23c9cf23f5
Revises: c4d8e2f6a1b9
Create Date: 2026-12-07 23:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.casework.models import (
    CASE_KIND_ROLLUP,
    CASE_ROLLUP,
    CLOCK_ROLLUP,
    OPEN_CASE_ROLLUP,
    TIP_REF_ROLLUP,
)

revision: str = "1a23c9cf23f5"
down_revision: str | None = "c4d8e2f6a1b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = (
    CASE_ROLLUP,
    CASE_KIND_ROLLUP,
    TIP_REF_ROLLUP,
    OPEN_CASE_ROLLUP,
    CLOCK_ROLLUP,
)


def upgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.add_coarser_sql():
            op.execute(statement)


def downgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.remove_coarser_sql():
            op.execute(statement)
