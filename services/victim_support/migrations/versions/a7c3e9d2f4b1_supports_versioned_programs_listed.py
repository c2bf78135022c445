"""supports carry a version; programs are listed newest first

An NGO corrects a delivery with ``PUT /v1/programs/{id}/deliveries/{external_id}`` and
``If-Match: <version>``, so a support row carries its version (1 for every row so far). An NGO
lists its programs and an admin all of them, newest first, a page at a time: an index on
(created_at, id) serves the keyset. Issue 20.

Revision ID: a7c3e9d2f4b1
Revises: 8e4a6f0b2c17
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9d2f4b1"
down_revision: str | None = "8e4a6f0b2c17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "victim_support"


def upgrade() -> None:
    op.add_column(
        "supports",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_programs_created_at_id", "programs", ["created_at", "id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_programs_created_at_id", table_name="programs", schema=SCHEMA)
    op.drop_column("supports", "version", schema=SCHEMA)
