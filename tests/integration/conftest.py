"""Integration fixtures: the real PostgreSQL and Kafka of the local stack (``make up``).

Each test session migrates a fresh copy of every service schema in the ``ctip_test`` database
and uses its own Kafka topic prefix, so runs never see each other's events.

As deployed, two roles: the schemas are migrated as their owner (``owner_database_url``, also
the ``db`` engine tests use to set up and inspect), and the services run as the runtime role
(``database_url``, what ``settings_for`` gives them), which ``ctip migrate`` grants only what a
service needs (``libs/common/migrations.py``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.common.audit import audit_key_from_b64, configure_audit_key
from libs.common.crypto import FieldCipher, configure_cipher
from libs.common.migrations import migrate, services_with_migrations
from libs.common.settings import ServiceSettings
from tests.support import running

ROOT = Path(__file__).resolve().parents[2]
# The same variables as deploy/local/*.sh, so a checkout on other ports tests against its own stack.
PG_HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("CTIP_PG_PORT", "5432"))
KAFKA = f"127.0.0.1:{os.environ.get('CTIP_KAFKA_PORT', '9092')}"
TEST_DB_URL = os.environ.get(
    "CTIP_TEST_DATABASE_URL", f"postgresql+asyncpg://ctip:ctip@{PG_HOST}:{PG_PORT}/ctip_test"
)
# The services' runtime role, made by deploy/local/postgres.sh.
RUNTIME_ROLE = os.environ.get("CTIP_TEST_RUNTIME_ROLE", "ctip_app")
RUNTIME_PASSWORD = os.environ.get("CTIP_TEST_RUNTIME_PASSWORD", "ctip_app")
T = TypeVar("T")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def stack() -> None:
    host, _, port = KAFKA.rpartition(":")
    missing = [
        name
        for name, ok in (
            ("PostgreSQL", _reachable(PG_HOST, PG_PORT)),
            ("Kafka", _reachable(host, int(port))),
        )
        if not ok
    ]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not running: start the local stack with `make up`")


@pytest.fixture(scope="session")
def owner_database_url(stack: None) -> Iterator[str]:
    """A database of this test session's own, migrated from empty to head as the schemas'
    owner, the runtime role granted, dropped at the end.

    Its own, so that test sessions running side by side (several checkouts, a developer and a
    helper) never drop each other's schemas.
    """
    name = f"ctip_test_{uuid.uuid4().hex[:12]}"
    url = TEST_DB_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(TEST_DB_URL, f'CREATE DATABASE "{name}" TEMPLATE template0'))
    asyncio.run(
        _admin(
            url, "CREATE EXTENSION IF NOT EXISTS pg_trgm", "CREATE EXTENSION IF NOT EXISTS unaccent"
        )
    )
    try:
        runtime = _runtime_url(url)
        for service in services_with_migrations():
            if migrate(service, url, runtime) is None:
                pytest.fail(f"the runtime role {RUNTIME_ROLE!r} is the owner: set another")
        yield url
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture(scope="session")
def database_url(owner_database_url: str) -> str:
    """The services' URL: the runtime role, on this session's database."""
    url = _runtime_url(owner_database_url)
    try:
        asyncio.run(_admin(url, "SELECT 1"))
    except Exception as exc:
        pytest.fail(
            f"cannot connect as the runtime role {RUNTIME_ROLE!r} ({type(exc).__name__}):"
            " `make up` (deploy/local/postgres.sh start) creates it, also on a running stack"
        )
    return url


def _runtime_url(owner_url: str) -> str:
    return (
        make_url(owner_url)
        .set(username=RUNTIME_ROLE, password=RUNTIME_PASSWORD)
        .render_as_string(hide_password=False)
    )


async def _admin(url: str, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    await engine.dispose()


async def drop_database(name: str, url: str = TEST_DB_URL) -> None:
    """Drop a test's private database, through ``url`` (another database of the cluster).

    ``WITH (FORCE)`` ends the sessions still in it, but fails, ending none, when one of them is
    not ours to signal (we are no superuser): "must be a member of the role whose process is
    being terminated". An autovacuum worker at work there is one (the likely cause of a CI
    failure on 2026-12-07), a session of the runtime role that is closing another. A plain
    ``DROP DATABASE`` tells an autovacuum worker to stop and waits for it, so that is the next
    try; a second later, the first again, until the other sessions are gone."""
    force = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    for attempt in range(DROP_ATTEMPTS):
        try:
            await _admin(url, force if attempt % 2 == 0 else force.removesuffix(" WITH (FORCE)"))
            return
        except DBAPIError:
            if attempt == DROP_ATTEMPTS - 1:
                raise
            await asyncio.sleep(1.0)


DROP_ATTEMPTS = 6


@pytest.fixture(scope="session")
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture(scope="session")
def settings_for(database_url: str, topic_prefix: str) -> Callable[..., Any]:
    """Settings of a service class pointed at the test database and this run's topics."""

    def build(cls: type[ServiceSettings], **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "database_url": database_url,
            "kafka_bootstrap": KAFKA,
            "topic_prefix": topic_prefix,
            "relay_poll_seconds": 0.5,
            "consumer_retry_base_seconds": 0.05,
            "consumer_max_attempts": 3,
            "environment": "test",
            "log_level": "WARNING",
        }
        values.update(overrides)
        return cls(**values)

    return build


@pytest.fixture
async def db(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own handle, as the owner: set up and inspect what the services did."""
    engine = create_async_engine(owner_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def intake(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The intake API, in-process, with its relay (no consumers of its own yet)."""
    from services.intake.app import create_app
    from services.intake.settings import IntakeSettings

    async with running(create_app(settings_for(IntakeSettings))) as client:
        yield client


@pytest.fixture(autouse=True, scope="session")
def field_cipher() -> None:
    """The process-wide cipher and audit key the services configure at start, for tests that use
    the machinery (outbox, audit, encrypted columns) without an app."""
    settings = ServiceSettings()
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    configure_audit_key(audit_key_from_b64(settings.audit_key.get_secret_value()))
