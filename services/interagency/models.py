"""Interagency's tables (schema ``interagency``): secrets and personal fields encrypted; missing
persons' ID numbers, phones and names kept only as blind-index digests and keyed blocking keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedText
from libs.common.db import service_metadata
from libs.common.platform import install_platform
from libs.common.rollups import Feed, Rollup

SCHEMA = "interagency"
metadata = service_metadata(SCHEMA)
install_platform(SCHEMA, metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Partner(Base):
    """A partner province's system: where we send alerts, the secrets both ways, the lease of
    its delivery lane (``lane_*``: one request in flight per partner) and its circuit breaker
    (``circuit_*``, see ``circuit.py``)."""

    __tablename__ = "partners"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    webhook_url: Mapped[str] = mapped_column(Text)
    alert_types: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    border_countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)))
    status: Mapped[str] = mapped_column(String(10), index=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outbound_secret: Mapped[str] = mapped_column(EncryptedText("interagency.partners.outbound"))
    outbound_previous: Mapped[str | None] = mapped_column(
        EncryptedText("interagency.partners.outbound_previous")
    )
    outbound_previous_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    inbound_secret: Mapped[str] = mapped_column(EncryptedText("interagency.partners.inbound"))
    inbound_previous: Mapped[str | None] = mapped_column(
        EncryptedText("interagency.partners.inbound_previous")
    )
    inbound_previous_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lane_owner: Mapped[str | None] = mapped_column(String(100))
    lane_leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    circuit: Mapped[str] = mapped_column(String(10), default="closed", server_default="closed")
    circuit_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    circuit_open_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    circuit_open_seconds: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Alert(Base):
    """An alert in or out: allow-listed ``data`` encrypted whole, ``owner_*`` the jurisdiction
    that reads it (``domain.Owner``; NULL for bulletins, which everyone reads)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_created", "created_at", "id"),
        Index("ix_alerts_type_created", "alert_type", "created_at"),
        Index("ix_alerts_owner_province_created", "owner_province_code", "created_at"),
        Index("ix_alerts_owner_ward_created", "owner_ward_code", "created_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    alert_type: Mapped[str] = mapped_column(String(30))
    partner_code: Mapped[str | None] = mapped_column(String(2), index=True)
    subject_id: Mapped[UUID | None] = mapped_column(index=True)
    event_id: Mapped[str | None] = mapped_column(String(200))
    owner_ward_code: Mapped[str | None] = mapped_column(String(5))
    owner_province_code: Mapped[str | None] = mapped_column(String(2))
    data: Mapped[str] = mapped_column(EncryptedText("interagency.alerts.data"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """One alert to one partner; ``id`` is the ``webhook-id``, the same on every retry."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "partner_code"),
        Index(
            "ix_deliveries_due",
            "partner_code",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_deliveries_status_created", "status", "created_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    alert_id: Mapped[UUID] = mapped_column(ForeignKey("interagency.alerts.id"), index=True)
    partner_code: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    replays: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    delivery_id: Mapped[UUID] = mapped_column(ForeignKey("interagency.deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))


class InboundReceipt(Base):
    """The ``webhook-id``s a partner sent us, so a retried delivery has no second effect. Kept
    well past the senders' retry window (about 28 hours for a Svix-like schedule)."""

    __tablename__ = "inbound_receipts"

    partner_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    alert_id: Mapped[UUID] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class MissingPersonRef(Base):
    """Read model of intake's missing-person reports (from ``intake.missing_person.*``)."""

    __tablename__ = "missing_person_refs"

    missing_person_id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    full_name: Mapped[str] = mapped_column(EncryptedText("interagency.missing_person_refs.name"))
    sex: Mapped[str] = mapped_column(String(10))
    date_of_birth: Mapped[str | None] = mapped_column(
        EncryptedText("interagency.missing_person_refs.date_of_birth")
    )
    birth_year: Mapped[int | None] = mapped_column(Integer)
    hometown_ward_code: Mapped[str | None] = mapped_column(String(5))
    last_seen_ward_code: Mapped[str] = mapped_column(String(5))
    province_code: Mapped[str] = mapped_column(String(2))
    # Deprecated, always NULL; kept for the previous release during a rolling upgrade.
    name_folded: Mapped[str | None] = mapped_column(String(200), deferred=True)
    id_digest: Mapped[str | None] = mapped_column(String(32), index=True)
    phone_digest: Mapped[str | None] = mapped_column(String(32), index=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MatchKey(Base):
    """The blocking keys of an open missing person's name (``matching.stored_name_keys``), as
    keyed 64-bit HMACs: found persons are looked up here, never by a name in clear. Deleted when
    the report is resolved."""

    __tablename__ = "match_keys"

    digest: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    missing_person_id: Mapped[UUID] = mapped_column(
        ForeignKey("interagency.missing_person_refs.missing_person_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )


class Match(Base):
    """A scored, explained candidate: one of our missing persons and a partner's alert."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("missing_person_id", "alert_id"),
        Index("ix_matches_created", "created_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    missing_person_id: Mapped[UUID] = mapped_column(index=True)
    alert_id: Mapped[UUID] = mapped_column(ForeignKey("interagency.alerts.id"), index=True)
    partner_code: Mapped[str] = mapped_column(String(2))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


# The figures of ``GET /v1/kpis`` (kpis.py), summed per day and month (UTC, as
# ``libs.common.figures.day_start`` cuts periods) instead of counted over a year of alerts; kept
# by triggers (libs/common/rollups.py). The alerts per direction, type and partner, on the day
# each was created:
ALERT_ROLLUP = Rollup(
    schema=SCHEMA,
    name="alert_rollup",
    past_days=True,  # the day of its alert's creation
    source="alerts",
    keys=(("direction", String(3)), ("alert_type", String(30)), ("partner_code", String(2))),
    counters=("alerts",),
    contribution=(
        "SELECT (r.created_at AT TIME ZONE 'UTC')::date, r.direction, r.alert_type,"
        " r.partner_code, {sign} FROM {rows} AS r"
    ),
)
# The deliveries per status and partner, on the day their alert was created (the sender moves
# their status). An alert's creation time never moves, but if it did, the feed would follow: only
# an update of alerts can move them (a new alert has no deliveries yet, and an alert that has some
# cannot be deleted: their foreign key).
DELIVERY_ROLLUP = Rollup(
    schema=SCHEMA,
    name="delivery_rollup",
    past_days=True,  # the day of its alert's creation
    source="deliveries",
    keys=(("status", String(10)), ("partner_code", String(2))),
    counters=("deliveries",),
    # each alert's day looked up by its key: a join would hash the whole alerts table for the
    # sender's every batch (the planner cannot know a trigger's rows are few)
    contribution=(
        "SELECT (SELECT (a.created_at AT TIME ZONE 'UTC')::date FROM interagency.alerts AS a"
        " WHERE a.id = d.alert_id), d.status, d.partner_code, {sign} FROM {rows} AS d"
    ),
    feeds=(
        Feed(
            "alerts",
            "SELECT (a.created_at AT TIME ZONE 'UTC')::date, d.status, d.partner_code, {sign}"
            " FROM {rows} AS a JOIN interagency.deliveries AS d ON d.alert_id = a.id",
            on=("UPDATE",),
        ),
    ),
)
ROLLUPS = (ALERT_ROLLUP, DELIVERY_ROLLUP)  # ``ctip rollups check|fold|backfill``, the fold
alert_rollup = ALERT_ROLLUP.table(metadata)
delivery_rollup = DELIVERY_ROLLUP.table(metadata)
