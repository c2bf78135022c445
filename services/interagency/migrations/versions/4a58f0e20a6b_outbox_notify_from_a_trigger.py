"""outbox NOTIFY from a trigger

Revision ID: 4a58f0e20a6b
Revises: 26b986c3c626
Create Date: 2026-11-28 04:30:46.424688
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from libs.common.outbox import drop_notify_trigger_ddl, notify_trigger_ddl

revision: str = "4a58f0e20a6b"
down_revision: str | None = "26b986c3c626"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The relay is woken by a trigger instead of a pg_notify round trip from every writer.
    for statement in notify_trigger_ddl("interagency"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_notify_trigger_ddl("interagency"):
        op.execute(statement)
