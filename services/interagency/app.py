"""The interagency service: its API comes with its own issue; today it serves operations only."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from services.interagency.models import platform
from services.interagency.settings import InteragencySettings


def create_app(settings: InteragencySettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or InteragencySettings(),
        platform=platform,
        routers=[],
        title="ctip interagency",
        description="Partner provinces, signed webhooks both ways, missing-person matching.",
    )
