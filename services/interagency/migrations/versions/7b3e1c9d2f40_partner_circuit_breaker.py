"""partners: a circuit breaker per partner (state, failures in a row, open until, open for)

Every existing partner starts closed with no failures.

Revision ID: 7b3e1c9d2f40
Revises: 38c80845c157
Create Date: 2026-12-06 02:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e1c9d2f40"
down_revision: str | None = "38c80845c157"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "partners",
        sa.Column("circuit", sa.String(10), server_default="closed", nullable=False),
        schema="interagency",
    )
    op.add_column(
        "partners",
        sa.Column("circuit_failures", sa.Integer(), server_default="0", nullable=False),
        schema="interagency",
    )
    op.add_column(
        "partners",
        sa.Column("circuit_open_until", sa.DateTime(timezone=True), nullable=True),
        schema="interagency",
    )
    op.add_column(
        "partners",
        sa.Column("circuit_open_seconds", sa.Float(), nullable=True),
        schema="interagency",
    )


def downgrade() -> None:
    for column in ("circuit_open_seconds", "circuit_open_until", "circuit_failures", "circuit"):
        op.drop_column("partners", column, schema="interagency")
