"""Alembic per service: one history per schema, versions in ``<schema>.alembic_version``.

A service's ``migrations/env.py`` is two lines that call :func:`run_env`. Developers and ops run
``uv run ctip migrate [service ...]``; tests call :func:`migrate` directly.

Two database roles: migrations run as the role that owns the schemas
(``CTIP_MIGRATION_DATABASE_URL``), the services as a runtime role (``CTIP_DATABASE_URL``) that
:func:`migrate` grants only what a service needs, re-applied after every upgrade so
that tables added later get it too. Above all the runtime role may only INSERT into and SELECT
from ``audit_log``: it cannot rewrite history, switch the append-only trigger off (only the owner
can ALTER a table) or TRUNCATE.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator

ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = ROOT / "services"


def services_with_migrations() -> list[str]:
    order = ["intake", "casework", "victim_support", "interagency", "outreach", "notifications"]
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


def migrate(service: str, owner_url: str, runtime_url: str | None = None) -> str | None:
    """Upgrade ``service`` to head as the owner, then grant the runtime role of ``runtime_url``
    what it needs. Returns that role, or None when both URLs name the same role (a single-role
    development setup, where the separation does not hold)."""
    upgrade(service, owner_url)
    role = runtime_role(owner_url, runtime_url)
    if role is not None:
        asyncio.run(_grant(owner_url, service, role))
    return role


def runtime_role(owner_url: str, runtime_url: str | None) -> str | None:
    if runtime_url is None:
        return None
    owner, runtime = make_url(owner_url).username, make_url(runtime_url).username
    if runtime is None or runtime == owner:
        return None
    return runtime


_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_statements(schema: str, role: str) -> list[str]:
    """Idempotent: everything the runtime role had is revoked and granted again, in one
    transaction, so a grant that drifted (given by hand, or by an older release) is removed.

    * ordinary tables: SELECT, INSERT, UPDATE, DELETE (never TRUNCATE, REFERENCES, TRIGGER);
    * ``audit_log``: INSERT and SELECT only;
    * ``alembic_version``: SELECT only (which release runs is no secret; changing it is);
    * sequences (identity columns): USAGE.
    """
    if not _ROLE_NAME.match(role) or not _ROLE_NAME.match(schema):
        raise ValueError(f"unexpected role or schema name: {role!r}, {schema!r}")
    return [
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"',
        f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
        f'REVOKE UPDATE, DELETE ON "{schema}".audit_log FROM "{role}"',
        f'REVOKE INSERT, UPDATE, DELETE ON "{schema}".alembic_version FROM "{role}"',
        f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
    ]


async def _grant(owner_url: str, schema: str, role: str) -> None:
    engine = create_async_engine(owner_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            for statement in grant_statements(schema, role):
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def comparison_options(schema: str) -> dict[str, Any]:
    """How a schema is compared with its models (``ctip revision``'s autogenerate, and the test
    that the migrations and the models agree): that schema only, the column types too."""

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    return {"include_schemas": True, "include_name": include_name, "compare_type": True}


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``env.py``: online migrations of that schema only."""
    config = context.config
    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    url = config.attributes.get("database_url")
    if url is None:
        from libs.common.settings import ServiceSettings

        settings = ServiceSettings()
        settings.check_production()
        url = settings.migration_database_url or settings.database_url

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
            render_item=render_item,
            **comparison_options(schema),
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
