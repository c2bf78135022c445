"""Alembic per service: one history per schema, versions in ``<schema>.alembic_version``.

A service's ``migrations/env.py`` is two lines that call :func:`run_env`. Developers and ops run
``uv run ctip migrate [service ...]``; tests call :func:`upgrade` directly.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator

ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = ROOT / "services"


def services_with_migrations() -> list[str]:
    order = ["intake", "casework", "victim_support", "interagency", "outreach"]
    found = {p.parent.parent.name for p in SERVICES_DIR.glob("*/migrations/env.py")}
    return [s for s in order if s in found] + sorted(found - set(order))


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("version_locations", str(SERVICES_DIR / service / "migrations/versions"))
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = service
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``env.py``: online migrations of that schema only."""
    config = context.config
    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    url = config.attributes.get("database_url")
    if url is None:
        from libs.common.settings import ServiceSettings

        url = ServiceSettings().database_url

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
        """Encrypted columns are plain text to the database: migrations need not import us."""
        if type_ == "type" and isinstance(obj, TypeDecorator):
            return f"sa.{type(obj.impl_instance).__name__}()"
        return False

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await connection.commit()
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())
