"""victim figures rolled up per day and month, and presumed victims indexed by deadline

``GET /v1/kpis`` over a province or the country sums ``victim_rollup`` (per day and month of
reception, ward and province: received, decided, decided in time, identified, protected, with
needs, supported) and ``victim_kind_rollup`` (per province: the cohort by status, source and
exploitation type) instead of counting a year of victims; triggers on ``victims`` keep both, and
they are filled here from a recount (``libs/common/rollups.py``). The overdue of now (presumed
victims past their 3-day verification) is read through ``ix_victims_presumed_due`` (index-only:
reception, ward and province included).

Revision ID: a6c2e8f4d1b7
Revises: bd50b828e171
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.victim_support.models import VICTIM_KIND_ROLLUP, VICTIM_ROLLUP, metadata

revision: str = "a6c2e8f4d1b7"
down_revision: str | None = "bd50b828e171"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRESUMED = "status IN ('received', 'under_verification')"


def upgrade() -> None:
    for rollup in (VICTIM_ROLLUP, VICTIM_KIND_ROLLUP):
        for statement in rollup.ddl(metadata):
            op.execute(statement)
    op.execute(
        "CREATE INDEX ix_victims_presumed_due ON victim_support.victims (verification_due_at)"
        f" INCLUDE (received_at, ward_code, province_code) WHERE {PRESUMED}"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS victim_support.ix_victims_presumed_due")
    for rollup in (VICTIM_KIND_ROLLUP, VICTIM_ROLLUP):
        for statement in rollup.drop_ddl():
            op.execute(statement)
