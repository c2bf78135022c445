"""The casework service: the case lifecycle, parties and rings (DESIGN.md section 6)."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.crypto import BlindIndex
from services.casework.api import router
from services.casework.consumers import handlers
from services.casework.models import platform
from services.casework.settings import CaseworkSettings


def create_app(settings: CaseworkSettings | None = None) -> FastAPI:
    settings = settings or CaseworkSettings()
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    return create_service_app(
        settings=settings,
        platform=platform,
        routers=[router],
        handlers=handlers(index, settings.stage_rules()),
        title="ctip casework",
        description="Cases from initiation to verdict; parties, rings and their graph.",
    )
