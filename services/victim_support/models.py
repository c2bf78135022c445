"""victim_support's tables (schema ``victim_support``). Personal fields are encrypted; a person
received twice is found through blind indexes (``victim_index``) and linked, not duplicated."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedBool, EncryptedInt, EncryptedText
from libs.common.db import service_metadata
from libs.common.platform import install_deadline_watch, install_platform
from libs.common.rollups import Rollup
from libs.common.timeline import TimelineMixin

SCHEMA = "victim_support"
metadata = service_metadata(SCHEMA)
install_platform(SCHEMA, metadata)
# The 3-day verification of a presumed victim is watched (Law 53/2024 Art. 27).
install_deadline_watch(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Victim(Base):
    """A received person: presumed victim until identified (Law 53/2024/QH15)."""

    __tablename__ = "victims"
    __table_args__ = (
        # The presumed victims due from today's start, over whole provinces, read index-only
        # (the overdue verifications of now: ``figures_repository.overdue_presumed``).
        Index(
            "ix_victims_presumed_due",
            "verification_due_at",
            postgresql_include=["received_at", "ward_code", "province_code"],
            postgresql_where=text("status IN ('received', 'under_verification')"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20), index=True)
    ward_code: Mapped[str | None] = mapped_column(String(5), index=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    verification_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    full_name: Mapped[str | None] = mapped_column(EncryptedText("victim_support.victims.full_name"))
    date_of_birth: Mapped[str | None] = mapped_column(
        EncryptedText("victim_support.victims.date_of_birth")
    )
    # Quasi-identifiers, encrypted like the name: no figure counts by them. Age as at reception.
    age: Mapped[int | None] = mapped_column(EncryptedInt("victim_support.victims.age"))
    sex: Mapped[str | None] = mapped_column(EncryptedText("victim_support.victims.sex"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("victim_support.victims.phone"))
    id_number: Mapped[str | None] = mapped_column(EncryptedText("victim_support.victims.id_number"))
    hometown_ward_code: Mapped[str | None] = mapped_column(
        EncryptedText("victim_support.victims.hometown_ward_code")
    )
    nationality: Mapped[str] = mapped_column(EncryptedText("victim_support.victims.nationality"))
    is_minor: Mapped[bool | None] = mapped_column(EncryptedBool("victim_support.victims.is_minor"))
    needs: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    exploitation_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    case_ids: Mapped[list[UUID]] = mapped_column(PG_ARRAY(Uuid), default=list)
    notes: Mapped[str | None] = mapped_column(EncryptedText("victim_support.victims.notes"))
    identification_outcome: Mapped[str | None] = mapped_column(String(20))
    deciding_agency: Mapped[str | None] = mapped_column(String(300))
    document_ref: Mapped[str | None] = mapped_column(String(200))
    identified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_protected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_supported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VictimIndex(Base):
    """Blind indexes to find a person already received: ID number, name + date of birth."""

    __tablename__ = "victim_index"
    __table_args__ = (Index("ix_victim_index_kind_digest", "kind", "digest"),)

    victim_id: Mapped[UUID] = mapped_column(
        ForeignKey("victim_support.victims.id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))


class VictimLink(Base):
    """Two records that may be one person, kept by two jurisdictions. ``other_victim_id`` is no
    foreign key: a proposal naming an unknown id is stored alike, so the answer tells nothing."""

    __tablename__ = "victim_links"
    __table_args__ = (UniqueConstraint("victim_id", "other_victim_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"))
    other_victim_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(20))
    matched_on: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    proposed_by: Mapped[str | None] = mapped_column(String(200))
    proposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class VictimSource(Base):
    """Where a reception came from; the key makes reception from events exactly-once."""

    __tablename__ = "victim_sources"

    source_kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    source_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VictimEvent(TimelineMixin, Base):
    """The person's timeline (statuses and actions; no personal data)."""

    __tablename__ = "victim_events"

    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ProtectionMeasure(Base):
    __tablename__ = "protection_measures"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"), index=True)
    measures: Mapped[list[str]] = mapped_column(ARRAY(String(60)))
    notes: Mapped[str | None] = mapped_column(
        EncryptedText("victim_support.protection_measures.notes")
    )
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))


class Consent(Base):
    """A consent given or withdrawn; the latest entry per (scope, org) is the one in force."""

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_victim_scope", "victim_id", "scope", "org", "recorded_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"))
    scope: Mapped[str] = mapped_column(String(30))
    org: Mapped[str] = mapped_column(String(100), default="")
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))


class Support(Base):
    """A support provided (Art. 37), by the state or by an NGO program; money in integer VND."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("program_id", "external_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    amount_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    provided_on: Mapped[date] = mapped_column(Date, index=True)
    provider_org: Mapped[str] = mapped_column(String(100))
    program_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("victim_support.programs.id"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # An NGO's delivery is corrected under If-Match (PUT .../deliveries/{external_id}).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Reintegration(Base):
    """A follow-up visit on the way back into the community (tái hòa nhập cộng đồng)."""

    __tablename__ = "reintegration_followups"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    situation: Mapped[str] = mapped_column(EncryptedText("victim_support.reintegration.situation"))
    employment: Mapped[str | None] = mapped_column(String(40))
    schooling: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(EncryptedText("victim_support.reintegration.notes"))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))


class Program(Base):
    """A support program run by an NGO or international organisation."""

    __tablename__ = "programs"
    __table_args__ = (Index("ix_programs_created_at_id", "created_at", "id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    org: Mapped[str] = mapped_column(String(100), index=True)
    funder: Mapped[str | None] = mapped_column(String(300))
    support_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("program_id", "victim_id"),
        UniqueConstraint("program_id", "external_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    program_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.programs.id"), index=True)
    victim_id: Mapped[UUID] = mapped_column(ForeignKey("victim_support.victims.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    enrolled_by: Mapped[str] = mapped_column(String(200))


# --- the figures' rollups (libs/common/rollups.py) ----------------------------------------------

# Per day of reception, ward and province: the cohort's counters of ``GET /v1/kpis``.
VICTIM_ROLLUP = Rollup(
    schema=SCHEMA,
    name="victim_rollup",
    past_days=True,  # the day of its reception
    source="victims",
    keys=(("ward_code", String(5)), ("province_code", String(2))),
    counters=(
        "received",
        "decided",
        "decided_in_time",
        "identified",
        "protected",
        "with_needs",
        "supported",
    ),
    contribution=(
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.ward_code, r.province_code, {sign},"
        " {sign} * (r.identification_outcome IS NOT NULL)::int,"
        " {sign} * coalesce(r.identification_outcome IS NOT NULL"
        " AND r.identified_at <= r.verification_due_at, false)::int,"
        " {sign} * (i.identified)::int,"
        " {sign} * (i.identified AND r.first_protected_at IS NOT NULL)::int,"
        " {sign} * (i.identified AND i.with_needs)::int,"
        " {sign} * (i.identified AND i.with_needs AND r.first_supported_at IS NOT NULL)::int"
        " FROM {rows} AS r CROSS JOIN LATERAL (SELECT"
        " r.identification_outcome IS NOT DISTINCT FROM 'identified' AS identified,"
        " coalesce(cardinality(r.needs), 0) > 0 AS with_needs) AS i"
    ),
    area_key="province_code",
)
# Per day of reception and province: the cohort by status, by source and by exploitation type.
VICTIM_KIND_ROLLUP = Rollup(
    schema=SCHEMA,
    name="victim_kind_rollup",
    past_days=True,  # the day of its reception
    source="victims",
    keys=(("province_code", String(2)), ("kind", String(10)), ("value", String(40))),
    counters=("victims",),
    contribution=(
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.province_code, 'status', r.status,"
        " {sign} FROM {rows} AS r"
        " UNION ALL "
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.province_code, 'source', r.source,"
        " {sign} FROM {rows} AS r"
        " UNION ALL "
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.province_code, 'type', t.value,"
        " {sign} FROM {rows} AS r CROSS JOIN LATERAL unnest(r.exploitation_types) AS t(value)"
    ),
    area_key="province_code",
)
ROLLUPS = (VICTIM_ROLLUP, VICTIM_KIND_ROLLUP)  # ``ctip rollups check|fold|backfill``, the fold
victim_rollup = VICTIM_ROLLUP.table(metadata)
victim_kind_rollup = VICTIM_KIND_ROLLUP.table(metadata)
