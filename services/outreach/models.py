"""outreach's tables (schema ``outreach``): campaigns, activities per ward, ward populations,
commendations, and the editable taxonomy of high-risk target groups."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import ARRAY, Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedText
from libs.common.db import service_metadata
from libs.common.platform import install_platform

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


class Activity(Base):
    """A communication activity held in a ward."""

    __tablename__ = "activities"

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
