"""The casework service: the case lifecycle, parties, rings and the evidence files of cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from libs.common.app import Worker, create_service_app
from libs.common.context import Context
from libs.common.db import Database
from libs.common.directory import directory_for
from libs.common.gauges import GaugeRefresher
from libs.common.observability import DEADLINES_OVERDUE
from libs.common.periodic import deadline_worker
from libs.common.platform import platform_of
from libs.common.rollup_ops import fold_worker
from services.casework import evidence_api, kpis
from services.casework.api import router
from services.casework.consumers import HANDLERS
from services.casework.models import ROLLUPS, metadata
from services.casework.settings import CaseworkSettings


def create_app(settings: CaseworkSettings | None = None) -> FastAPI:
    settings = settings or CaseworkSettings()

    def deadlines(db: Database, make_context: Callable[[Any], Context[Any]]) -> Worker | None:
        """Cases past their legal deadline, as a gauge ops alert on; with the relay (the worker)."""
        if not settings.run_relay:
            return None
        labels = {"service": settings.service_name}
        return GaugeRefresher(
            db, make_context, DEADLINES_OVERDUE, labels, "kind", kpis.overdue_cases
        )

    def stage_deadlines(db: Database, make_context: Callable[[Any], Context[Any]]) -> Worker | None:
        """Each stage's deadline signalled as it nears and passes; with the relay (the worker)."""
        if not settings.run_relay:
            return None
        factory = deadline_worker(
            "casework", settings.deadline_thresholds_days, settings.deadline_scan_seconds
        )
        return factory(db, make_context)

    app = create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router, evidence_api.router],
        handlers=HANDLERS,
        workers=[deadlines, stage_deadlines, fold_worker(ROLLUPS, settings)],
        body_limits=evidence_api.UPLOAD_PATHS,
        title="ctip casework",
        description="Cases from initiation to verdict; parties, rings and their graph; evidence.",
    )
    # Who holds which role where (assignment): the identity provider, or the seeded file locally.
    app.state.directory = directory_for(settings)
    return app
