"""open tips counted per day of receipt, province and due day

``GET /v1/kpis``'s ``overdue`` and the period's overdue tips of now (the denominator of
``resolved_within_deadline_ratio``) over whole provinces sum the open tips due before today from
``open_tip_rollup`` and read only those due from today's start from ``tips``, instead of every
open tip overdue since the first; triggers on ``tips`` keep it, and it is filled here from a
recount (``libs/common/rollups.py``). A province's rows are read through
``ix_open_tip_rollup_area_read``.

Revision ID: 3c9e5b7a2d18
Revises: 8b3f6d2a9c41
Create Date: 2026-12-07 02:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.intake.models import OPEN_TIP_ROLLUP, metadata

revision: str = "3c9e5b7a2d18"
down_revision: str | None = "8b3f6d2a9c41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in OPEN_TIP_ROLLUP.ddl(metadata):
        op.execute(statement)


def downgrade() -> None:
    for statement in OPEN_TIP_ROLLUP.drop_ddl():
        op.execute(statement)
