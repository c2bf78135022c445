"""The API documentation as an integrator on a government intranet reads it: Debian's Chromium,
driven by Playwright, opens ``/docs`` (Swagger UI) and ``/redoc`` of every service with every
request to another origin refused, as no CDN is reachable there, and finds each operation of the
service's OpenAPI document on the page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, Served, _listening_socket

pytestmark = pytest.mark.e2e

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
async def documented(settings_for: Callable[..., Any]) -> AsyncIterator[dict[str, Served]]:
    """All five services, each a real uvicorn server, without relay or consumers."""
    from services.casework.app import create_app as casework_app
    from services.casework.settings import CaseworkSettings
    from services.intake.app import create_app as intake_app
    from services.intake.settings import IntakeSettings
    from services.interagency.app import create_app as interagency_app
    from services.interagency.settings import InteragencySettings
    from services.outreach.app import create_app as outreach_app
    from services.outreach.settings import OutreachSettings
    from services.victim_support.app import create_app as victim_support_app
    from services.victim_support.settings import VictimSupportSettings

    quiet = {"run_relay": False, "run_consumers": False}
    apps = {
        "intake": intake_app(settings_for(IntakeSettings, **quiet)),
        "casework": casework_app(settings_for(CaseworkSettings, **quiet)),
        "victim_support": victim_support_app(settings_for(VictimSupportSettings, **quiet)),
        "interagency": interagency_app(settings_for(InteragencySettings, **quiet)),
        "outreach": outreach_app(settings_for(OutreachSettings, **quiet)),
    }
    running = {name: Served(name, app, _listening_socket()) for name, app in apps.items()}
    try:
        await asyncio.gather(*(s.start() for s in running.values()))
        yield running
    finally:
        for served in running.values():
            await served.stop()


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


async def operation_ids(served: Served) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as client:
        document = (await client.get(f"{served.url}/openapi.json")).json()
    sections = [*document["paths"].values(), *document.get("webhooks", {}).values()]
    return [
        operation["operationId"]
        for item in sections
        for method, operation in item.items()
        if method in METHODS
    ]


async def offline_page(browser: Browser, served: Served) -> tuple[Page, list[str]]:
    """A page that may reach the service and nothing else; what it tried elsewhere is listed."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []

    async def only_the_service(route: Route) -> None:
        if route.request.url.startswith(served.url):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_service)
    return page, elsewhere


@pytest.mark.parametrize(
    "name", ["intake", "casework", "victim_support", "interagency", "outreach"]
)
async def test_swagger_ui_lists_every_operation_without_a_cdn(
    browser: Browser, documented: dict[str, Served], name: str
) -> None:
    served = documented[name]
    expected = await operation_ids(served)
    page, elsewhere = await offline_page(browser, served)
    await page.goto(f"{served.url}/docs")
    await page.wait_for_selector(".opblock", timeout=30_000)
    shown = await page.locator(".opblock").count()
    title = await page.locator(".info .title").inner_text()
    await page.close()
    assert elsewhere == []
    assert shown == len(expected) > 0
    assert title.startswith(served.app.title)


@pytest.mark.parametrize(
    "name", ["intake", "casework", "victim_support", "interagency", "outreach"]
)
async def test_redoc_lists_every_operation_without_a_cdn(
    browser: Browser, documented: dict[str, Served], name: str
) -> None:
    served = documented[name]
    expected = await operation_ids(served)
    page, elsewhere = await offline_page(browser, served)
    await page.goto(f"{served.url}/redoc")
    await page.wait_for_selector("[data-section-id^='operation/']", timeout=30_000)
    sections = page.locator("[data-section-id^='operation/']")
    shown = {
        (await sections.nth(i).get_attribute("data-section-id") or "").removeprefix("operation/")
        for i in range(await sections.count())
    }
    await page.close()
    assert elsewhere == []
    assert shown == set(expected)
