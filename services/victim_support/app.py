"""The victim_support service: reception to reintegration, NGO programs under consent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from libs.common.app import Worker, create_service_app
from libs.common.context import Context
from libs.common.db import Database
from libs.common.periodic import deadline_worker
from libs.common.platform import platform_of
from libs.common.rollup_ops import fold_worker
from services.victim_support.api import router
from services.victim_support.consumers import HANDLERS
from services.victim_support.models import ROLLUPS, metadata
from services.victim_support.settings import VictimSupportSettings


def create_app(settings: VictimSupportSettings | None = None) -> FastAPI:
    settings = settings or VictimSupportSettings()

    def verification_deadlines(
        db: Database, make_context: Callable[[Any], Context[Any]]
    ) -> Worker | None:
        """The 3-day verification signalled as it nears and passes; with the relay (the
        worker), not in every API replica."""
        if not settings.run_relay:
            return None
        factory = deadline_worker(
            "victim_support", settings.deadline_thresholds_days, settings.deadline_scan_seconds
        )
        return factory(db, make_context)

    return create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router],
        handlers=HANDLERS,
        workers=[verification_deadlines, fold_worker(ROLLUPS, settings)],
        title="ctip victim_support",
        description="Reception, identification, protection, support by law, reintegration; "
        "NGO programs under consent.",
    )
