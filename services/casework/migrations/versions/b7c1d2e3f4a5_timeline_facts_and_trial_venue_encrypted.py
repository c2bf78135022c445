"""timeline facts and trial venue encrypted at rest

A decline's legal ground, a suspension's reason, a verdict's notes and a trial's venue can name a
person or a place a victim lives; they were stored in clear. Existing rows are re-encrypted here
with the service's field key (so this job needs CTIP_FIELD_KEYS, like the services).

Revision ID: b7c1d2e3f4a5
Revises: 2c52538927d0
Create Date: 2026-12-04 17:05:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from libs.common.crypto import FieldCipher
from services.casework.settings import CaseworkSettings

revision: str = "b7c1d2e3f4a5"
down_revision: str | None = "2c52538927d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DETAILS = "casework.case_events.details"
VENUE = "casework.cases.trial_venue"


def _cipher() -> FieldCipher:
    return FieldCipher.from_spec(CaseworkSettings().field_keys.get_secret_value())


def upgrade() -> None:
    op.alter_column(
        "case_events",
        "details",
        existing_type=postgresql.JSONB(astext_type=sa.Text()),
        type_=sa.Text(),
        existing_nullable=False,
        postgresql_using="details::text",
        schema="casework",
    )
    op.alter_column(
        "cases",
        "trial_venue",
        existing_type=sa.String(length=300),
        type_=sa.Text(),
        existing_nullable=True,
        schema="casework",
    )
    cipher = _cipher()
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, details FROM casework.case_events")).all()
    for row in rows:
        sealed = cipher.encrypt(json.dumps(json.loads(row.details), ensure_ascii=False), DETAILS)
        bind.execute(
            sa.text("UPDATE casework.case_events SET details = :d WHERE id = :id"),
            {"d": sealed, "id": row.id},
        )
    venues = bind.execute(
        sa.text("SELECT id, trial_venue FROM casework.cases WHERE trial_venue IS NOT NULL")
    ).all()
    for row in venues:
        bind.execute(
            sa.text("UPDATE casework.cases SET trial_venue = :v WHERE id = :id"),
            {"v": cipher.encrypt(row.trial_venue, VENUE), "id": row.id},
        )


def downgrade() -> None:
    cipher = _cipher()
    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id, details FROM casework.case_events")).all():
        bind.execute(
            sa.text("UPDATE casework.case_events SET details = :d WHERE id = :id"),
            {"d": cipher.decrypt(row.details, DETAILS), "id": row.id},
        )
    venues = bind.execute(
        sa.text("SELECT id, trial_venue FROM casework.cases WHERE trial_venue IS NOT NULL")
    ).all()
    for row in venues:
        bind.execute(
            sa.text("UPDATE casework.cases SET trial_venue = :v WHERE id = :id"),
            {"v": cipher.decrypt(row.trial_venue, VENUE), "id": row.id},
        )
    op.alter_column(
        "cases",
        "trial_venue",
        existing_type=sa.Text(),
        type_=sa.String(length=300),
        existing_nullable=True,
        schema="casework",
    )
    op.alter_column(
        "case_events",
        "details",
        existing_type=sa.Text(),
        type_=postgresql.JSONB(astext_type=sa.Text()),
        existing_nullable=False,
        postgresql_using="details::jsonb",
        schema="casework",
    )
