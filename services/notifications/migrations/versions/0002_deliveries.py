"""notifications' channels: e-mail and webhook deliveries, and the provinces' gateways

``deliveries`` holds each message to send until it is sent or kept as failed: one person's
notifications of a digest window (folded by ``digest_key``), a daily digest (``digest:<day>:<sub>``,
unique: once per person and day), or one notification for a province's gateway. The partial index
finds the pending ones due. ``channel_endpoints`` keeps each province's gateway, its secret
encrypted at rest.

Revision ID: 0002_deliveries
Revises: 0001_notifications
Create Date: 2026-12-05 11:40:18.168109
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_deliveries"
down_revision: str | None = "0001_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_endpoints",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("province_code", name=op.f("pk_channel_endpoints")),
        schema="notifications",
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column(
            "notification_ids",
            sa.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
        sa.Column("digest_key", sa.String(length=300), nullable=True),
        sa.Column("digest_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_scope", sa.ARRAY(sa.String(length=5)), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("replays", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook')", name=op.f("ck_deliveries_known_channel")
        ),
        sa.CheckConstraint("kind IN ('notices', 'digest')", name=op.f("ck_deliveries_known_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_deliveries_known_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("digest_key", name=op.f("uq_deliveries_digest_key")),
        schema="notifications",
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        unique=False,
        schema="notifications",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_deliveries_status_created",
        "deliveries",
        ["status", "created_at", "id"],
        unique=False,
        schema="notifications",
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_created", table_name="deliveries", schema="notifications")
    op.drop_index(
        "ix_deliveries_due",
        table_name="deliveries",
        schema="notifications",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("deliveries", schema="notifications")
    op.drop_table("channel_endpoints", schema="notifications")
