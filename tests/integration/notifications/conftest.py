"""notifications under test: the app with its consumer, relay and stream listener running, on a
seeded directory that each test adds the people of its own ward to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.context import Context, context_factory
from libs.common.crypto import BlindIndex
from libs.common.directory import SeededDirectory
from libs.common.platform import platform_of
from services.notifications.app import create_app
from services.notifications.models import metadata
from services.notifications.settings import NotificationsSettings
from tests.integration.notifications.support import Ward, new_ward
from tests.support import running


@pytest.fixture(scope="session")
def directory() -> SeededDirectory:
    return SeededDirectory()


@pytest.fixture
def ward(directory: SeededDirectory) -> Ward:
    return new_ward(directory)


@pytest.fixture(scope="session")
def notifications_settings(settings_for: Callable[..., Any]) -> NotificationsSettings:
    settings: NotificationsSettings = settings_for(
        NotificationsSettings,
        stream_heartbeat_seconds=0.5,
        stream_poll_seconds=5.0,
        stream_max_seconds=60.0,
    )
    return settings


@pytest.fixture(scope="module")
def notifications_app(
    notifications_settings: NotificationsSettings, directory: SeededDirectory
) -> FastAPI:
    return create_app(notifications_settings, directory)


@pytest.fixture(scope="module")
async def notifications(notifications_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(notifications_app) as client:
        yield client


@pytest.fixture
def as_consumer(
    notifications_settings: NotificationsSettings, notifications_app: FastAPI
) -> Callable[[AsyncSession], Context[NotificationsSettings]]:
    """The context the consumer hands a handler, over the given transaction."""
    key = notifications_settings.blind_index_key.get_secret_value()
    return context_factory(notifications_settings, platform_of(metadata), BlindIndex.from_b64(key))
