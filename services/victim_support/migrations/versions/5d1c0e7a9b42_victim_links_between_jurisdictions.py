"""victim links between jurisdictions

A reception that matches a person another jurisdiction received no longer links to that record:
it is suggested to the owning office, and the two offices link their records by a proposal and a
decision (issue 13, High 2).

Revision ID: 5d1c0e7a9b42
Revises: 9cd0f4f99277
Create Date: 2026-12-04 16:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1c0e7a9b42"
down_revision: str | None = "9cd0f4f99277"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "victim_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("victim_id", sa.Uuid(), nullable=False),
        sa.Column("other_victim_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("matched_on", sa.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["victim_id"],
            ["victim_support.victims.id"],
            name=op.f("fk_victim_links_victim_id_victims"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victim_links")),
        sa.UniqueConstraint(
            "victim_id", "other_victim_id", name=op.f("uq_victim_links_victim_id_other_victim_id")
        ),
        schema="victim_support",
    )
    op.create_index(
        op.f("ix_victim_support_victim_links_created_at"),
        "victim_links",
        ["created_at"],
        unique=False,
        schema="victim_support",
    )
    op.create_index(
        op.f("ix_victim_support_victim_links_other_victim_id"),
        "victim_links",
        ["other_victim_id"],
        unique=False,
        schema="victim_support",
    )


def downgrade() -> None:
    op.drop_table("victim_links", schema="victim_support")
