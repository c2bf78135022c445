"""receipt limits shared in PostgreSQL (rate_limits: an HMAC of the client, never an address)

Revision ID: 7b3e2c91d4a0
Revises: c2bd406fdd88
Create Date: 2026-12-04 16:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e2c91d4a0"
down_revision: str | None = "c2bd406fdd88"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(length=40), nullable=False),
        sa.Column("client", sa.String(length=32), nullable=False, comment="HMAC of the client key"),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "client", name=op.f("pk_rate_limits")),
        schema="intake",
    )
    op.create_index(
        "ix_intake_rate_limits_expires_at",
        "rate_limits",
        ["expires_at"],
        unique=False,
        schema="intake",
    )


def downgrade() -> None:
    op.drop_index("ix_intake_rate_limits_expires_at", table_name="rate_limits", schema="intake")
    op.drop_table("rate_limits", schema="intake")
