"""outbox NOTIFY from a trigger

Revision ID: b45eb1d8b6cf
Revises: bc77492eea17
Create Date: 2026-11-28 04:30:48.464287
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from libs.common.outbox import drop_notify_trigger_ddl, notify_trigger_ddl

revision: str = "b45eb1d8b6cf"
down_revision: str | None = "bc77492eea17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The relay is woken by a trigger instead of a pg_notify round trip from every writer.
    for statement in notify_trigger_ddl("outreach"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_notify_trigger_ddl("outreach"):
        op.execute(statement)
