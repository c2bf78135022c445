"""Every service has one Alembic head, and its schema upgrades from empty to head."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.migrations import alembic_config, services_with_migrations

pytestmark = pytest.mark.integration
SERVICES = ["intake", "casework", "victim_support", "interagency", "outreach", "notifications"]


def test_every_service_has_migrations() -> None:
    assert services_with_migrations() == SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_exactly_one_head(service: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused"))
    assert len(script.get_heads()) == 1


@pytest.mark.parametrize("service", SERVICES)
async def test_each_schema_was_upgraded_from_empty_to_head(service: str, db: AsyncEngine) -> None:
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused"))
    async with db.connect() as conn:
        version = (
            await conn.execute(text(f'SELECT version_num FROM "{service}".alembic_version'))
        ).scalar_one()
        tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": service}
                )
            ).scalars()
        )
    assert version == script.get_current_head()
    assert {"outbox", "inbox", "audit_log", "idempotency_keys"} <= tables
