"""audit log chained with HMAC-SHA256 under the audit key, its free text encrypted

Revision ID: 9cd0f4f99277
Revises: 556809df8470
Create Date: 2026-12-04 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from libs.common.audit_migrations import key_the_chain, unkey_the_chain
from services.victim_support.settings import VictimSupportSettings

revision: str = "9cd0f4f99277"
down_revision: str | None = "556809df8470"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Every existing entry re-chained with the keyed link, so that verification never has to
    accept an unkeyed one (the job needs CTIP_AUDIT_KEY and CTIP_FIELD_KEYS)."""
    settings = VictimSupportSettings()
    key_the_chain(
        op.get_bind(),
        "victim_support",
        settings.audit_key.get_secret_value(),
        settings.field_keys.get_secret_value(),
    )


def downgrade() -> None:
    settings = VictimSupportSettings()
    unkey_the_chain(op.get_bind(), "victim_support", settings.field_keys.get_secret_value())
