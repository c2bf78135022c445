"""The victim_support service: its API comes with its own issue; today operations only."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from services.victim_support.models import platform
from services.victim_support.settings import VictimSupportSettings


def create_app(settings: VictimSupportSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or VictimSupportSettings(),
        platform=platform,
        routers=[],
        title="ctip victim_support",
        description="Reception, identification, protection and support of victims; NGO programs.",
    )
