"""The victim_support service: reception to reintegration, NGO programs under consent."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.platform import platform_of
from services.victim_support.api import router
from services.victim_support.consumers import HANDLERS
from services.victim_support.models import metadata
from services.victim_support.settings import VictimSupportSettings


def create_app(settings: VictimSupportSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or VictimSupportSettings(),
        platform=platform_of(metadata),
        routers=[router],
        handlers=HANDLERS,
        title="ctip victim_support",
        description="Reception, identification, protection, support by law, reintegration; "
        "NGO programs under consent.",
    )
