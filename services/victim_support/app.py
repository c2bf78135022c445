"""The victim_support service: reception to reintegration, NGO programs (DESIGN.md section 7)."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.crypto import BlindIndex
from services.victim_support.api import router
from services.victim_support.consumers import handlers
from services.victim_support.models import platform
from services.victim_support.settings import VictimSupportSettings


def create_app(settings: VictimSupportSettings | None = None) -> FastAPI:
    settings = settings or VictimSupportSettings()
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    return create_service_app(
        settings=settings,
        platform=platform,
        routers=[router],
        handlers=handlers(index),
        title="ctip victim_support",
        description="Reception, identification, protection, support by law, reintegration; "
        "NGO programs under consent.",
    )
