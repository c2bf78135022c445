from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.db import service_metadata
from libs.common.platform import ServicePlatform

SCHEMA = "casework"
metadata = service_metadata(SCHEMA)
platform = ServicePlatform(SCHEMA, metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TipRef(Base):
    """Casework's read model of intake's tips, kept from ``intake.tip.*`` events.

    Casework never reads intake's tables; it learns of tips from their events so a case can show
    the tip it came from and the KPIs can relate substantiated tips to initiated cases.
    """

    __tablename__ = "tip_refs"

    tip_id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    incident_ward_code: Mapped[str | None] = mapped_column(String(5), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
