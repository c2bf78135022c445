"""parties' age, sex, hometown and nationality encrypted; birth year dropped

A victim or witness on a case is as recognisable in a small ward by "16, female, from ward X" as
by name, and no figure counts parties by these columns. They are encrypted like the name, with the
service's field key (this job needs CTIP_FIELD_KEYS, like the services). ``birth_year`` was
written and never read (the suspect digest takes the year from the request): dropped.

Revision ID: c3d4e5f6a7b8
Revises: 91525d903523
Create Date: 2026-12-04 17:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from libs.common.crypto import FieldCipher, encrypt_plaintext_rows
from services.casework.settings import CaseworkSettings

revision: str = "c3d4e5f6a7b8"
down_revision: str | None = "91525d903523"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "casework"
# column -> (its type before, the SQL that reads the decrypted text back into it)
COLUMNS: dict[str, tuple[sa.types.TypeEngine[Any], str]] = {
    "age": (sa.Integer(), "age::integer"),
    "sex": (sa.String(length=10), "sex::varchar(10)"),
    "hometown_ward_code": (sa.String(length=5), "hometown_ward_code::varchar(5)"),
    "nationality": (sa.String(length=2), "nationality::varchar(2)"),
}


def _cipher() -> FieldCipher:
    return FieldCipher.from_spec(CaseworkSettings().field_keys.get_secret_value())


def upgrade() -> None:
    for column, (before, _) in COLUMNS.items():
        op.alter_column(
            "parties",
            column,
            existing_type=before,
            type_=sa.Text(),
            existing_nullable=True,
            postgresql_using=f"{column}::text",
            schema=SCHEMA,
        )
    encrypt_plaintext_rows(op.get_bind(), _cipher(), SCHEMA, "parties", "id", list(COLUMNS))
    op.drop_column("parties", "birth_year", schema=SCHEMA)


def downgrade() -> None:
    op.add_column("parties", sa.Column("birth_year", sa.Integer(), nullable=True), schema=SCHEMA)
    cipher = _cipher()
    connection = op.get_bind()
    names = ", ".join(COLUMNS)
    rows = connection.execute(
        sa.text(f"SELECT id, {names} FROM {SCHEMA}.parties")  # noqa: S608 (constants)
    ).all()
    for row in rows:
        values = {
            column: None
            if getattr(row, column) is None
            else cipher.decrypt(getattr(row, column), f"{SCHEMA}.parties.{column}")
            for column in COLUMNS
        }
        assignments = ", ".join(f"{c} = :{c}" for c in COLUMNS)
        connection.execute(
            sa.text(f"UPDATE {SCHEMA}.parties SET {assignments} WHERE id = :id"),  # noqa: S608
            {**values, "id": row.id},
        )
    for column, (before, using) in COLUMNS.items():
        op.alter_column(
            "parties",
            column,
            existing_type=sa.Text(),
            type_=before,
            existing_nullable=True,
            postgresql_using=using,
            schema=SCHEMA,
        )
