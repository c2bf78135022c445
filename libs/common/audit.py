"""Append-only, hash-chained audit log of reads and changes of personal data.

Each entry stores ``hash = sha256(prev_hash || canonical JSON of the entry)``. Appends are
serialised per schema with a transaction-level advisory lock, so the chain never forks, and a
trigger (installed by the migration, see :func:`audit_trigger_sql`) refuses UPDATE and DELETE.
:func:`verify_chain` recomputes every link and names the first one that does not hold, which is
what a tampered, deleted or reordered row looks like.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.observability import correlation_id

GENESIS = "0" * 64

# ``X-Purpose``: why personal data is read; written to the audit log with every such read.
Purpose = Annotated[
    str,
    Header(
        alias="X-Purpose",
        min_length=3,
        max_length=200,
        description="why personal data is read; written to the audit log",
    ),
]


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("roles", String(500), nullable=False),
        Column("action", String(100), nullable=False),
        Column("record_type", String(100), nullable=False),
        Column("record_id", String(100), nullable=False),
        Column("purpose", Text, nullable=False),
        Column("details", JSONB, nullable=False),
        Column("correlation_id", String(128)),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )


def audit_trigger_sql(schema: str) -> list[str]:
    """DDL for the migration: the audit table refuses UPDATE, DELETE and TRUNCATE."""
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.audit_log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
          RAISE EXCEPTION 'audit_log is append-only';
        END $$""",
        f"""CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_log
        FOR EACH ROW EXECUTE FUNCTION {schema}.audit_log_append_only()""",
        f"""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {schema}.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_log_append_only()""",
    ]


def _entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _canonical(row: Any) -> dict[str, Any]:
    return {
        "at": row.at.astimezone(UTC).isoformat(),
        "actor": row.actor,
        "roles": row.roles,
        "action": row.action,
        "record_type": row.record_type,
        "record_id": row.record_id,
        "purpose": row.purpose,
        "details": row.details,
        "correlation_id": row.correlation_id,
    }


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None


class AuditLog:
    def __init__(self, metadata: MetaData) -> None:
        self.table = audit_table(metadata)
        self.schema = metadata.schema or "public"
        self._lock_key = zlib.crc32(f"ctip-audit:{self.schema}".encode())

    async def record(
        self,
        session: AsyncSession,
        *,
        actor: Principal | str,
        action: str,
        record_type: str,
        record_id: str,
        purpose: str,
        details: dict[str, Any] | None = None,
    ) -> str:
        """Append one entry in the caller's transaction; returns its hash."""
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self._lock_key})
        prev = (
            await session.execute(
                select(self.table.c.hash).order_by(self.table.c.seq.desc()).limit(1)
            )
        ).scalar_one_or_none() or GENESIS
        if isinstance(actor, Principal):
            actor_id, roles = actor.sub, ",".join(sorted(actor.roles))
        else:
            actor_id, roles = actor, ""
        at = datetime.now(UTC)
        entry = {
            "at": at.isoformat(),
            "actor": actor_id,
            "roles": roles,
            "action": action,
            "record_type": record_type,
            "record_id": record_id,
            "purpose": purpose,
            "details": details or {},
            "correlation_id": correlation_id.get(),
        }
        digest = _entry_hash(prev, entry)
        await session.execute(
            self.table.insert().values(
                at=at,
                actor=actor_id,
                roles=roles,
                action=action,
                record_type=record_type,
                record_id=record_id,
                purpose=purpose,
                details=entry["details"],
                correlation_id=entry["correlation_id"],
                prev_hash=prev,
                hash=digest,
            )
        )
        return digest

    async def verify_chain(self, session: AsyncSession) -> ChainReport:
        prev = GENESIS
        count = 0
        result = await session.stream(select(self.table).order_by(self.table.c.seq))
        async for row in result:
            count += 1
            if row.prev_hash != prev:
                return ChainReport(
                    False, count, row.seq, "prev_hash does not match the entry before"
                )
            if _entry_hash(prev, _canonical(row)) != row.hash:
                return ChainReport(False, count, row.seq, "entry content does not match its hash")
            prev = row.hash
        return ChainReport(True, count)
