"""Casework's tables (schema ``casework``). Party data is encrypted; lookups across cases
(related cases, rings) use keyed blind indexes in ``party_index``; evidence files' bytes are in
the file store, their names and types encrypted."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedInt, EncryptedJSON, EncryptedText
from libs.common.db import service_metadata
from libs.common.open_clocks import roll_up_open_clocks
from libs.common.platform import install_deadline_watch, install_file_store, install_platform
from libs.common.rollups import Feed, Rollup
from libs.common.timeline import TimelineMixin

SCHEMA = "casework"
metadata = service_metadata(SCHEMA)
install_platform(SCHEMA, metadata)
install_file_store(metadata)
# Each stage's deadline is watched (``deadline_watches``, record type ``case``, kind ``stage``).
install_deadline_watch(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TipRef(Base):
    """Casework's read model of intake's tips, kept from ``intake.tip.*`` events (it never reads
    intake's tables)."""

    __tablename__ = "tip_refs"
    __table_args__ = (
        # The substantiated tips of a ward verified in a period (``GET /v1/kpis`` of a ward):
        # an index-only range, joined to ``ix_cases_initiated_tip``.
        Index(
            "ix_tip_refs_substantiated_ward",
            "incident_ward_code",
            "verified_at",
            postgresql_include=["tip_id", "province_code"],
            postgresql_where=text("outcome = 'substantiated'"),
        ),
    )

    tip_id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    incident_ward_code: Mapped[str | None] = mapped_column(String(5), index=True)
    province_code: Mapped[str | None] = mapped_column(String(2), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Case(Base):
    """A criminal case (vụ án) about trafficking in persons."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_open_due", "stage_due_at", postgresql_where="status <> 'closed'"),
        # The open cases due from today's start, over whole provinces, read index-only (the
        # figures of now: ``figures_repository.overdue_cases_of``).
        Index(
            "ix_cases_open_due_area",
            "stage_due_at",
            postgresql_include=["ward_code", "province_code"],
            postgresql_where=text("status <> 'closed'"),
        ),
        # Whether a tip has an initiated case, read index-only (substantiated_tip_figures).
        Index(
            "ix_cases_initiated_tip", "tip_id", postgresql_where=text("initiated_at IS NOT NULL")
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tip_id: Mapped[UUID | None] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(EncryptedText("casework.cases.title"))
    summary: Mapped[str | None] = mapped_column(EncryptedText("casework.cases.summary"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    ward_code: Mapped[str] = mapped_column(String(5), index=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    exploitation_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    destination_country: Mapped[str | None] = mapped_column(String(2))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    opened_by: Mapped[str] = mapped_column(String(200))
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stage_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    penal_code_article: Mapped[int | None] = mapped_column(Integer)
    initiation_decision: Mapped[str | None] = mapped_column(String(100))
    initiated_on: Mapped[date | None] = mapped_column(Date)
    initiated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    indictment_number: Mapped[str | None] = mapped_column(String(100))
    indicted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    defendants: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    trial_type: Mapped[str | None] = mapped_column(String(10))
    trial_scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    trial_venue: Mapped[str | None] = mapped_column(EncryptedText("casework.cases.trial_venue"))
    verdict_outcome: Mapped[str | None] = mapped_column(String(40))
    verdict_number: Mapped[str | None] = mapped_column(String(100))
    adjudicated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sentences: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the investigator the case is given to (their ``sub``); unassigned cases go to the ward's
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseEvent(TimelineMixin, Base):
    """The case's timeline: every transition with its legal facts. The facts are encrypted: a
    decline's legal ground, a suspension's reason or a trial's venue can name a person."""

    __tablename__ = "case_events"

    case_id: Mapped[UUID] = mapped_column(ForeignKey("casework.cases.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("casework.case_events.details"), default=dict
    )


class Party(Base):
    """A suspect, victim or witness of a case."""

    __tablename__ = "parties"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("casework.cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    full_name: Mapped[str | None] = mapped_column(EncryptedText("casework.parties.full_name"))
    date_of_birth: Mapped[str | None] = mapped_column(
        EncryptedText("casework.parties.date_of_birth")
    )
    # Encrypted too: in a small ward an age, sex and hometown name a person as surely as a name.
    age: Mapped[int | None] = mapped_column(EncryptedInt("casework.parties.age"))
    sex: Mapped[str | None] = mapped_column(EncryptedText("casework.parties.sex"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("casework.parties.phone"))
    id_number: Mapped[str | None] = mapped_column(EncryptedText("casework.parties.id_number"))
    hometown_ward_code: Mapped[str | None] = mapped_column(
        EncryptedText("casework.parties.hometown_ward_code")
    )
    nationality: Mapped[str | None] = mapped_column(EncryptedText("casework.parties.nationality"))
    notes: Mapped[str | None] = mapped_column(EncryptedText("casework.parties.notes"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(200))


class PartyIndex(Base):
    """Blind-index digests of parties: suspect name + birth year, phone, ID number."""

    __tablename__ = "party_index"
    __table_args__ = (Index("ix_party_index_kind_digest", "kind", "digest"),)

    party_id: Mapped[UUID] = mapped_column(ForeignKey("casework.parties.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[UUID] = mapped_column(index=True)
    province_code: Mapped[str] = mapped_column(String(2))


class Ring(Base):
    """A trafficking ring or group (đường dây, ổ nhóm) grouping cases."""

    __tablename__ = "rings"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedText("casework.rings.name"))
    description: Mapped[str | None] = mapped_column(EncryptedText("casework.rings.description"))
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)


class RingCase(Base):
    __tablename__ = "ring_cases"

    ring_id: Mapped[UUID] = mapped_column(ForeignKey("casework.rings.id"), primary_key=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("casework.cases.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(200))


class Evidence(Base):
    """An evidence file of a case, uploaded by an investigator or a prosecutor and kept as it
    came: the SHA-256 taken on receipt, the uploader and the time are its chain of custody. The
    bytes are in the file store under the same id."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_case_uploaded", "case_id", "uploaded_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("casework.cases.id"))
    filename: Mapped[str] = mapped_column(EncryptedText("casework.evidence.filename"))
    media_type: Mapped[str] = mapped_column(EncryptedText("casework.evidence.media_type"))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TipFile(Base):
    """A file of a tip, as intake announced it (``intake.tip.attachment_added``): its metadata
    only. The bytes stay in intake, fetched from its API when an officer of the tip's case asks.
    Keyed by the tip, not the case, so a file added before or after the case opened both show."""

    __tablename__ = "tip_files"
    __table_args__ = (Index("ix_tip_files_tip_uploaded", "tip_id", "uploaded_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)  # intake's attachment id
    tip_id: Mapped[UUID] = mapped_column()
    filename: Mapped[str] = mapped_column(EncryptedText("casework.tip_files.filename"))
    media_type: Mapped[str] = mapped_column(EncryptedText("casework.tip_files.media_type"))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The period figures of ``GET /v1/kpis`` (kpis.py), summed per day and month (UTC, as
# ``libs.common.figures.day_start`` cuts periods) instead of counted over the cases; kept by
# triggers (libs/common/rollups.py). Each cohort on the day its stage began, per ward.
def _day(column: str) -> str:
    return f"({column} AT TIME ZONE 'UTC')::date"


_TRIED = "coalesce(c.verdict_outcome IN ('convicted', 'acquitted'), false)"
CASE_ROLLUP = Rollup(
    schema=SCHEMA,
    name="case_rollup",
    source="cases",
    keys=(("ward_code", String(5)), ("province_code", String(2))),
    counters=(
        "opened",
        "initiated",
        "initiated_then_indicted",
        "indicted",
        "indicted_then_tried",
        "trials_standard",
        "trials_mobile",
        "trials_model",
    ),
    contribution=(
        f"SELECT {_day('c.opened_at')},"  # noqa: S608
        f" c.ward_code, c.province_code, {{sign}}, 0, 0, 0, 0, 0, 0, 0"
        " FROM {rows} AS c"
        f" UNION ALL SELECT {_day('c.initiated_at')}, c.ward_code, c.province_code, 0, {{sign}},"
        " {sign} * (c.indicted_at IS NOT NULL)::int, 0, 0, 0, 0, 0"
        " FROM {rows} AS c WHERE c.initiated_at IS NOT NULL"
        f" UNION ALL SELECT {_day('c.indicted_at')}, c.ward_code, c.province_code, 0, 0, 0,"
        f" {{sign}}, {{sign}} * {_TRIED}::int, 0, 0, 0"
        " FROM {rows} AS c WHERE c.indicted_at IS NOT NULL"
        f" UNION ALL SELECT {_day('c.trial_scheduled_for')}, c.ward_code, c.province_code,"
        " 0, 0, 0, 0, 0, {sign} * (c.trial_type = 'standard')::int,"
        " {sign} * (c.trial_type = 'mobile')::int, {sign} * (c.trial_type = 'model')::int"
        " FROM {rows} AS c WHERE c.trial_scheduled_for IS NOT NULL"
    ),
    area_key="province_code",
)
# Per province, by the day of opening: cases per exploitation type and destination country.
CASE_KIND_ROLLUP = Rollup(
    schema=SCHEMA,
    name="case_kind_rollup",
    past_days=True,  # the day of its opening
    source="cases",
    keys=(("province_code", String(2)), ("kind", String(10)), ("value", String(40))),
    counters=("cases",),
    contribution=(
        f"SELECT {_day('c.opened_at')},"  # noqa: S608
        f" c.province_code, 'type', t.value, {{sign}}"
        " FROM {rows} AS c CROSS JOIN LATERAL unnest(c.exploitation_types) AS t(value)"
        f" UNION ALL SELECT {_day('c.opened_at')}, c.province_code, 'country',"
        " c.destination_country, {sign} FROM {rows} AS c WHERE c.destination_country IS NOT NULL"
    ),
    area_key="province_code",
)
# Substantiated tips per day of verification and the tip's ward, and how many of them have an
# initiated case: a case's initiation moves the count of its tip's day (the feed of ``cases``);
# both sides take the tip's advisory lock first, so that a tip's copy and its case changed at
# once by two transactions are each counted against the other's committed row.
_SUBSTANTIATED = "r.outcome = 'substantiated' AND r.verified_at IS NOT NULL"
TIP_REF_ROLLUP = Rollup(
    schema=SCHEMA,
    name="tip_ref_rollup",
    past_days=True,  # the day of its verification
    source="tip_refs",
    keys=(("ward_code", String(5)), ("province_code", String(2))),
    counters=("substantiated", "initiated"),
    contribution=(
        f"SELECT {_day('r.verified_at')},"  # noqa: S608
        f" r.incident_ward_code, r.province_code, {{sign}},"
        " {sign} * (EXISTS (SELECT FROM casework.cases AS c"
        " WHERE c.tip_id = r.tip_id AND c.initiated_at IS NOT NULL))::int"
        f" FROM {{rows}} AS r WHERE {_SUBSTANTIATED}"
    ),
    feeds=(
        Feed(
            "cases",
            f"SELECT {_day('r.verified_at')},"  # noqa: S608
            f" r.incident_ward_code, r.province_code, 0,"
            " {sign} * (c.initiated_at IS NOT NULL)::int"
            " FROM {rows} AS c JOIN casework.tip_refs AS r ON r.tip_id = c.tip_id"
            f" WHERE {_SUBSTANTIATED}",
        ),
    ),
    # a statement of many tips (a bulk load) takes the one lock of all tips instead of one each
    serialize=(
        "IF (SELECT count(*) FROM {rows}) > 1000 THEN"
        " PERFORM pg_advisory_xact_lock(hashtext('casework.tip_refs:all'), 0);"
        " ELSE PERFORM pg_advisory_xact_lock_shared(hashtext('casework.tip_refs:all'), 0);"
        " PERFORM pg_advisory_xact_lock(hashtext('casework.tip_refs'), hashtext(t.tip_id::text))"
        " FROM (SELECT DISTINCT tip_id FROM {rows} WHERE tip_id IS NOT NULL ORDER BY 1) AS t;"
        " END IF"
    ),
    area_key="province_code",
)
# The open cases per day their stage is due (UTC) and province: the overdue cases of now are the
# rows due before today, and only the cases due from today's start are read one by one.
OPEN_CASE_ROLLUP = Rollup(
    schema=SCHEMA,
    name="open_case_rollup",
    source="cases",
    keys=(("province_code", String(2)),),
    counters=("cases",),
    contribution=(
        f"SELECT {_day('c.stage_due_at')}, c.province_code, {{sign}} FROM {{rows}} AS c"  # noqa: S608
        " WHERE c.status <> 'closed' AND c.stage_due_at IS NOT NULL"
    ),
    area_key="province_code",
)
CLOCK_ROLLUP = roll_up_open_clocks(metadata)  # open stage clocks per due day (deadlines)
ROLLUPS = (CASE_ROLLUP, CASE_KIND_ROLLUP, TIP_REF_ROLLUP, OPEN_CASE_ROLLUP, CLOCK_ROLLUP)
case_rollup = CASE_ROLLUP.table(metadata)
case_kind_rollup = CASE_KIND_ROLLUP.table(metadata)
tip_ref_rollup = TIP_REF_ROLLUP.table(metadata)
open_case_rollup = OPEN_CASE_ROLLUP.table(metadata)
