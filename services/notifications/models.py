"""notifications' tables (schema ``notifications``): each person's notifications, and how each
person wants to hear of them.

A notification names a record and a clock, never a person of the record: its kind, the record's
type, id and gateway link, the deadline, and where the record belongs (ward, province). Its
``seq`` orders one person's inbox and is the ``id:`` of the stream's events (``Last-Event-ID``).
"""

from __future__ import annotations

from datetime import datetime, time
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.crypto import EncryptedText
from libs.common.db import service_metadata
from libs.common.platform import install_platform
from libs.common.rollups import Rollup

SCHEMA = "notifications"
metadata = service_metadata(SCHEMA)
install_platform(SCHEMA, metadata)

# Committed notifications wake the open streams of their recipient (``stream.StreamHub``).
NOTIFY_CHANNEL = "ctip_notifications"


class Base(DeclarativeBase):
    metadata = metadata


class Notification(Base):
    """One person told of one event: UNIQUE(source_event_id, recipient), so an event seen twice
    tells nobody twice (the inbox dedups first; this holds whatever path a row takes).

    ``delivery_planned``: false until the channels' worker has planned its e-mail and webhook
    deliveries (per the recipient's preferences), then true; the partial index finds the rows
    left to plan."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("source_event_id", "recipient"),
        Index("ix_notifications_recipient_seq", "recipient", text("seq DESC")),
        Index(
            "ix_notifications_unread",
            "recipient",
            text("seq DESC"),
            postgresql_where=text("read_at IS NULL"),
        ),
        Index(
            "ix_notifications_delivery_unplanned",
            "seq",
            postgresql_where=text("NOT delivery_planned"),
        ),
        Index("ix_notifications_province_created", "province_code", "created_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    recipient: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[UUID]
    deadline_kind: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    threshold_seconds: Mapped[int | None] = mapped_column(Integer)
    ward_code: Mapped[str | None] = mapped_column(String(5))
    province_code: Mapped[str | None] = mapped_column(String(2))
    link: Mapped[str] = mapped_column(String(300))
    source_event_id: Mapped[UUID]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_planned: Mapped[bool] = mapped_column(Boolean, server_default=false())


class Preference(Base):
    """How one person wants to hear: channels (the inbox always among them), quiet hours in
    local time (Asia/Ho_Chi_Minh; a window may pass midnight), the daily e-mail digest."""

    __tablename__ = "preferences"
    __table_args__ = (
        CheckConstraint("'inbox' = ANY(channels)", name="inbox_always_on"),
        CheckConstraint(
            "channels <@ ARRAY['inbox', 'email', 'webhook']::varchar[]", name="known_channels"
        ),
        CheckConstraint("(quiet_start IS NULL) = (quiet_end IS NULL)", name="quiet_both_or_none"),
    )

    recipient: Mapped[str] = mapped_column(String(200), primary_key=True)
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    email_digest: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def notify_trigger_ddl(schema: str = SCHEMA) -> list[str]:
    """A row trigger: each committed notification wakes its recipient's streams. PostgreSQL
    sends NOTIFYs at commit and folds identical ones, so a transaction that tells one person of
    many events wakes them once. The payload is the recipient's ``sub``, nothing else."""
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.notifications_notify() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{NOTIFY_CHANNEL}', NEW.recipient);
                RETURN NULL;
            END
            $$""",
        f"""CREATE TRIGGER notifications_notify AFTER INSERT ON {schema}.notifications
            FOR EACH ROW EXECUTE FUNCTION {schema}.notifications_notify()""",
    ]


def drop_notify_trigger_ddl(schema: str = SCHEMA) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS notifications_notify ON {schema}.notifications",
        f"DROP FUNCTION IF EXISTS {schema}.notifications_notify()",
    ]


# The channels (``deliveries.py``): e-mail and webhook deliveries, and the provinces' gateways.


class Delivery(Base):
    """One message to send by e-mail or webhook, tried until it is sent or kept as failed.

    An e-mail carries one person's notifications of one digest window (``notification_ids``,
    folded by ``digest_key`` ``email:<sub>:<window>``), or a daily digest (``digest:<day>:<sub>``,
    with the span in ``digest_since``/``digest_until`` and the jurisdiction in ``digest_scope``,
    NULL for the whole country); a webhook carries one notification to ``province_code``'s
    gateway. No address is kept: the directory gives it when the message leaves.

    ``last_attempt_at`` is set when a worker takes the delivery: from then on it joins no more
    notifications, so every attempt sends the same message under the same id."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_deliveries_status_created", "status", "created_at", "id"),
        CheckConstraint("channel IN ('email', 'webhook')", name="known_channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="known_status"),
        CheckConstraint("kind IN ('notices', 'digest')", name="known_kind"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(200))
    notification_ids: Mapped[list[UUID]] = mapped_column(
        ARRAY(Uuid), server_default=text("'{}'::uuid[]")
    )
    digest_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    digest_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    digest_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    digest_scope: Mapped[list[str] | None] = mapped_column(ARRAY(String(5)))
    province_code: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    replays: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChannelEndpoint(Base):
    """A province's SMS or Zalo gateway: where its people's webhook notifications go, signed with
    ``secret`` (encrypted at rest). A 410 from the gateway disables it until it is set again."""

    __tablename__ = "channel_endpoints"

    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(EncryptedText("notifications.channel_endpoints.secret"))
    enabled: Mapped[bool] = mapped_column(Boolean)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The figures of ``GET /v1/kpis`` (kpis.py) over whole provinces, summed per day and month of
# creation (UTC, as ``libs.common.figures.day_start`` cuts periods) instead of counted over a
# year of notifications; kept by triggers (libs/common/rollups.py): per province and kind, the
# notifications created and those of them read.
NOTIFICATION_ROLLUP = Rollup(
    schema=SCHEMA,
    name="notification_rollup",
    past_days=True,  # the day of its creation
    source="notifications",
    keys=(("province_code", String(2)), ("kind", String(40))),
    counters=("created", "read"),
    contribution=(
        "SELECT (r.created_at AT TIME ZONE 'UTC')::date, r.province_code, r.kind,"
        " {sign}, {sign} * (r.read_at IS NOT NULL)::int FROM {rows} AS r"
    ),
    area_key="province_code",
)
ROLLUPS = (NOTIFICATION_ROLLUP,)  # ``ctip rollups check|fold|backfill``, the fold
notification_rollup = NOTIFICATION_ROLLUP.table(metadata)
