"""rollups read per province through an index led by the province

The folded rows of ``tip_rollup`` and ``tip_kind_rollup`` get an index led by
``province_code`` (``Rollup.area_key``, ``ix_<rollup>_area_read``), so that a province's
``GET /v1/kpis`` reads its own rows instead of ranging over the whole country's. ``IF NOT
EXISTS``: on a new database the migration that made each rollup has built it already.

Revision ID: 4d0f6c8b3e29
Revises: 3c9e5b7a2d18
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.intake.models import TIP_KIND_ROLLUP, TIP_ROLLUP

revision: str = "4d0f6c8b3e29"
down_revision: str | None = "3c9e5b7a2d18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = (
    TIP_ROLLUP,
    TIP_KIND_ROLLUP,
)


def upgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.area_index_ddl():
            op.execute(statement)


def downgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.drop_area_index_ddl():
            op.execute(statement)
