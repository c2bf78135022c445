"""Prometheus scrapes ``/metrics`` as it is written: 200 with the text format, no redirect."""

from __future__ import annotations

import httpx

from libs.common.app import create_service_app
from libs.common.platform import platform_of
from services.outreach.models import metadata
from services.outreach.settings import OutreachSettings


async def test_metrics_answers_at_its_exact_path_in_the_text_format() -> None:
    app = create_service_app(
        settings=OutreachSettings(environment="test"),
        platform=platform_of(metadata),
        routers=[],
        title="t",
        description="t",
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE ctip_http_requests_total counter" in response.text
