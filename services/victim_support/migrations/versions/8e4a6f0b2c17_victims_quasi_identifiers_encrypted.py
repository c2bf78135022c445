"""victims' age, sex, hometown, minor flag and nationality encrypted; birth year dropped

In a small ward, "a 16-year-old Lao girl from ward X" names one person as surely as her name
does. No figure counts by these columns (DESIGN.md section 10), so they are encrypted like the
name, with the service's field key (this job needs CTIP_FIELD_KEYS, like the services), the
column named as associated data as ``EncryptedText`` does. ``birth_year`` was only a copy of the
encrypted date of birth (or of the age at reception): dropped. Issue 13, Low.

Revision ID: 8e4a6f0b2c17
Revises: cfefc919c172
Create Date: 2026-12-04 17:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from libs.common.crypto import FieldCipher
from services.victim_support.settings import VictimSupportSettings

revision: str = "8e4a6f0b2c17"
down_revision: str | None = "cfefc919c172"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "victim_support"
# column -> (its type before, the SQL that reads the decrypted text back into it)
COLUMNS: dict[str, tuple[sa.types.TypeEngine[Any], str]] = {
    "age": (sa.Integer(), "age::integer"),
    "sex": (sa.String(length=10), "sex::varchar(10)"),
    "hometown_ward_code": (sa.String(length=5), "hometown_ward_code::varchar(5)"),
    "nationality": (sa.String(length=2), "nationality::varchar(2)"),
    "is_minor": (sa.Boolean(), "is_minor::boolean"),
}
BATCH = 500


def _cipher() -> FieldCipher:
    return FieldCipher.from_spec(VictimSupportSettings().field_keys.get_secret_value())


def _rewrite(seal: bool) -> None:
    """Encrypt (or, going down, decrypt) every value of ``COLUMNS``, a batch of rows at a time."""
    cipher = _cipher()
    connection = op.get_bind()
    names = ", ".join(COLUMNS)
    after = None
    while True:
        rows = connection.execute(
            sa.text(
                f"SELECT id, {names} FROM {SCHEMA}.victims"  # noqa: S608 (constants)
                " WHERE (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid))"
                " ORDER BY id LIMIT :n"
            ),
            {"after": after, "n": BATCH},
        ).all()
        for row in rows:
            values: dict[str, str | None] = {}
            for column in COLUMNS:
                value = getattr(row, column)
                context = f"{SCHEMA}.victims.{column}"
                if value is None:
                    values[column] = None
                elif seal:
                    is_sealed = value.startswith("v1.")
                    values[column] = value if is_sealed else cipher.encrypt(value, context)
                else:
                    values[column] = cipher.decrypt(value, context)
            assignments = ", ".join(f"{c} = :{c}" for c in COLUMNS)
            connection.execute(
                sa.text(f"UPDATE {SCHEMA}.victims SET {assignments} WHERE id = :id"),  # noqa: S608
                {**values, "id": row.id},
            )
        if len(rows) < BATCH:
            return
        after = str(rows[-1].id)


def upgrade() -> None:
    for column, (before, _) in COLUMNS.items():
        op.alter_column(
            "victims",
            column,
            existing_type=before,
            type_=sa.Text(),
            existing_nullable=column != "nationality",
            postgresql_using=f"{column}::text",
            schema=SCHEMA,
        )
    _rewrite(seal=True)
    op.drop_column("victims", "birth_year", schema=SCHEMA)


def downgrade() -> None:
    op.add_column("victims", sa.Column("birth_year", sa.Integer(), nullable=True), schema=SCHEMA)
    _rewrite(seal=False)
    for column, (before, using) in COLUMNS.items():
        op.alter_column(
            "victims",
            column,
            existing_type=sa.Text(),
            type_=before,
            existing_nullable=column != "nationality",
            postgresql_using=using,
            schema=SCHEMA,
        )
    # The birth year as it was derived: from the age at reception (dates of birth stay
    # encrypted, and a migration does not decrypt more than it must).
    op.execute(
        "UPDATE victim_support.victims SET birth_year ="
        " extract(year FROM received_at)::integer - age WHERE age IS NOT NULL"
    )
