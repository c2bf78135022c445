"""open clocks counted per due day, ward and province

``GET /v1/kpis``'s ``deadlines`` (the stage clocks of the open cases, per ward: due soon and
missed) sums the clocks due before today from ``open_clock_rollup`` (per due day and month) and
reads only those due from today to the horizon from ``deadline_watches``, instead of every open
clock missed since the first; triggers on ``deadline_watches`` keep it, and it is filled here
from a recount (``libs/common/open_clocks.py``, ``libs/common/rollups.py``). A province's
rows are read through ``ix_open_clock_rollup_area_read``, the country's through ``..._read``.

Revision ID: 9d4e7a1c3b52
Revises: 7c4d2e9a1f30
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.casework.models import CLOCK_ROLLUP, metadata

revision: str = "9d4e7a1c3b52"
down_revision: str | None = "7c4d2e9a1f30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in CLOCK_ROLLUP.ddl(metadata):
        op.execute(statement)


def downgrade() -> None:
    for statement in CLOCK_ROLLUP.drop_ddl():
        op.execute(statement)
