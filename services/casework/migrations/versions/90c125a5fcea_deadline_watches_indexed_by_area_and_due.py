"""deadline watches indexed by area and due date, for the dashboard's figures per ward

``GET /v1/kpis`` counts, per ward of the caller's jurisdiction, the open cases' stage clocks
due within the horizon and those missed (``libs.common.open_clocks``): it reads only the watches
due by the horizon, through the caller's provinces (``province_code``) or wards (``ward_code``),
each an index range on ``(area, deadline_kind, due_at)``.

Revision ID: 90c125a5fcea
Revises: 4498a2a91f83
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "90c125a5fcea"
down_revision: str | None = "4498a2a91f83"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AREAS = ("province_code", "ward_code")


def upgrade() -> None:
    for area in AREAS:
        op.create_index(
            f"ix_deadline_watches_{area}_due",
            "deadline_watches",
            [area, "deadline_kind", "due_at"],
            unique=False,
            schema="casework",
        )


def downgrade() -> None:
    for area in AREAS:
        name = f"ix_deadline_watches_{area}_due"
        op.drop_index(name, table_name="deadline_watches", schema="casework")
