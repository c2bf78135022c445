"""deadline watches of tips (DESIGN §11), and tips given to an officer (``tips.assignee``)

The open tips (received or triaged) get their watches here, as filing arms them from now on: the
tip's ``resolution``, and its ``extension_request`` (the last day to ask for the procuracy's
extension, 5 days before the deadline) unless that extension was already granted. Each is armed
when its clock was last set (the last extension granted, else the receipt), in the tip's ward and
province (none for a tip not yet located: classification places it and its watches).

``fire_at`` is the default first threshold, 5 days before each deadline: the migration cannot
read the worker's configured thresholds. With other ones configured, the worker's first look at a
watch puts it right (a later one fires when that moment comes; an earlier one is said then, late
once). A deadline already passed is said ``missed`` at the worker's first scan, once.

Revision ID: 3489a20c8611
Revises: a17e0f11e5d0
Create Date: 2026-12-05 11:41:26.323315
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3489a20c8611"
down_revision: str | None = "a17e0f11e5d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO intake.deadline_watches
    (record_type, record_id, deadline_kind, due_at, armed_at, fire_at, ward_code, province_code)
SELECT 'tip', t.id, clock.kind, clock.due_at, COALESCE(extended.at, t.received_at),
       clock.due_at - interval '5 days', t.incident_ward_code, t.province_code
FROM intake.tips t
LEFT JOIN LATERAL (
    SELECT max(e.granted_at) AS at FROM intake.tip_extensions e WHERE e.tip_id = t.id
) extended ON true
CROSS JOIN LATERAL (
    VALUES ('resolution', t.resolution_due_at),
           ('extension_request', t.resolution_due_at - interval '5 days')
) AS clock (kind, due_at)
WHERE t.status IN ('received', 'triaged')
  AND (clock.kind = 'resolution' OR NOT 'procuracy' = ANY (t.extensions))
"""


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
        schema="intake",
    )
    op.create_index(
        "ix_deadline_watches_fire_at",
        "deadline_watches",
        ["fire_at"],
        unique=False,
        schema="intake",
        postgresql_where=sa.text("fire_at IS NOT NULL"),
    )
    op.add_column(
        "tips", sa.Column("assignee", sa.String(length=200), nullable=True), schema="intake"
    )
    op.create_index(
        "ix_tips_assignee_received",
        "tips",
        ["assignee", sa.literal_column("received_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        schema="intake",
        postgresql_where=sa.text("assignee IS NOT NULL"),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index(
        "ix_tips_assignee_received",
        table_name="tips",
        schema="intake",
        postgresql_where=sa.text("assignee IS NOT NULL"),
    )
    op.drop_column("tips", "assignee", schema="intake")
    op.drop_index(
        "ix_deadline_watches_fire_at",
        table_name="deadline_watches",
        schema="intake",
        postgresql_where=sa.text("fire_at IS NOT NULL"),
    )
    op.drop_table("deadline_watches", schema="intake")
