"""rollups read per province through an index led by the province

The folded rows of ``victim_rollup`` and ``victim_kind_rollup`` get an index led by
``province_code`` (``Rollup.area_key``, ``ix_<rollup>_area_read``), so that a province's
``GET /v1/kpis`` reads its own rows instead of ranging over the whole country's. ``IF NOT
EXISTS``: on a new database the migration that made each rollup has built it already.

Revision ID: 6f2c8e0d5a4b
Revises: a6c2e8f4d1b7
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.victim_support.models import VICTIM_KIND_ROLLUP, VICTIM_ROLLUP

revision: str = "6f2c8e0d5a4b"
down_revision: str | None = "a6c2e8f4d1b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = (
    VICTIM_ROLLUP,
    VICTIM_KIND_ROLLUP,
)


def upgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.area_index_ddl():
            op.execute(statement)


def downgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.drop_area_index_ddl():
            op.execute(statement)
