from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import ARRAY, Date, DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedText
from libs.common.db import service_metadata
from libs.common.platform import ServicePlatform

SCHEMA = "intake"
metadata = service_metadata(SCHEMA)
platform = ServicePlatform(SCHEMA, metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(EncryptedText("intake.tips.description"))
    incident_ward_code: Mapped[str | None] = mapped_column(String(5), index=True)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    exploitation_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    filed_by: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    resolution_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
