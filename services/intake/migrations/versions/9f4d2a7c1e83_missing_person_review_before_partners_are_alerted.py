"""missing-person reports are reviewed before partners are alerted (publication, review fields)

Reports filed before this revision were alerted when filed: they are marked ``published``.

Revision ID: 9f4d2a7c1e83
Revises: 2b1858acc6cf
Create Date: 2026-12-04 16:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9f4d2a7c1e83"
down_revision: str | None = "2b1858acc6cf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "missing_persons",
        sa.Column("publication", sa.String(length=10), server_default="pending", nullable=False),
        schema="intake",
    )
    op.add_column(
        "missing_persons", sa.Column("review_reason", sa.Text(), nullable=True), schema="intake"
    )
    op.add_column(
        "missing_persons",
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        schema="intake",
    )
    op.add_column(
        "missing_persons",
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        schema="intake",
    )
    op.execute("UPDATE intake.missing_persons SET publication = 'published'")


def downgrade() -> None:
    op.drop_column("missing_persons", "reviewed_by", schema="intake")
    op.drop_column("missing_persons", "reviewed_at", schema="intake")
    op.drop_column("missing_persons", "review_reason", schema="intake")
    op.drop_column("missing_persons", "publication", schema="intake")
