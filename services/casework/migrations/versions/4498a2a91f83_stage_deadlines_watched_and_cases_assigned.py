"""stage deadlines watched (deadline_watches, with a watch for every open case whose stage has a
deadline) and cases assigned to an investigator (cases.assignee)

The backfill arms each watch as ``arm`` would, except its first ``fire_at``: the thresholds are
configuration (``deadline_thresholds_days``), which a migration does not read. ``fire_at`` is the
moment of the migration, so the worker's first scan meets every backfilled watch at once, signals
what is already due (a passed deadline is ``missed``) and schedules the rest by the thresholds in
force.

Revision ID: 4498a2a91f83
Revises: 8ec978f256ed
Create Date: 2026-12-05 11:33:01.734298
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4498a2a91f83"
down_revision: str | None = "8ec978f256ed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deadline_watches",
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.UUID(), nullable=False),
        sa.Column("deadline_kind", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("armed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_threshold_seconds", sa.Integer(), nullable=True),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ward_code", sa.String(length=10), nullable=True),
        sa.Column("province_code", sa.String(length=10), nullable=True),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint(
            "record_type", "record_id", "deadline_kind", name=op.f("pk_deadline_watches")
        ),
        schema="casework",
    )
    op.create_index(
        "ix_deadline_watches_fire_at",
        "deadline_watches",
        ["fire_at"],
        unique=False,
        schema="casework",
        postgresql_where=sa.text("fire_at IS NOT NULL"),
    )
    op.add_column(
        "cases", sa.Column("assignee", sa.String(length=200), nullable=True), schema="casework"
    )
    op.create_index(
        op.f("ix_casework_cases_assignee"), "cases", ["assignee"], unique=False, schema="casework"
    )
    op.execute(
        """
        INSERT INTO casework.deadline_watches (record_type, record_id, deadline_kind, due_at,
            armed_at, last_threshold_seconds, fire_at, ward_code, province_code, assignee)
        SELECT 'case', id, 'stage', stage_due_at, now(), NULL, now(), ward_code, province_code,
            NULL
        FROM casework.cases
        WHERE status <> 'closed' AND stage_due_at IS NOT NULL
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_casework_cases_assignee"), table_name="cases", schema="casework")
    op.drop_column("cases", "assignee", schema="casework")
    op.drop_index(
        "ix_deadline_watches_fire_at",
        table_name="deadline_watches",
        schema="casework",
        postgresql_where=sa.text("fire_at IS NOT NULL"),
    )
    op.drop_table("deadline_watches", schema="casework")
