"""idempotency records: old unkeyed rows dropped, response nullable, created_at indexed

Rows written before this release are scoped by an unkeyed SHA-256 of method, path and caller (a
receipt code in a path can be found offline) and some hold partner secrets shown once; none of
them can be replayed any more (scopes are HMACs now), so they are all deleted here. A response
that held a secret is no longer stored (NULL), and the worker's purge of rows past
``idempotency_retention_hours`` deletes by ``created_at``, hence the index.

Revision ID: 5c2d9797e88c
Revises: 5d1c0e7a9b42
Create Date: 2026-12-04 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2d9797e88c"
down_revision: str | None = "5d1c0e7a9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM victim_support.idempotency_keys")
    op.alter_column(
        "idempotency_keys",
        "response",
        existing_type=sa.Text(),
        nullable=True,
        schema="victim_support",
    )
    op.create_index(
        "ix_idempotency_keys_created_at",
        "idempotency_keys",
        ["created_at"],
        unique=False,
        schema="victim_support",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_idempotency_keys_created_at", table_name="idempotency_keys", schema="victim_support"
    )
    op.execute("DELETE FROM victim_support.idempotency_keys WHERE response IS NULL")
    op.alter_column(
        "idempotency_keys",
        "response",
        existing_type=sa.Text(),
        nullable=False,
        schema="victim_support",
    )
