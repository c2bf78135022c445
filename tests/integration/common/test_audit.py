"""The audit log in PostgreSQL: append-only, chained, tampering detected and located.

Entries are appended as the services do, as the runtime role; the tampering is done as the
schemas' owner, the only role that can switch the append-only trigger off."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.auth import Principal
from libs.common.db import Database
from libs.common.platform import platform_of
from services.intake.models import metadata as intake_metadata

platform = platform_of(intake_metadata)

pytestmark = pytest.mark.integration
audit = platform.audit
OFFICER = Principal(sub="officer-1", roles=frozenset({"intake_officer"}), jurisdiction=("01",))


@pytest.fixture
async def database(database_url: str) -> Any:
    db = Database(database_url, pool_size=2)
    yield db
    await db.dispose()


async def append(db: Database, n: int) -> None:
    for i in range(n):
        async with db.sessions() as session, session.begin():
            await audit.record(
                session,
                actor=OFFICER,
                action="read",
                record_type="tip.reporter",
                record_id=f"tip-{i}",
                purpose="verify the reporter's account",
                details={"fields": ["name", "phone"]},
            )


async def test_a_chain_of_entries_verifies(database: Database) -> None:
    await append(database, 5)
    async with database.sessions() as session:
        report = await audit.verify_chain(session)
    assert report.ok and report.entries >= 5


async def test_updating_or_deleting_an_entry_is_refused_even_to_the_owner(
    database: Database, db: AsyncEngine
) -> None:
    await append(database, 1)
    for statement in (
        "UPDATE intake.audit_log SET purpose = 'curiosity'",
        "DELETE FROM intake.audit_log",
        "TRUNCATE intake.audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.begin() as conn:
                await conn.execute(text(statement))


async def test_a_tampered_entry_is_detected_and_named(database: Database, db: AsyncEngine) -> None:
    await append(database, 3)
    async with AsyncSession(db) as session, session.begin():
        target = (
            await session.execute(text("SELECT max(seq) - 1 FROM intake.audit_log"))
        ).scalar_one()
        # Someone with table-owner rights bypasses the trigger to rewrite history.
        await session.execute(text("ALTER TABLE intake.audit_log DISABLE TRIGGER USER"))
        await session.execute(
            text("UPDATE intake.audit_log SET actor = 'someone-else' WHERE seq = :s"),
            {"s": target},
        )
        await session.execute(text("ALTER TABLE intake.audit_log ENABLE TRIGGER USER"))
    try:
        async with database.sessions() as session:
            report = await audit.verify_chain(session)
        assert not report.ok
        assert report.first_broken_seq == target
    finally:
        async with AsyncSession(db) as session, session.begin():
            await session.execute(text("ALTER TABLE intake.audit_log DISABLE TRIGGER USER"))
            await session.execute(
                text("UPDATE intake.audit_log SET actor = 'officer-1' WHERE seq = :s"),
                {"s": target},
            )
            await session.execute(text("ALTER TABLE intake.audit_log ENABLE TRIGGER USER"))
