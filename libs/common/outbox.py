"""Transactional outbox: an event exists if and only if its change committed
(docs/architecture.md, "The outbox"). Its relay to Kafka is ``libs.common.relay``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import EncryptedJSON
from libs.common.events import CloudEvent, event_type, topic_for
from libs.common.ids import new_id
from libs.common.observability import correlation_id
from libs.contracts import payload_model


def outbox_table(metadata: MetaData) -> Table:
    table = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("id", PG_UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("type", String(200), nullable=False),
        # Encrypted: events carry the minimum personal data their consumers need.
        Column("event", EncryptedJSON(f"{metadata.schema}.outbox.event"), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
    )
    Index(
        "ix_outbox_unpublished",
        table.c.seq,
        postgresql_where=table.c.published_at.is_(None),
    )
    Index("ix_outbox_published_at", table.c.published_at)
    return table


def notify_trigger_ddl(schema: str) -> list[str]:
    """A statement-level trigger that wakes the relay when outbox rows are inserted.

    PostgreSQL delivers a transaction's NOTIFYs at commit and folds identical ones into one, so a
    writer pays no round trip for it and a transaction adding many events sends one wake-up.
    Each service's migration runs these statements (``downgrade`` runs
    ``drop_notify_trigger_ddl``).
    """
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.outbox_notify() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{outbox_channel(schema)}', '');
                RETURN NULL;
            END
            $$""",
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()""",
    ]


def drop_notify_trigger_ddl(schema: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox",
        f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()",
    ]


def outbox_channel(schema: str) -> str:
    return f"ctip_outbox_{schema}"


class Outbox:
    """The outbox of one service: ``add`` an event inside the caller's transaction."""

    INSERT_COLUMNS = ("id", "topic", "key", "type", "event")

    def __init__(self, metadata: MetaData, service: str) -> None:
        self.service = service
        self.schema = metadata.schema or service
        self.table = outbox_table(metadata)
        self.channel = outbox_channel(self.schema)

    async def add(
        self,
        session: AsyncSession,
        short_type: str,
        subject: UUID | str,
        data: BaseModel | dict[str, Any],
    ) -> CloudEvent:
        """Validate the payload against its contract and write the event row (no commit)."""
        event, row = self.event_row(short_type, subject, data)
        await session.execute(self.table.insert().values(**row))
        # The relay is woken by the table's NOTIFY trigger (``notify_trigger_ddl``), at commit.
        return event

    def event_row(
        self, short_type: str, subject: UUID | str, data: BaseModel | dict[str, Any]
    ) -> tuple[CloudEvent, dict[str, Any]]:
        """The event and its outbox row, for callers that write the row themselves
        (``INSERT_COLUMNS`` of ``self.table``; see ``libs.common.db.InsertTogether``)."""
        model = payload_model(short_type)
        if isinstance(data, BaseModel) and (model is None or isinstance(data, model)):
            payload = data.model_dump(mode="json")
        else:
            raw = data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)
            payload = raw if model is None else model.model_validate(raw).model_dump(mode="json")
        event_id = new_id()
        event = CloudEvent(
            id=str(event_id),
            source=f"/ctip/{self.service}",
            type=event_type(short_type),
            subject=str(subject),
            correlationid=correlation_id.get(),
            data=payload,
        )
        return event, {
            "id": event_id,
            "topic": topic_for(short_type),
            "key": str(subject),
            "type": event.type,
            "event": event.model_dump(mode="json", exclude_none=True),
        }
