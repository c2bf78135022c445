"""Issue 13, Medium 6 and the Low on audit notes in clear: the audit log cannot be rewritten
without trace by whoever holds the application's database credentials.

* the chain is keyed (HMAC-SHA256 under ``CTIP_AUDIT_KEY``, not in the database): a row written
  with the code but without the key is named by verification;
* the services run as a runtime role with INSERT and SELECT alone on ``audit_log``; the owner
  role, used by migrations only, is the one that could switch the trigger off;
* the worker verifies the chain and exports the result; ``ctip audit verify`` does it on demand;
* free text in an entry's details (an officer's note) is encrypted, and the chain still holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from libs.common.audit import GENESIS
from libs.common.auth import Principal
from libs.common.db import Database
from libs.common.platform import platform_of
from services.intake.models import metadata as intake_metadata
from services.interagency.models import metadata as interagency_metadata
from tests.integration.conftest import RUNTIME_ROLE, drop_database

intake_platform = platform_of(intake_metadata)
interagency_platform = platform_of(interagency_metadata)

pytestmark = [pytest.mark.integration, pytest.mark.security]

audit = intake_platform.audit
OFFICER = Principal(sub="officer-7", roles=frozenset({"intake_officer"}), jurisdiction=("01",))
NOTE = "Người báo tin là anh trai của nạn nhân, số 0912 345 678"  # synthetic


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[Database]:
    """The services' connection: the runtime role."""
    db = Database(database_url, pool_size=2)
    yield db
    await db.dispose()


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The schemas' owner, as migrations connect: what an attacker with those rights can do."""
    engine = create_async_engine(owner_database_url)
    yield engine
    await engine.dispose()


async def append(db: Database, n: int = 1, **details: Any) -> None:
    for i in range(n):
        async with db.sessions() as session, session.begin():
            await audit.record(
                session,
                actor=OFFICER,
                action="read",
                record_type="tip.reporter",
                record_id=f"tip-sec-{i}",
                purpose="verify the reporter's account",
                details=details or {"fields": ["name"]},
            )


async def verify(db: Database) -> Any:
    async with db.sessions() as session:
        return await audit.verify_chain(session)


async def forge_unkeyed_entry(conn: Any) -> int:
    """What someone holding the code and a database login but not the key writes: the next
    link computed as the code computes it, with a plain SHA-256."""
    prev = (
        await conn.execute(text("SELECT hash FROM intake.audit_log ORDER BY seq DESC LIMIT 1"))
    ).scalar_one()
    at = datetime.now(UTC)
    entry = {
        "at": at.isoformat(),
        "actor": "officer-7",
        "roles": "intake_officer",
        "action": "read",
        "record_type": "tip.reporter",
        "record_id": "tip-that-was-never-read",
        "purpose": "a read that never happened",
        "details": {},
        "correlation_id": None,
    }
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256((prev + canonical).encode()).hexdigest()
    seq: int = (
        await conn.execute(
            text(
                "INSERT INTO intake.audit_log (at, actor, roles, action, record_type, record_id,"
                " purpose, details, correlation_id, prev_hash, hash) VALUES (:at, :actor,"
                " :roles, :action, :record_type, :record_id, :purpose, '{}'::jsonb, NULL,"
                " :prev, :hash) RETURNING seq"
            ),
            {
                **{k: v for k, v in entry.items() if k not in ("details", "correlation_id")},
                "at": at,
                "prev": prev,
                "hash": digest,
            },
        )
    ).scalar_one()
    return seq


async def remove(owner: AsyncEngine, seq: int) -> None:
    """Put the log back as it was for the other tests of the session (as the owner)."""
    async with owner.begin() as conn:
        await conn.execute(text("ALTER TABLE intake.audit_log DISABLE TRIGGER USER"))
        await conn.execute(text("DELETE FROM intake.audit_log WHERE seq >= :s"), {"s": seq})
        await conn.execute(text("ALTER TABLE intake.audit_log ENABLE TRIGGER USER"))


# The keyed chain ----------------------------------------------------------------------------------


async def test_an_entry_forged_by_the_runtime_role_without_the_key_is_named(
    runtime: Database, owner: AsyncEngine
) -> None:
    await append(runtime, 2)
    async with runtime.engine.begin() as conn:
        forged = await forge_unkeyed_entry(conn)
    try:
        report = await verify(runtime)
        assert not report.ok
        assert report.first_broken_seq == forged
        assert report.reason == "entry content does not match its hash"
    finally:
        await remove(owner, forged)
    assert (await verify(runtime)).ok


async def test_an_entry_forged_by_the_owner_past_the_trigger_is_named(
    runtime: Database, owner: AsyncEngine
) -> None:
    await append(runtime, 1)
    async with owner.begin() as conn:
        await conn.execute(text("ALTER TABLE intake.audit_log DISABLE TRIGGER USER"))
        forged = await forge_unkeyed_entry(conn)
        await conn.execute(text("ALTER TABLE intake.audit_log ENABLE TRIGGER USER"))
    try:
        report = await verify(runtime)
        assert (report.ok, report.first_broken_seq) == (False, forged)
    finally:
        await remove(owner, forged)


# Free text in the details -------------------------------------------------------------------------


async def test_a_note_is_stored_encrypted_and_the_chain_still_verifies(
    runtime: Database, owner: AsyncEngine
) -> None:
    await append(runtime, 1, note=NOTE, view="full")
    async with owner.connect() as conn:
        row = (
            await conn.execute(text("SELECT * FROM intake.audit_log ORDER BY seq DESC LIMIT 1"))
        ).one()
    stored = json.dumps(row.details, ensure_ascii=False)
    assert "0912" not in stored and "anh trai" not in stored
    assert row.details["view"] == "full"
    assert audit.details_in_clear(row)["note"] == NOTE
    assert (await verify(runtime)).ok


async def test_a_match_decisions_note_is_not_in_clear_in_interagency_audit_log(
    runtime: Database, owner: AsyncEngine
) -> None:
    """The writer the review named (``services/interagency/inbound.py``: ``{"note": note}``)."""
    async with runtime.sessions() as session, session.begin():
        await interagency_platform.audit.record(
            session,
            actor=OFFICER,
            action="match.confirmed",
            record_type="match",
            record_id="match-sec-1",
            purpose="missing-person search",
            details={"note": NOTE},
        )
    async with owner.connect() as conn:
        notes = (
            (
                await conn.execute(
                    text("SELECT details->>'note' FROM interagency.audit_log WHERE record_id = :r"),
                    {"r": "match-sec-1"},
                )
            )
            .scalars()
            .all()
        )
    assert notes and all(NOTE not in n and "0912" not in n for n in notes)
    async with runtime.sessions() as session:
        assert (await interagency_platform.audit.verify_chain(session)).ok


# The runtime role ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE intake.audit_log SET purpose = 'curiosity'",
        "DELETE FROM intake.audit_log",
        "TRUNCATE intake.audit_log",
    ],
    ids=["update", "delete", "truncate"],
)
async def test_the_runtime_role_cannot_rewrite_or_empty_the_audit_log(
    runtime: Database, statement: str
) -> None:
    await append(runtime, 1)
    with pytest.raises(DBAPIError, match="permission denied for table audit_log"):
        async with runtime.engine.begin() as conn:
            await conn.execute(text(statement))


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE intake.audit_log DISABLE TRIGGER USER",
        "ALTER TABLE intake.audit_log DISABLE TRIGGER audit_log_append_only",
        "DROP TRIGGER audit_log_append_only ON intake.audit_log",
        "ALTER TABLE intake.audit_log ADD COLUMN whitewash text",
    ],
    ids=["disable-all-triggers", "disable-the-trigger", "drop-the-trigger", "alter"],
)
async def test_the_runtime_role_cannot_switch_the_trigger_off_or_alter_the_table(
    runtime: Database, statement: str
) -> None:
    with pytest.raises(DBAPIError, match=r"must be owner of (table|relation) audit_log"):
        async with runtime.engine.begin() as conn:
            await conn.execute(text(statement))


async def test_the_runtime_role_cannot_replace_the_trigger_function(runtime: Database) -> None:
    with pytest.raises(DBAPIError, match="permission denied for schema intake"):
        async with runtime.engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE OR REPLACE FUNCTION intake.audit_log_append_only() RETURNS trigger"
                    " LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
                )
            )


async def test_the_runtime_role_cannot_create_objects_in_a_service_schema(
    runtime: Database,
) -> None:
    with pytest.raises(DBAPIError, match="permission denied for schema intake"):
        async with runtime.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE intake.shadow_audit (x int)"))


async def test_the_runtime_role_cannot_move_the_migration_version(runtime: Database) -> None:
    with pytest.raises(DBAPIError, match="permission denied for table alembic_version"):
        async with runtime.engine.begin() as conn:
            await conn.execute(text("UPDATE intake.alembic_version SET version_num = 'x'"))


async def test_the_runtime_role_appends_and_reads_the_audit_log(runtime: Database) -> None:
    await append(runtime, 2)
    report = await verify(runtime)
    assert report.ok and report.entries >= 2
    async with runtime.engine.connect() as conn:
        user = (await conn.execute(text("SELECT current_user"))).scalar_one()
    assert user == RUNTIME_ROLE  # the services do not connect as the owner


async def test_grants_are_reapplied_and_idempotent(
    owner_database_url: str, database_url: str, runtime: Database
) -> None:
    """``ctip migrate`` again (every release does) takes back a grant that drifted."""
    from libs.common.migrations import migrate

    owner = create_async_engine(owner_database_url)
    async with owner.begin() as conn:
        await conn.execute(text(f"GRANT UPDATE, DELETE ON intake.audit_log TO {RUNTIME_ROLE}"))
    await owner.dispose()
    await asyncio.to_thread(migrate, "intake", owner_database_url, database_url)
    with pytest.raises(DBAPIError, match="permission denied for table audit_log"):
        async with runtime.engine.begin() as conn:
            await conn.execute(text("DELETE FROM intake.audit_log"))


# Verification on a schedule and on demand ---------------------------------------------------------


def gauge(name: str, service: str) -> float | None:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, {"service": service})


async def test_the_worker_verifies_the_chain_and_exports_the_result(
    runtime: Database, owner: AsyncEngine
) -> None:
    from libs.common.audit_verifier import AuditChainVerifier

    label = "intake-security-test"
    verifier = AuditChainVerifier(runtime, audit, label)
    await append(runtime, 2)
    first = await verifier.verify_once()  # at start: the whole chain
    assert first.ok and gauge("ctip_audit_chain_ok", label) == 1
    assert gauge("ctip_audit_entries_verified", label) == first.entries
    assert (gauge("ctip_audit_last_verified_timestamp_seconds", label) or 0) > 0
    await append(runtime, 1)
    assert (await verifier.verify_once()).entries == first.entries + 1  # from the last entry
    async with runtime.engine.begin() as conn:
        forged = await forge_unkeyed_entry(conn)
    try:
        broken = await verifier.verify_once()
        assert (broken.ok, broken.first_broken_seq) == (False, forged)
        assert gauge("ctip_audit_chain_ok", label) == 0
        assert gauge("ctip_audit_first_broken_seq", label) == forged
    finally:
        await remove(owner, forged)
    assert (await verifier.verify_once()).ok  # a full check again once restored
    assert gauge("ctip_audit_chain_ok", label) == 1


async def test_the_worker_notices_the_newest_entries_deleted(
    runtime: Database, owner: AsyncEngine
) -> None:
    """Deleting the tail leaves a chain that holds from the start: only a verifier that
    remembers the last entry it verified can tell."""
    from libs.common.audit_verifier import AuditChainVerifier

    verifier = AuditChainVerifier(runtime, audit, "intake-security-test-tail")
    await append(runtime, 2)
    before = await verifier.verify_once()
    assert before.ok and before.last_seq is not None
    async with owner.begin() as conn:
        row = (
            await conn.execute(
                text("SELECT * FROM intake.audit_log WHERE seq = :s"), {"s": before.last_seq}
            )
        ).one()
    await remove(owner, before.last_seq)
    try:
        report = await verifier.verify_once()
        assert not report.ok
        assert report.reason == "the last verified entry was removed or changed"
        again = await verifier.verify_once()  # the full check that follows remembers it too
        assert (again.ok, again.reason) == (False, report.reason)
    finally:
        async with owner.begin() as conn:  # put the entry back as it was
            await conn.execute(
                text(
                    "INSERT INTO intake.audit_log (seq, at, actor, roles, action, record_type,"
                    " record_id, purpose, details, correlation_id, prev_hash, hash)"
                    " OVERRIDING SYSTEM VALUE VALUES (:seq, :at, :actor, :roles, :action,"
                    " :record_type, :record_id, :purpose, CAST(:details AS jsonb),"
                    " :correlation_id, :prev_hash, :hash)"
                ),
                {**row._asdict(), "details": json.dumps(row.details)},
            )
    assert (await verify(runtime)).ok


def test_ctip_audit_verify_exits_1_and_names_the_first_broken_entry(
    database_url: str, owner_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from libs.common.cli import main

    assert main(["audit", "verify", "intake", "--database-url", database_url]) == 0
    assert capsys.readouterr().out.startswith("intake: ok, ")

    async def forge() -> int:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as conn:
                return await forge_unkeyed_entry(conn)
        finally:
            await engine.dispose()

    async def restore(seq: int) -> None:
        engine = create_async_engine(owner_database_url)
        try:
            await remove(engine, seq)
        finally:
            await engine.dispose()

    forged = asyncio.run(forge())
    try:
        assert main(["audit", "verify", "intake", "--database-url", database_url]) == 1
        out = capsys.readouterr().out
        assert f"intake: BROKEN at seq {forged}" in out
        assert "entry content does not match its hash" in out
    finally:
        asyncio.run(restore(forged))
    assert main(["audit", "verify", "intake", "--database-url", database_url]) == 0


# Entries written before the chain was keyed -------------------------------------------------------


async def test_the_migration_rechains_old_entries_and_encrypts_their_notes(
    owner_database_url: str,
) -> None:
    """Entries chained with plain SHA-256 and a note in clear, as the code before wrote them,
    verify under the key after the upgrade (verification never accepts an unkeyed link),
    their note is no longer in clear, and their other fields are unchanged."""
    from libs.common.audit import unkeyed_entry_hash
    from libs.common.migrations import upgrade

    before_keyed = "1740a81bd4ce"  # intake's head before the keyed chain
    name = f"ctip_test_rechain_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(owner_database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    await admin.dispose()
    url = make_url(owner_database_url).set(database=name).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        await asyncio.to_thread(upgrade, "intake", url, before_keyed)
        prev = GENESIS
        async with engine.begin() as conn:
            for i, details in enumerate([{"view": "full"}, {"note": NOTE}, {}]):
                at = datetime(2026, 11, 1, 8, i, tzinfo=UTC)
                entry = {
                    "at": at.isoformat(),
                    "actor": "officer-7",
                    "roles": "intake_officer",
                    "action": "read",
                    "record_type": "tip",
                    "record_id": f"tip-old-{i}",
                    "purpose": "before the key",
                    "details": details,
                    "correlation_id": None,
                }
                digest = unkeyed_entry_hash(prev, entry)
                await conn.execute(
                    text(
                        "INSERT INTO intake.audit_log (at, actor, roles, action, record_type,"
                        " record_id, purpose, details, prev_hash, hash) VALUES (:at, :actor,"
                        " :roles, :action, :record_type, :record_id, :purpose,"
                        " CAST(:details AS jsonb), :prev, :hash)"
                    ),
                    {
                        **{k: entry[k] for k in ("actor", "roles", "action", "record_type")},
                        "record_id": entry["record_id"],
                        "purpose": entry["purpose"],
                        "at": at,
                        "details": json.dumps(details),
                        "prev": prev,
                        "hash": digest,
                    },
                )
                prev = digest
        async with AsyncSession(engine) as session:
            assert not (await audit.verify_chain(session)).ok  # unkeyed links do not verify

        await asyncio.to_thread(upgrade, "intake", url, "head")

        async with AsyncSession(engine) as session:
            report = await audit.verify_chain(session)
            assert (report.ok, report.entries) == (True, 3)
            rows = (
                await session.execute(text("SELECT * FROM intake.audit_log ORDER BY seq"))
            ).all()
        assert [r.purpose for r in rows] == ["before the key"] * 3
        assert rows[0].details == {"view": "full"}
        assert "0912" not in json.dumps(rows[1].details, ensure_ascii=False)
        assert audit.details_in_clear(rows[1])["note"] == NOTE
        async with engine.begin() as conn:  # the trigger is on again
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(text("DELETE FROM intake.audit_log"))
    finally:
        await engine.dispose()
        await drop_database(name, owner_database_url)
