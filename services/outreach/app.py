"""The outreach service: communication, coverage against the 75% target, commendations, the
plan report and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.platform import platform_of
from services.outreach.api import pages, router
from services.outreach.consumers import HANDLERS
from services.outreach.models import metadata
from services.outreach.settings import OutreachSettings


def create_app(settings: OutreachSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or OutreachSettings(),
        platform=platform_of(metadata),
        routers=[router, pages],
        handlers=HANDLERS,
        title="ctip outreach",
        description="Campaigns, activities and coverage against the 75% target; commendations; "
        "the plan report and the steering committee's dashboard.",
    )
