"""notification figures rolled up per day and month

``GET /v1/kpis`` over whole provinces sums ``notification_rollup`` (per day of creation, province
and kind: the notifications created and those read) instead of counting a year of notifications;
triggers on ``notifications`` keep it, and it is filled here from a recount
(``libs/common/rollups.py``).

Revision ID: 0003_notification_rollup
Revises: 0002_deliveries
Create Date: 2026-12-07 06:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.notifications.models import NOTIFICATION_ROLLUP, metadata

revision: str = "0003_notification_rollup"
down_revision: str | None = "0002_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in NOTIFICATION_ROLLUP.ddl(metadata):
        op.execute(statement)


def downgrade() -> None:
    for statement in NOTIFICATION_ROLLUP.drop_ddl():
        op.execute(statement)
