"""evidence files of tips: attachments, and their encrypted chunks (stored_files and chunks)

Revision ID: a17e0f11e5d0
Revises: 9f4d2a7c1e83
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a17e0f11e5d0"
down_revision: str | None = "9f4d2a7c1e83"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "key_id",
            sa.String(length=40),
            nullable=False,
            comment="field key that wraps the data key",
        ),
        sa.Column(
            "wrapped_key", sa.Text(), nullable=False, comment="data key sealed by the field key"
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column(
            "sha256",
            sa.String(length=64),
            nullable=False,
            comment="of the bytes as stored, in clear",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        schema="intake",
    )
    op.create_table(
        "stored_file_chunks",
        sa.Column("file_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "sealed", sa.LargeBinary(), nullable=False, comment="nonce and AES-GCM ciphertext"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["intake.stored_files.id"],
            name=op.f("fk_stored_file_chunks_file_id_stored_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "seq", name=op.f("pk_stored_file_chunks")),
        schema="intake",
    )
    # Chunks are sealed already: compressing them again would only cost CPU.
    op.execute("ALTER TABLE intake.stored_file_chunks ALTER COLUMN sealed SET STORAGE EXTERNAL")
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tip_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["intake.tips.id"], name=op.f("fk_attachments_tip_id_tips")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        schema="intake",
    )
    op.create_index(
        "ix_attachments_tip_uploaded",
        "attachments",
        ["tip_id", "uploaded_at"],
        unique=False,
        schema="intake",
    )


def downgrade() -> None:
    op.drop_index("ix_attachments_tip_uploaded", table_name="attachments", schema="intake")
    op.drop_table("attachments", schema="intake")
    op.drop_table("stored_file_chunks", schema="intake")
    op.drop_table("stored_files", schema="intake")
