"""alert and delivery figures rolled up per day and month

``GET /v1/kpis`` sums ``alert_rollup`` (alerts per day of creation, direction, type and partner)
and ``delivery_rollup`` (deliveries per day of their alert's creation, status and partner)
instead of counting a year of alerts and joining their deliveries; triggers on ``alerts`` and
``deliveries`` keep them, and they are filled here from a recount (``libs/common/rollups.py``).

Revision ID: a1d3f5b7c9e2
Revises: 7b3e1c9d2f40
Create Date: 2026-12-07 05:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.interagency.models import ALERT_ROLLUP, DELIVERY_ROLLUP, metadata

ROLLUPS = (ALERT_ROLLUP, DELIVERY_ROLLUP)  # those of this revision

revision: str = "a1d3f5b7c9e2"
down_revision: str | None = "7b3e1c9d2f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.ddl(metadata):
            op.execute(statement)


def downgrade() -> None:
    for rollup in reversed(ROLLUPS):
        for statement in rollup.drop_ddl():
            op.execute(statement)
