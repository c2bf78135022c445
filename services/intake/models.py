"""Intake's tables (schema ``intake``). Personal fields are ``EncryptedText``; exact lookups go
through keyed blind indexes (``person_index``, ``receipts``), never through plaintext."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedText
from libs.common.db import service_metadata
from libs.common.open_clocks import roll_up_open_clocks
from libs.common.platform import install_deadline_watch, install_file_store, install_platform
from libs.common.ratelimit import rate_limit_table
from libs.common.rollups import Rollup
from services.intake.domain import OPEN_STATUSES

SCHEMA = "intake"
metadata = service_metadata(SCHEMA)
install_platform(SCHEMA, metadata)
# Guessing and flooding limits of the public endpoints, shared by every replica (ratelimit.py).
rate_limits = rate_limit_table(metadata)
# The encrypted chunks of evidence files (filestore.py), alike in every schema that keeps files.
install_file_store(metadata)
# A tip's legal clocks, watched (deadlines.py): its resolution and the last day to ask to extend.
install_deadline_watch(metadata)


class Base(DeclarativeBase):
    metadata = metadata


# What a ward's figures read of each tip besides its ward and day (figures_repository.py).
WARD_FIGURE_COLUMNS = (
    "province_code",
    "status",
    "classified_at",
    "verified_at",
    "verification_outcome",
    "resolved_at",
    "resolution_due_at",
    "destination_country",
    "exploitation_types",
)


class Tip(Base):
    """A crime report or denunciation (tin báo, tố giác tội phạm) about trafficking."""

    __tablename__ = "tips"
    __table_args__ = (
        # The triage queue: open tips newest first, overall and per ward (overdue, due soon).
        Index(
            "ix_tips_open_received",
            text("received_at DESC"),
            text("id DESC"),
            postgresql_where=text("status IN ('received', 'triaged')"),
        ),
        Index(
            "ix_tips_open_ward_received",
            "incident_ward_code",
            text("received_at DESC"),
            text("id DESC"),
            postgresql_where=text("status IN ('received', 'triaged')"),
        ),
        # A ward's tips by the day received, with every column its figures count (``GET
        # /v1/kpis?ward_code=``): read index-only, not one heap page per tip.
        Index(
            "ix_tips_ward_received",
            "incident_ward_code",
            "received_at",
            postgresql_include=list(WARD_FIGURE_COLUMNS),
        ),
        # The open tips due from today's start to the horizon, over whole provinces (the figures
        # of now: ``figures_repository.open_tip_figures``), read index-only.
        Index(
            "ix_tips_open_due",
            "resolution_due_at",
            postgresql_include=["received_at", "incident_ward_code", "province_code"],
            postgresql_where=text("status IN ('received', 'triaged')"),
        ),
        # An officer's own tips (``assignee=me``), newest first.
        Index(
            "ix_tips_assignee_received",
            "assignee",
            text("received_at DESC"),
            text("id DESC"),
            postgresql_where=text("assignee IS NOT NULL"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(EncryptedText("intake.tips.description"))
    incident_ward_code: Mapped[str | None] = mapped_column(String(5))
    province_code: Mapped[str | None] = mapped_column(String(2), index=True)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    exploitation_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    destination_country: Mapped[str | None] = mapped_column(String(2))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_name: Mapped[str | None] = mapped_column(EncryptedText("intake.tips.reporter_name"))
    reporter_phone: Mapped[str | None] = mapped_column(EncryptedText("intake.tips.reporter_phone"))
    reporter_email: Mapped[str | None] = mapped_column(EncryptedText("intake.tips.reporter_email"))
    filed_by: Mapped[str | None] = mapped_column(String(200))

    trafficking_related: Mapped[str | None] = mapped_column(String(10))
    priority: Mapped[str | None] = mapped_column(String(10), index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    # the officer the tip was given to (POST .../assignment): a `sub` the directory vouched for
    assignee: Mapped[str | None] = mapped_column(String(200))
    classification_notes: Mapped[str | None] = mapped_column(
        EncryptedText("intake.tips.classification_notes")
    )
    classified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    classified_by: Mapped[str | None] = mapped_column(String(200))

    verification_outcome: Mapped[str | None] = mapped_column(String(20))
    duplicate_of: Mapped[UUID | None] = mapped_column()
    verification_notes: Mapped[str | None] = mapped_column(
        EncryptedText("intake.tips.verification_notes")
    )
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    extensions: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    resolution_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)


class TipPerson(Base):
    """A victim, suspect or witness named in a tip."""

    __tablename__ = "tip_persons"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tip_id: Mapped[UUID] = mapped_column(ForeignKey("intake.tips.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10))
    full_name: Mapped[str | None] = mapped_column(EncryptedText("intake.tip_persons.full_name"))
    date_of_birth: Mapped[str | None] = mapped_column(
        EncryptedText("intake.tip_persons.date_of_birth")
    )
    birth_year: Mapped[int | None] = mapped_column(Integer)
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(EncryptedText("intake.tip_persons.phone"))
    id_number: Mapped[str | None] = mapped_column(EncryptedText("intake.tip_persons.id_number"))
    hometown_ward_code: Mapped[str | None] = mapped_column(String(5))
    notes: Mapped[str | None] = mapped_column(EncryptedText("intake.tip_persons.notes"))


class PersonIndex(Base):
    """Blind-index digests of the persons of a tip, for possible-duplicate detection."""

    __tablename__ = "person_index"
    __table_args__ = (Index("ix_person_index_kind_digest", "kind", "digest"),)

    tip_id: Mapped[UUID] = mapped_column(ForeignKey("intake.tips.id"), primary_key=True)
    person_id: Mapped[UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))


class TipExtension(Base):
    __tablename__ = "tip_extensions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tip_id: Mapped[UUID] = mapped_column(ForeignKey("intake.tips.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(EncryptedText("intake.tip_extensions.reason"))
    previous_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    new_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Receipt(Base):
    """A receipt code, stored only as its keyed hash, pointing to the report it follows."""

    __tablename__ = "receipts"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[UUID] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Message(Base):
    """A message between officers and the reporter, on a tip or a missing-person report."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_subject", "subject_kind", "subject_id", "created_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[UUID] = mapped_column()
    direction: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(EncryptedText("intake.messages.body"))
    author: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MissingPerson(Base):
    """A missing-person report (đơn trình báo mất tích) that may show signs of trafficking."""

    __tablename__ = "missing_persons"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    full_name: Mapped[str] = mapped_column(EncryptedText("intake.missing_persons.full_name"))
    sex: Mapped[str] = mapped_column(String(10))
    date_of_birth: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.date_of_birth")
    )
    birth_year: Mapped[int | None] = mapped_column(Integer)
    age: Mapped[int | None] = mapped_column(Integer)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_ward_code: Mapped[str] = mapped_column(String(5), index=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    hometown_ward_code: Mapped[str | None] = mapped_column(String(5))
    id_number: Mapped[str | None] = mapped_column(EncryptedText("intake.missing_persons.id_number"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("intake.missing_persons.phone"))
    distinguishing_marks: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.distinguishing_marks")
    )
    circumstances: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.circumstances")
    )
    reporter_name: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.reporter_name")
    )
    reporter_phone: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.reporter_phone")
    )
    reporter_email: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.reporter_email")
    )
    filed_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(20))
    resolution_notes: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.resolution_notes")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Partners are alerted only once the report is published (domain.Publication).
    publication: Mapped[str] = mapped_column(String(10), server_default="pending")
    review_reason: Mapped[str | None] = mapped_column(
        EncryptedText("intake.missing_persons.review_reason")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)


class PossibleMatch(Base):
    """A candidate found by interagency (``interagency.match.found``) for a missing person."""

    __tablename__ = "possible_matches"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    missing_person_id: Mapped[UUID] = mapped_column(
        ForeignKey("intake.missing_persons.id"), index=True
    )
    alert_id: Mapped[UUID] = mapped_column()
    partner_code: Mapped[str] = mapped_column(String(2))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSONB)
    found: Mapped[str] = mapped_column(EncryptedText("intake.possible_matches.found"))
    status: Mapped[str] = mapped_column(String(20), default="candidate")
    # Set from ``interagency.match.decided``: an officer confirmed or rejected the candidate.
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    """An evidence file of a tip: a reporter's (cleaned of its metadata) or an officer's (kept
    as it came, with the SHA-256 taken on receipt: chain of custody). The bytes are in the file
    store under the same id; the name and the type are personal data, encrypted like the rest."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_tip_uploaded", "tip_id", "uploaded_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tip_id: Mapped[UUID] = mapped_column(ForeignKey("intake.tips.id"))
    filename: Mapped[str] = mapped_column(EncryptedText("intake.attachments.filename"))
    media_type: Mapped[str] = mapped_column(EncryptedText("intake.attachments.media_type"))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))
    uploaded_by: Mapped[str | None] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The period figures of ``GET /v1/kpis`` (kpis.py), summed per day and month of receipt (UTC, as
# ``libs.common.figures.day_start`` cuts periods) instead of counted over the tips; kept by
# triggers on ``tips`` (libs/common/rollups.py). Per ward: the counters and the ward hotspots.
TIP_ROLLUP = Rollup(
    schema=SCHEMA,
    name="tip_rollup",
    past_days=True,  # the day of its receipt
    source="tips",
    keys=(("ward_code", String(5)), ("province_code", String(2))),
    counters=("received", "classified", "verified", "resolved", "on_time", "substantiated"),
    contribution=(
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.incident_ward_code, r.province_code,"
        " {sign}, {sign} * (r.classified_at IS NOT NULL)::int,"
        " {sign} * (r.verified_at IS NOT NULL)::int, {sign} * (r.resolved_at IS NOT NULL)::int,"
        " {sign} * coalesce(r.resolved_at <= r.resolution_due_at, false)::int,"
        " {sign} * (r.verification_outcome IS NOT DISTINCT FROM 'substantiated')::int"
        " FROM {rows} AS r"
    ),
    area_key="province_code",
)
# Per province (and the unplaced tips): tips per exploitation type and per destination country.
TIP_KIND_ROLLUP = Rollup(
    schema=SCHEMA,
    name="tip_kind_rollup",
    past_days=True,  # the day of its receipt
    source="tips",
    keys=(
        ("province_code", String(2)),
        ("unplaced", Boolean()),
        ("kind", String(10)),
        ("value", String(40)),
    ),
    counters=("tips",),
    contribution=(
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.province_code,"
        " r.incident_ward_code IS NULL, 'type', t.value, {sign}"
        " FROM {rows} AS r CROSS JOIN LATERAL unnest(r.exploitation_types) AS t(value)"
        " UNION ALL "
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.province_code,"
        " r.incident_ward_code IS NULL, 'country', r.destination_country, {sign}"
        " FROM {rows} AS r WHERE r.destination_country IS NOT NULL"
    ),
    area_key="province_code",
)
# The open tips per day of receipt, province and due day (UTC): the overdue tips of now are the
# rows due before today, and only the tips due from today's start are read one by one.
OPEN_TIP_ROLLUP = Rollup(
    schema=SCHEMA,
    name="open_tip_rollup",
    past_days=True,  # the day of its receipt
    source="tips",
    keys=(("province_code", String(2)), ("unplaced", Boolean()), ("due_on", Date())),
    counters=("tips",),
    contribution=(
        "SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.province_code,"
        " r.incident_ward_code IS NULL, (r.resolution_due_at AT TIME ZONE 'UTC')::date, {sign}"
        " FROM {rows} AS r WHERE r.status IN ({open})"
    ).replace("{open}", ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES))),
    area_key="province_code",
)
CLOCK_ROLLUP = roll_up_open_clocks(metadata)  # open resolution clocks per due day (deadlines)
ROLLUPS = (TIP_ROLLUP, TIP_KIND_ROLLUP, OPEN_TIP_ROLLUP, CLOCK_ROLLUP)  # ``ctip rollups``, fold
tip_rollup = TIP_ROLLUP.table(metadata)
tip_kind_rollup = TIP_KIND_ROLLUP.table(metadata)
open_tip_rollup = OPEN_TIP_ROLLUP.table(metadata)
