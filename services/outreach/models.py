"""outreach's tables (schema ``outreach``): campaigns, activities per ward, ward populations,
commendations, and the editable taxonomy of high-risk target groups."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import ARRAY, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedText
from libs.common.db import service_metadata
from libs.common.platform import install_platform
from libs.common.rollups import Rollup
from services.outreach.domain import MASS_MEDIA

SCHEMA = "outreach"
metadata = service_metadata(SCHEMA)
install_platform(SCHEMA, metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TargetGroup(Base):
    """A high-risk group the plan focuses on (editable taxonomy)."""

    __tablename__ = "target_groups"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    organiser: Mapped[str] = mapped_column(String(300))
    funder: Mapped[str | None] = mapped_column(String(300))
    target_groups: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    jurisdiction_code: Mapped[str] = mapped_column(String(5), index=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str] = mapped_column(String(200))


# the kinds of activity whose audience counts once, its largest (domain.reached), as SQL
MASS_MEDIA_KINDS = ", ".join(f"'{kind.value}'" for kind in sorted(MASS_MEDIA))


class Activity(Base):
    """A communication activity held in a ward."""

    __tablename__ = "activities"
    __table_args__ = (
        # each ward's largest mass-media audience over a period of whole provinces, an
        # index-only range per province (figures_repository.largest_audiences)
        Index(
            "ix_activities_mass_media_reach",
            "province_code",
            "held_on",
            postgresql_include=["ward_code", "people_reached"],
            postgresql_where=text(f"kind IN ({MASS_MEDIA_KINDS})"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    campaign_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("outreach.campaigns.id"), index=True
    )
    ward_code: Mapped[str] = mapped_column(String(5), index=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    people_reached: Mapped[int] = mapped_column(Integer)
    materials_distributed: Mapped[int] = mapped_column(Integer, default=0)
    target_groups: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    evidence_ref: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str] = mapped_column(String(200))


class WardPopulation(Base):
    """Residents of a ward in a year, with where the figure comes from."""

    __tablename__ = "ward_populations"

    ward_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    population: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))


class Commendation(Base):
    """Public recognition of good people, good deeds and model initiatives."""

    __tablename__ = "commendations"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_name: Mapped[str] = mapped_column(
        EncryptedText("outreach.commendations.recipient_name")
    )
    ward_code: Mapped[str] = mapped_column(String(5), index=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    reason: Mapped[str] = mapped_column(String(2000))
    awarded_on: Mapped[date] = mapped_column(Date, index=True)
    level: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


# The figures of ``GET /v1/kpis`` (kpis.py) over whole provinces, summed per day and month an
# activity was held instead of read from a year of activities; kept by triggers
# (libs/common/rollups.py). Per ward: the activities and the people their direct contacts reached
# (mass media's largest audience is not a sum: ``figures_repository.largest_audiences``).
REACH_ROLLUP = Rollup(
    schema=SCHEMA,
    name="reach_rollup",
    past_days=True,  # the day it was held (never after today: schemas.not_future)
    source="activities",
    keys=(("ward_code", String(5)), ("province_code", String(2))),
    counters=("activities", "direct"),
    contribution=(
        "SELECT r.held_on, r.ward_code, r.province_code, {sign},"  # noqa: S608 (the code's kinds)
        f" {{sign}} * CASE WHEN r.kind IN ({MASS_MEDIA_KINDS}) THEN 0 ELSE r.people_reached END"
        " FROM {rows} AS r"
    ),
    area_key="province_code",
)
# Per province and list of target groups (a few dozen lists): the activities, the materials
# handed out and the people reached, which count for every group of the list.
GROUP_ROLLUP = Rollup(
    schema=SCHEMA,
    name="target_group_rollup",
    past_days=True,  # the day it was held (never after today: schemas.not_future)
    source="activities",
    keys=(("province_code", String(2)), ("target_groups", ARRAY(String(40)))),
    counters=("activities", "materials", "people"),
    contribution=(
        "SELECT r.held_on, r.province_code, coalesce(r.target_groups, ARRAY[]::varchar[]),"
        " {sign}, {sign} * r.materials_distributed, {sign} * r.people_reached FROM {rows} AS r"
    ),
    area_key="province_code",
)
ROLLUPS = (REACH_ROLLUP, GROUP_ROLLUP)  # ``ctip rollups check|fold|backfill``, the fold
reach_rollup = REACH_ROLLUP.table(metadata)
target_group_rollup = GROUP_ROLLUP.table(metadata)
