"""case figures rolled up per day and month, and open cases indexed by stage deadline and area

``GET /v1/kpis`` over a province or the country sums ``case_rollup`` (per day and month, ward and
province: each cohort on the day its stage began), ``case_kind_rollup`` (per province: the
exploitation types and destination countries of the cases opened) and ``tip_ref_rollup`` (per day
of verification and the tip's ward: substantiated tips, and those whose case is initiated)
instead of counting a year of cases; triggers on ``cases`` and ``tip_refs`` keep them, and they
are filled here from a recount (``libs/common/rollups.py``). The overdue cases of now are read
through ``ix_cases_open_due_area`` (index-only: ward and province included).

Revision ID: 7c4d2e9a1f30
Revises: 90c125a5fcea
Create Date: 2026-12-06 02:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.casework.models import CASE_KIND_ROLLUP, CASE_ROLLUP, TIP_REF_ROLLUP, metadata

ROLLUPS = (CASE_ROLLUP, CASE_KIND_ROLLUP, TIP_REF_ROLLUP)  # those of this revision

revision: str = "7c4d2e9a1f30"
down_revision: str | None = "90c125a5fcea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.ddl(metadata):
            op.execute(statement)
    op.execute(
        "CREATE INDEX ix_cases_open_due_area ON casework.cases (stage_due_at)"
        " INCLUDE (ward_code, province_code) WHERE status <> 'closed'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS casework.ix_cases_open_due_area")
    for rollup in reversed(ROLLUPS):
        for statement in rollup.drop_ddl():
            op.execute(statement)
