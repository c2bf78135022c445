"""Fixtures of the shared machinery's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from libs.common.db import Database


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The services' connection (the runtime role), as the relay and consumers open it."""
    db = Database(database_url, pool_size=4)
    yield db
    await db.dispose()
