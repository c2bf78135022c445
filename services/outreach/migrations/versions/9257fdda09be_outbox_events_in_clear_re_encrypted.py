"""outbox events written in clear before encryption, re-encrypted

``EncryptedJSON`` read a value starting with ``{`` as plain JSON written before the column was
encrypted, so anyone able to write the table could plant an event in clear. Every such row is
encrypted here with the service's field key (this job needs CTIP_FIELD_KEYS, like the services),
after which the column type refuses plaintext. Downgrading leaves the rows encrypted, which the
older code reads too.

Revision ID: 9257fdda09be
Revises: 3c9f084374bc
Create Date: 2026-12-04 17:31:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from libs.common.crypto import FieldCipher, encrypt_plaintext_json_rows
from services.outreach.settings import OutreachSettings

revision: str = "9257fdda09be"
down_revision: str | None = "3c9f084374bc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    cipher = FieldCipher.from_spec(OutreachSettings().field_keys.get_secret_value())
    encrypt_plaintext_json_rows(op.get_bind(), cipher, "outreach", "outbox", "seq", "event")


def downgrade() -> None:
    pass
