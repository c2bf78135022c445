"""The casework service: the case lifecycle, parties and rings (DESIGN.md section 6)."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import create_service_app
from services.casework.consumers import HANDLERS
from services.casework.models import platform
from services.casework.settings import CaseworkSettings


def create_app(settings: CaseworkSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or CaseworkSettings(),
        platform=platform,
        routers=[],
        handlers=HANDLERS,
        title="ctip casework",
        description="Cases from initiation to verdict; parties, rings and their graph.",
    )
