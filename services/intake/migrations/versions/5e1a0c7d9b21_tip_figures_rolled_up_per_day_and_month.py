"""tip figures rolled up per day and month, and open tips indexed by deadline

``GET /v1/kpis`` over a province or the country sums ``tip_rollup`` (per day and month of
receipt, ward and province: received, classified, verified, resolved, on time, substantiated)
and ``tip_kind_rollup`` (per province: exploitation types and destination countries) instead of
counting a year of tips; triggers on ``tips`` keep both, and they are filled here from a recount
(``libs/common/rollups.py``). The figures of now (overdue, due soon) read only the open tips due
by the horizon, through ``ix_tips_open_due`` (index-only: receipt, ward and province included).

Revision ID: 5e1a0c7d9b21
Revises: 13d64f7d2bcf
Create Date: 2026-12-06 02:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.intake.models import TIP_KIND_ROLLUP, TIP_ROLLUP, metadata

revision: str = "5e1a0c7d9b21"
down_revision: str | None = "13d64f7d2bcf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('received', 'triaged')"


def upgrade() -> None:
    for rollup in (TIP_ROLLUP, TIP_KIND_ROLLUP):
        for statement in rollup.ddl(metadata):
            op.execute(statement)
    op.execute(
        "CREATE INDEX ix_tips_open_due ON intake.tips (resolution_due_at)"
        f" INCLUDE (received_at, incident_ward_code, province_code) WHERE {OPEN}"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS intake.ix_tips_open_due")
    for rollup in (TIP_KIND_ROLLUP, TIP_ROLLUP):
        for statement in rollup.drop_ddl():
            op.execute(statement)
