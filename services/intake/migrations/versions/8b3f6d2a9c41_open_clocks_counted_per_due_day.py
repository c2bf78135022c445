"""open clocks counted per due day, ward and province

``GET /v1/kpis``'s ``deadlines`` (the resolution clocks of the open tips, per ward: due soon and
missed) sums the clocks due before today from ``open_clock_rollup`` (per due day and month) and
reads only those due from today to the horizon from ``deadline_watches``, instead of every open
clock missed since the first; triggers on ``deadline_watches`` keep it, and it is filled here
from a recount (``libs/common/open_clocks.py``, ``libs/common/rollups.py``). A province's
rows are read through ``ix_open_clock_rollup_area_read``, the country's through ``..._read``.

Revision ID: 8b3f6d2a9c41
Revises: 5e1a0c7d9b21
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.intake.models import CLOCK_ROLLUP, metadata

revision: str = "8b3f6d2a9c41"
down_revision: str | None = "5e1a0c7d9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in CLOCK_ROLLUP.ddl(metadata):
        op.execute(statement)


def downgrade() -> None:
    for statement in CLOCK_ROLLUP.drop_ddl():
        op.execute(statement)
