"""outbox NOTIFY from a trigger

Revision ID: 556809df8470
Revises: b78d74649397
Create Date: 2026-11-28 04:30:44.372344
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from libs.common.outbox import drop_notify_trigger_ddl, notify_trigger_ddl

revision: str = "556809df8470"
down_revision: str | None = "b78d74649397"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The relay is woken by a trigger instead of a pg_notify round trip from every writer.
    for statement in notify_trigger_ddl("victim_support"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_notify_trigger_ddl("victim_support"):
        op.execute(statement)
