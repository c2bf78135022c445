"""The outreach service: communication, coverage against the 75% target, commendations, the
plan report and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.platform import platform_of
from libs.common.rollup_ops import fold_worker
from services.outreach.api import pages, router
from services.outreach.consumers import HANDLERS
from services.outreach.models import ROLLUPS, metadata
from services.outreach.settings import OutreachSettings


def create_app(settings: OutreachSettings | None = None) -> FastAPI:
    settings = settings or OutreachSettings()
    return create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router, pages],
        handlers=HANDLERS,
        workers=[fold_worker(ROLLUPS, settings)],
        title="ctip outreach",
        description="Campaigns, activities and coverage against the 75% target; commendations; "
        "the plan report and the steering committee's dashboard.",
    )
