"""alerts owned by a jurisdiction (issue 13, finding 3): owner ward and province, backfilled

Revision ID: 36651c1f4388
Revises: 2c267e88f022
Create Date: 2026-12-04 16:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.interagency.settings import InteragencySettings

revision: str = "36651c1f4388"
down_revision: str | None = "2c267e88f022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "alerts",
        sa.Column("owner_ward_code", sa.String(length=5), nullable=True),
        schema="interagency",
    )
    op.add_column(
        "alerts",
        sa.Column("owner_province_code", sa.String(length=2), nullable=True),
        schema="interagency",
    )
    op.create_index(
        "ix_alerts_owner_province_created",
        "alerts",
        ["owner_province_code", "created_at"],
        unique=False,
        schema="interagency",
    )
    op.create_index(
        "ix_alerts_owner_ward_created",
        "alerts",
        ["owner_ward_code", "created_at"],
        unique=False,
        schema="interagency",
    )
    _backfill()


def _backfill() -> None:
    """Alerts written before owners existed.

    * Our missing_person alerts: the area of the report (where the person was last seen),
      as the scope before this change already read them.
    * Everything else but bulletins: the interagency desk's province
      (``CTIP_INTERAGENCY_ALERT_DESK_PROVINCE``). The sender's office of an officer's alert was
      not recorded, and a handover's receiving province is inside the encrypted data: the narrow
      choice hides them from everyone but the desk, instead of leaving them to the whole country.
      Our missing person's officers still see an alert that matched them (``subject_id``).
    """
    op.execute(
        sa.text(
            "UPDATE interagency.alerts AS a"
            " SET owner_ward_code = m.last_seen_ward_code, owner_province_code = m.province_code"
            " FROM interagency.missing_person_refs AS m"
            " WHERE a.owner_province_code IS NULL AND a.direction = 'out'"
            " AND a.alert_type = 'missing_person' AND a.subject_id = m.missing_person_id"
        )
    )
    connection = op.get_bind()
    unowned = connection.execute(
        sa.text(
            "SELECT count(*) FROM interagency.alerts"
            " WHERE owner_province_code IS NULL AND alert_type <> 'situation_bulletin'"
        )
    ).scalar_one()
    if not unowned:
        return
    desk = InteragencySettings().alert_desk_province
    if not desk:
        raise RuntimeError("set CTIP_INTERAGENCY_ALERT_DESK_PROVINCE: older alerts go to that desk")
    op.execute(
        sa.text(
            "UPDATE interagency.alerts SET owner_province_code = :desk"
            " WHERE owner_province_code IS NULL AND alert_type <> 'situation_bulletin'"
        ).bindparams(desk=desk)
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_owner_ward_created", table_name="alerts", schema="interagency")
    op.drop_index("ix_alerts_owner_province_created", table_name="alerts", schema="interagency")
    op.drop_column("alerts", "owner_province_code", schema="interagency")
    op.drop_column("alerts", "owner_ward_code", schema="interagency")
