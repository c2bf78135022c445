"""The outreach service: its API comes with its own issue; today it serves operations only."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from services.outreach.models import platform
from services.outreach.settings import OutreachSettings


def create_app(settings: OutreachSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or OutreachSettings(),
        platform=platform,
        routers=[],
        title="ctip outreach",
        description="Communication campaigns, coverage against the 75% target, the plan dashboard.",
    )
