"""The casework service: the case lifecycle, parties and rings."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.platform import platform_of
from services.casework.api import router
from services.casework.consumers import HANDLERS
from services.casework.models import metadata
from services.casework.settings import CaseworkSettings


def create_app(settings: CaseworkSettings | None = None) -> FastAPI:
    settings = settings or CaseworkSettings()
    return create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router],
        handlers=HANDLERS,
        title="ctip casework",
        description="Cases from initiation to verdict; parties, rings and their graph.",
    )
