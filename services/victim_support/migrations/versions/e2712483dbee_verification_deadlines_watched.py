"""verification deadlines watched (deadline_watches, with a watch for every person still
received or under verification: Law 53/2024 Art. 27, 3 days from reception)

The backfill arms each watch as ``arm`` would, except its first ``fire_at``: the thresholds are
configuration (``deadline_thresholds_days``), which a migration does not read. ``fire_at`` is the
moment of the migration, so the worker's first scan meets every backfilled watch at once, signals
what is already due (a passed deadline is ``missed``) and schedules the rest by the thresholds in
force.

Revision ID: e2712483dbee
Revises: a7c3e9d2f4b1
Create Date: 2026-12-05 11:33:02.064169
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2712483dbee"
down_revision: str | None = "a7c3e9d2f4b1"
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
        schema="victim_support",
    )
    op.create_index(
        "ix_deadline_watches_fire_at",
        "deadline_watches",
        ["fire_at"],
        unique=False,
        schema="victim_support",
        postgresql_where=sa.text("fire_at IS NOT NULL"),
    )
    op.execute(
        """
        INSERT INTO victim_support.deadline_watches (record_type, record_id, deadline_kind,
            due_at, armed_at, last_threshold_seconds, fire_at, ward_code, province_code,
            assignee)
        SELECT 'victim', id, 'verification', verification_due_at, now(), NULL, now(), ward_code,
            province_code, NULL
        FROM victim_support.victims
        WHERE status IN ('received', 'under_verification')
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_index(
        "ix_deadline_watches_fire_at",
        table_name="deadline_watches",
        schema="victim_support",
        postgresql_where=sa.text("fire_at IS NOT NULL"),
    )
    op.drop_table("deadline_watches", schema="victim_support")
