"""Migrations that re-link every service's audit chain (run as the owner, keys from settings)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from libs.common.audit import (
    GENESIS,
    audit_key_from_b64,
    canonical_entry,
    entry_hash,
    open_details,
    seal_details,
    unkeyed_entry_hash,
)
from libs.common.crypto import FieldCipher


def rechain(
    connection: Connection,
    schema: str,
    link: Callable[[str, Mapping[str, Any]], str],
    details: Callable[[Any], dict[str, Any]],
) -> int:
    """Rewrite every entry's details and links in order, for a migration run as the owner:
    the row trigger is switched off for this transaction only (DDL is transactional), so no
    other session ever writes past it. Returns the number of entries."""
    table = f"{schema}.audit_log"
    connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
    connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER audit_log_append_only"))
    rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY seq")).all()  # noqa: S608
    prev = GENESIS
    updates = []
    for row in rows:
        new_details = details(row)
        entry = {**canonical_entry(row), "details": new_details}
        digest = link(prev, entry)
        updates.append(
            {"seq": row.seq, "details": json.dumps(new_details), "prev": prev, "hash": digest}
        )
        prev = digest
    if updates:
        connection.execute(
            text(
                f"UPDATE {table} SET details = CAST(:details AS jsonb),"  # noqa: S608
                " prev_hash = :prev, hash = :hash WHERE seq = :seq"
            ),
            updates,
        )
    connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER audit_log_append_only"))
    return len(updates)


def key_the_chain(connection: Connection, schema: str, audit_key: str, field_keys: str) -> int:
    """Upgrade of every service's audit log: HMAC links under the audit key, free text
    encrypted. The keys come from the service's settings (the migration job needs
    ``CTIP_AUDIT_KEY`` and ``CTIP_FIELD_KEYS``)."""
    key = audit_key_from_b64(audit_key)
    field_cipher = FieldCipher.from_spec(field_keys)
    return rechain(
        connection,
        schema,
        lambda prev, entry: entry_hash(key, prev, entry),
        lambda row: seal_details(field_cipher, schema, row.record_type, row.record_id, row.details),
    )


def unkey_the_chain(connection: Connection, schema: str, field_keys: str) -> int:
    """Downgrade: plain SHA-256 links and free text in clear again, as the old code expects."""
    field_cipher = FieldCipher.from_spec(field_keys)
    return rechain(
        connection,
        schema,
        unkeyed_entry_hash,
        lambda row: open_details(field_cipher, schema, row.record_type, row.record_id, row.details),
    )
