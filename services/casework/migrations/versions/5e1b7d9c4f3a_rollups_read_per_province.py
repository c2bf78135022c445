"""rollups read per province through an index led by the province

The folded rows of ``case_rollup``, ``case_kind_rollup`` and ``tip_ref_rollup`` get an index led by
``province_code`` (``Rollup.area_key``, ``ix_<rollup>_area_read``), so that a province's
``GET /v1/kpis`` reads its own rows instead of ranging over the whole country's. ``IF NOT
EXISTS``: on a new database the migration that made each rollup has built it already.

Revision ID: 5e1b7d9c4f3a
Revises: 9d4e7a1c3b52
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.casework.models import CASE_KIND_ROLLUP, CASE_ROLLUP, TIP_REF_ROLLUP

revision: str = "5e1b7d9c4f3a"
down_revision: str | None = "9d4e7a1c3b52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = (
    CASE_ROLLUP,
    CASE_KIND_ROLLUP,
    TIP_REF_ROLLUP,
)


def upgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.area_index_ddl():
            op.execute(statement)


def downgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.drop_area_index_ddl():
            op.execute(statement)
