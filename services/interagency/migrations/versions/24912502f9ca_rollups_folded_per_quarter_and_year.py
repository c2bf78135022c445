"""rollups folded per quarter and year

Every rollup of interagency gets its quarters and years beside its days and months: a trigger on the
rollup table adds the pending rows that the fold deletes to their quarter and year
(``Rollup.coarser_ddl``), the triggers' functions are made again (a truncation's recount writes
every grain), and the quarters and years are summed here from the folded months. A read then
takes a year as one row per ward, not twelve months (``libs.common.rollup_reads.cover``).

Revision ID: 24912502f9ca
Revises: a1d3f5b7c9e2
Create Date: 2026-12-07 23:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.interagency.models import ALERT_ROLLUP, DELIVERY_ROLLUP

revision: str = "24912502f9ca"
down_revision: str | None = "a1d3f5b7c9e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = (
    ALERT_ROLLUP,
    DELIVERY_ROLLUP,
)


def upgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.add_coarser_sql():
            op.execute(statement)


def downgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.remove_coarser_sql():
            op.execute(statement)
