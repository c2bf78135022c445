"""open cases counted per day their stage is due

``GET /v1/kpis`` over whole provinces sums the overdue cases of now from ``open_case_rollup``
(open cases per due day and province) for the days before today, and counts only the cases due
from today's start through ``ix_cases_open_due_area``; triggers on ``cases`` keep it, and it is
filled here from a recount (``libs/common/rollups.py``).

Revision ID: ad5f1b3c7e94
Revises: 8b4e0f2a6c71
Create Date: 2026-12-07 06:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.casework.models import OPEN_CASE_ROLLUP, metadata

revision: str = "ad5f1b3c7e94"
down_revision: str | None = "8b4e0f2a6c71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in OPEN_CASE_ROLLUP.ddl(metadata):
        op.execute(statement)


def downgrade() -> None:
    for statement in OPEN_CASE_ROLLUP.drop_ddl():
        op.execute(statement)
