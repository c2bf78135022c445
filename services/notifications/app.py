"""The notifications service: each officer's inbox of deadlines and assignments, over REST and
Server-Sent Events, worked out from the deadline and assignment events of the other services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from libs.common.app import Worker, create_service_app
from libs.common.context import Context
from libs.common.db import Database
from libs.common.directory import Directory, directory_for
from libs.common.platform import platform_of
from libs.common.rollup_ops import fold_worker
from services.notifications import delivery_api
from services.notifications.api import router
from services.notifications.channels_worker import channels_worker
from services.notifications.consumers import HANDLERS
from services.notifications.domain import ladder_from
from services.notifications.models import ROLLUPS, metadata
from services.notifications.settings import NotificationsSettings
from services.notifications.stream import StreamHub


def create_app(
    settings: NotificationsSettings | None = None, directory: Directory | None = None
) -> FastAPI:
    """``directory``: who holds which role where; by default the identity provider (or, off
    production, the seeded file) named by the settings."""
    settings = settings or NotificationsSettings()
    ladder_from(settings.ladder, settings.officer_roles)  # a misworded ladder refuses to start
    settings.use_directory(directory or directory_for(settings))
    hub = StreamHub(settings.database_url)

    def listener(db: Database, make_context: Callable[[Any], Context[Any]]) -> Worker:
        """The one LISTEN connection of this process, which every open stream shares."""
        return hub

    app = create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router, delivery_api.router],
        handlers=HANDLERS,
        workers=[listener, channels_worker(settings), fold_worker(ROLLUPS, settings)],
        title="ctip notifications",
        description="Each officer's notifications of approaching and missed legal deadlines and "
        "of assignments: an inbox over REST and Server-Sent Events, and preferences.",
    )
    app.state.directory = settings.directory
    app.state.stream_hub = hub
    return app
