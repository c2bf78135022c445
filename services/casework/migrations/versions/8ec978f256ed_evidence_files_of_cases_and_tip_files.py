"""evidence files of cases (evidence, and their encrypted chunks: stored_files and chunks) and
the metadata of their tips' files (tip_files, from intake.tip.attachment_added)

Revision ID: 8ec978f256ed
Revises: c3d4e5f6a7b8
Create Date: 2026-12-05 07:53:31.503145
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "8ec978f256ed"
down_revision: str | None = "c3d4e5f6a7b8"
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
        schema="casework",
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
            ["casework.stored_files.id"],
            name=op.f("fk_stored_file_chunks_file_id_stored_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "seq", name=op.f("pk_stored_file_chunks")),
        schema="casework",
    )
    # Chunks are sealed already: compressing them again would only cost CPU.
    op.execute("ALTER TABLE casework.stored_file_chunks ALTER COLUMN sealed SET STORAGE EXTERNAL")
    op.create_table(
        "evidence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["casework.cases.id"], name=op.f("fk_evidence_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        schema="casework",
    )
    op.create_index(
        "ix_evidence_case_uploaded",
        "evidence",
        ["case_id", "uploaded_at"],
        unique=False,
        schema="casework",
    )
    op.create_table(
        "tip_files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tip_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_files")),
        schema="casework",
    )
    op.create_index(
        "ix_tip_files_tip_uploaded",
        "tip_files",
        ["tip_id", "uploaded_at"],
        unique=False,
        schema="casework",
    )


def downgrade() -> None:
    op.drop_index("ix_tip_files_tip_uploaded", table_name="tip_files", schema="casework")
    op.drop_table("tip_files", schema="casework")
    op.drop_index("ix_evidence_case_uploaded", table_name="evidence", schema="casework")
    op.drop_table("evidence", schema="casework")
    op.drop_table("stored_file_chunks", schema="casework")
    op.drop_table("stored_files", schema="casework")
