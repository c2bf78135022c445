"""The interagency service: partner provinces, signed webhooks both ways, missing-person matching;
besides the relay and the consumers it runs the webhook sender unless ``run_delivery_worker`` is
off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.db import Database
from libs.common.gauges import GaugeRefresher
from libs.common.observability import PARTNER_CIRCUIT
from libs.common.platform import platform_of
from libs.common.rollup_ops import fold_worker
from services.interagency import partners
from services.interagency.access import Ctx
from services.interagency.api import InboundBodyLimit, outbound, router
from services.interagency.consumers import HANDLERS
from services.interagency.delivery import DeliveryWorker
from services.interagency.models import ROLLUPS, metadata
from services.interagency.settings import InteragencySettings


def create_app(settings: InteragencySettings | None = None) -> FastAPI:
    settings = settings or InteragencySettings()

    def sender(db: Database, make_context: Callable[[Any], Ctx]) -> DeliveryWorker | None:
        return DeliveryWorker(db, settings, make_context) if settings.run_delivery_worker else None

    def circuits(db: Database, make_context: Callable[[Any], Ctx]) -> GaugeRefresher | None:
        """Each partner's breaker as a gauge ops alert on; beside the sender that moves it."""
        if not settings.run_delivery_worker:
            return None
        labels = {"service": settings.service_name}
        return GaugeRefresher(
            db,
            make_context,
            PARTNER_CIRCUIT,
            labels,
            "partner",
            partners.circuit_gauge,
            interval_seconds=settings.circuit_gauge_seconds,
        )

    app = create_service_app(
        settings=settings,
        platform=platform_of(metadata),
        routers=[router],
        webhooks=[outbound],
        handlers=HANDLERS,
        workers=[sender, circuits, fold_worker(ROLLUPS, settings)],
        title="ctip interagency",
        description="Partner provinces, signed webhooks both ways, missing-person matching.",
    )
    app.add_middleware(InboundBodyLimit, max_bytes=settings.inbound_max_bytes)
    return app
