"""Append-only audit log of reads and changes of personal data, HMAC-chained under a key the
database does not hold (docs/architecture.md, "The audit chain"; SECURITY.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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
from libs.common.crypto import FieldCipher, cipher
from libs.common.observability import correlation_id

if TYPE_CHECKING:
    pass

log = logging.getLogger("ctip.audit")

GENESIS = "0" * 64

# Keys of ``details`` that carry free text written by people (a match decision's note, a
# partner's disabling reason): encrypted before they are stored and chained.
FREE_TEXT_KEYS = frozenset({"note", "reason"})


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


# The key ------------------------------------------------------------------------------------------


def audit_key_from_b64(encoded: str) -> bytes:
    """The chain key from its setting; short keys are refused, as for the blind index."""
    key = base64.b64decode(encoded, validate=True)
    if len(key) < 32:
        raise ValueError("the audit key must be at least 32 bytes (base64)")
    return key


_audit_key: bytes | None = None


def configure_audit_key(key: bytes) -> None:
    """Set the process-wide chain key (done at startup, like the field cipher)."""
    global _audit_key
    if len(key) < 32:
        raise ValueError("the audit key must be at least 32 bytes")
    _audit_key = key


def _configured_key() -> bytes:
    if _audit_key is None:
        raise RuntimeError("the audit key is not configured; call configure_audit_key() first")
    return _audit_key


# Links --------------------------------------------------------------------------------------------


def _canonical_bytes(prev_hash: str, entry: Mapping[str, Any]) -> bytes:
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (prev_hash + canonical).encode("utf-8")


def entry_hash(key: bytes, prev_hash: str, entry: Mapping[str, Any]) -> str:
    """The keyed link: without the key nobody can compute the hash of a row they write."""
    return hmac.new(key, _canonical_bytes(prev_hash, entry), hashlib.sha256).hexdigest()


def unkeyed_entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """The link before the chain was keyed (plain SHA-256): only the migrations use it, to
    re-chain old rows and to go back; verification never accepts it."""
    return hashlib.sha256(_canonical_bytes(prev_hash, entry)).hexdigest()


def canonical_entry(row: Any) -> dict[str, Any]:
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


# Free text ----------------------------------------------------------------------------------------


def details_context(schema: str, name: str, record_type: str, record_id: str) -> str:
    """AES-GCM associated data of a free-text detail: the column, the key and the audited
    record, so a note moved to another entry or another key does not decrypt."""
    return f"{schema}.audit_log.details.{name}:{record_type}:{record_id}"


def seal_details(
    field_cipher: FieldCipher,
    schema: str,
    record_type: str,
    record_id: str,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    sealed = dict(details)
    for name in FREE_TEXT_KEYS & sealed.keys():
        value = sealed[name]
        if isinstance(value, str) and not _is_sealed(value):
            context = details_context(schema, name, record_type, record_id)
            sealed[name] = field_cipher.encrypt(value, context)
    return sealed


def open_details(
    field_cipher: FieldCipher,
    schema: str,
    record_type: str,
    record_id: str,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    opened = dict(details)
    for name in FREE_TEXT_KEYS & opened.keys():
        value = opened[name]
        if isinstance(value, str) and _is_sealed(value):
            context = details_context(schema, name, record_type, record_id)
            opened[name] = field_cipher.decrypt(value, context)
    return opened


def _is_sealed(value: str) -> bool:
    return value.startswith("v1.") and value.count(".") >= 2


# The log ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """``last_seq``/``last_hash``: where the next incremental verification starts."""

    ok: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None
    last_seq: int | None = None
    last_hash: str = GENESIS


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
        key = _configured_key()
        stored_details = seal_details(cipher(), self.schema, record_type, record_id, details or {})
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
            "details": stored_details,
            "correlation_id": correlation_id.get(),
        }
        digest = entry_hash(key, prev, entry)
        await session.execute(
            self.table.insert().values(
                at=at,
                actor=actor_id,
                roles=roles,
                action=action,
                record_type=record_type,
                record_id=record_id,
                purpose=purpose,
                details=stored_details,
                correlation_id=entry["correlation_id"],
                prev_hash=prev,
                hash=digest,
            )
        )
        return digest

    def details_in_clear(self, row: Any) -> dict[str, Any]:
        """An entry's details with its free text decrypted (for an auditor's reading)."""
        return open_details(cipher(), self.schema, row.record_type, row.record_id, row.details)

    async def verify_chain(
        self, session: AsyncSession, *, since: ChainReport | None = None
    ) -> ChainReport:
        """Recompute every link, or only those after ``since`` (a report that held).

        Incremental checks first make sure the last verified entry is still there, unchanged:
        a rewrite of the tail (deleting the newest entries) is only visible that way.
        """
        key = _configured_key()
        prev, count, last_seq = GENESIS, 0, None
        query = select(self.table).order_by(self.table.c.seq)
        if since is not None and since.ok and since.last_seq is not None:
            still = (
                await session.execute(
                    select(self.table.c.hash).where(self.table.c.seq == since.last_seq)
                )
            ).scalar_one_or_none()
            if still != since.last_hash:
                return ChainReport(
                    False,
                    since.entries,
                    since.last_seq,
                    "the last verified entry was removed or changed",
                )
            prev, count, last_seq = since.last_hash, since.entries, since.last_seq
            query = query.where(self.table.c.seq > since.last_seq)
        result = await session.stream(query)
        async for row in result:
            count += 1
            if row.prev_hash != prev:
                return ChainReport(
                    False, count, row.seq, "prev_hash does not match the entry before"
                )
            if not hmac.compare_digest(entry_hash(key, prev, canonical_entry(row)), row.hash):
                return ChainReport(False, count, row.seq, "entry content does not match its hash")
            prev, last_seq = row.hash, row.seq
        return ChainReport(True, count, last_seq=last_seq, last_hash=prev)
