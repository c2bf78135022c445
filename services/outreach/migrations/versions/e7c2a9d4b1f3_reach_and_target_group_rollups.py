"""outreach's figures rolled up per day and month, and an index of mass media's audiences

``GET /v1/kpis`` over whole provinces sums ``reach_rollup`` (per day held, ward and province: the
activities, and the people their direct contacts reached) and ``target_group_rollup`` (per day,
province and list of target groups: activities, materials, people) instead of reading a year of
activities; triggers on ``activities`` keep them, and they are filled here from a recount
(``libs/common/rollups.py``). Mass media's largest audience per ward, a maximum that no sum
keeps, is read from ``ix_activities_mass_media_reach``, an index-only range per province.

Revision ID: e7c2a9d4b1f3
Revises: 9257fdda09be
Create Date: 2026-12-07 13:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from services.outreach.models import MASS_MEDIA_KINDS, ROLLUPS, metadata

revision: str = "e7c2a9d4b1f3"
down_revision: str | None = "9257fdda09be"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_activities_mass_media_reach",
        "activities",
        ["province_code", "held_on"],
        schema="outreach",
        postgresql_include=["ward_code", "people_reached"],
        postgresql_where=f"kind IN ({MASS_MEDIA_KINDS})",
    )
    for rollup in ROLLUPS:
        for statement in rollup.ddl(metadata):
            op.execute(statement)


def downgrade() -> None:
    for rollup in ROLLUPS:
        for statement in rollup.drop_ddl():
            op.execute(statement)
    op.drop_index("ix_activities_mass_media_reach", "activities", schema="outreach")
