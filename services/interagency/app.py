"""The interagency service: partner provinces, signed webhooks both ways, missing-person
matching (DESIGN.md sections 4 and 8).

Besides the relay and the consumers that ``create_service_app`` runs, the API process runs the
webhook sender (:class:`DeliveryWorker`) unless ``run_delivery_worker`` is off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from libs.common.app import create_service_app
from libs.common.crypto import BlindIndex
from services.interagency.api import router
from services.interagency.consumers import handlers
from services.interagency.delivery import DeliveryWorker
from services.interagency.models import platform
from services.interagency.settings import InteragencySettings


def create_app(settings: InteragencySettings | None = None) -> FastAPI:
    settings = settings or InteragencySettings()
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    app = create_service_app(
        settings=settings,
        platform=platform,
        routers=[router],
        handlers=handlers(index, settings),
        title="ctip interagency",
        description="Partner provinces, signed webhooks both ways, missing-person matching.",
    )
    platform_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with platform_lifespan(app):
            worker = None
            task = None
            if settings.run_delivery_worker:
                worker = DeliveryWorker(app.state.db, settings)
                task = asyncio.create_task(worker.run(), name="DeliveryWorker")
            app.state.delivery_worker = worker
            try:
                yield
            finally:
                if worker is not None and task is not None:
                    worker.stop()
                    _, pending = await asyncio.wait(
                        [task], timeout=settings.delivery_timeout_seconds + 5
                    )
                    for leftover in pending:
                        leftover.cancel()

    app.router.lifespan_context = lifespan
    return app
