"""The intake service: tips, receipts and missing-person reports."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.platform import platform_of
from services.intake.api import router
from services.intake.consumers import HANDLERS
from services.intake.models import metadata
from services.intake.receipts import Limits
from services.intake.settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    app = create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router],
        handlers=HANDLERS,
        title="ctip intake",
        description="Tips, receipts and missing-person reports; triage under the legal clock.",
    )
    app.state.intake_limits = Limits.from_settings(settings, app.state.blind_index)
    return app
