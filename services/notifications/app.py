"""The notifications service: each officer's inbox of deadlines and assignments, over REST and
Server-Sent Events, worked out from the deadline and assignment events of the other services."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.directory import Directory, directory_for
from libs.common.platform import platform_of
from services.notifications.api import router
from services.notifications.consumers import HANDLERS
from services.notifications.domain import ladder_from
from services.notifications.models import metadata
from services.notifications.settings import NotificationsSettings


def create_app(
    settings: NotificationsSettings | None = None, directory: Directory | None = None
) -> FastAPI:
    settings = settings or NotificationsSettings()
    ladder_from(settings.ladder, settings.officer_roles)  # a misworded ladder refuses to start
    settings.use_directory(directory or directory_for(settings))
    app = create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router],
        handlers=HANDLERS,
        title="ctip notifications",
        description="Each officer's notifications of approaching and missed legal deadlines and "
        "of assignments: an inbox over REST and Server-Sent Events, and preferences.",
    )
    app.state.directory = settings.directory
    return app
