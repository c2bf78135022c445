"""The intake service: tips, receipts, missing-person reports and the evidence files of tips."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from libs.common.app import Worker, create_service_app
from libs.common.context import Context
from libs.common.db import Database
from libs.common.directory import directory_for
from libs.common.periodic import Periodic, deadline_worker
from libs.common.platform import platform_of
from libs.common.rollup_ops import fold_worker
from services.intake import attachment_api, attachments
from services.intake.api import router
from services.intake.consumers import HANDLERS
from services.intake.models import ROLLUPS, metadata
from services.intake.receipts import Limits
from services.intake.settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    def file_retention(db: Database, make_context: Callable[[Any], Context[Any]]) -> Worker | None:
        """Files of unsubstantiated tips past their retention go; with the relay (the worker)."""
        if not settings.run_relay:
            return None
        return Periodic(
            db,
            make_context,
            "attachment retention",
            attachments.purge_past_retention,
            interval_seconds=settings.attachment_purge_seconds,
        )

    def deadlines(db: Database, make_context: Callable[[Any], Context[Any]]) -> Worker | None:
        """A tip's clocks signalled as they run out (``tip_clocks``); with the relay."""
        if not settings.run_relay:
            return None
        return deadline_worker(
            "intake", settings.deadline_thresholds_days, settings.deadline_scan_seconds
        )(db, make_context)

    app = create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router, attachment_api.router],
        handlers=HANDLERS,
        workers=[file_retention, deadlines, fold_worker(ROLLUPS, settings)],
        body_limits=attachment_api.UPLOAD_PATHS,
        title="ctip intake",
        description="Tips, receipts and missing-person reports; triage under the legal clock.",
    )
    app.state.intake_limits = Limits.from_settings(settings, app.state.blind_index)
    # who holds which role where: an assignee must be an intake officer of the tip's place
    app.state.directory = directory_for(settings)
    return app
