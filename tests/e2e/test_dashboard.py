"""The steering committee's dashboard in a real browser: Debian's Chromium, driven by Playwright,
reads the figures of four real services over HTTP (CORS) with a supervisor's token and shows the
same numerators and denominators as the APIs; it still renders when a service is down.

A full-page screenshot is taken here with the demo data loaded, into ``.run/dashboard.png``
(``CTIP_SCREENSHOT=docs/dashboard.png`` refreshes the one in the docs).
The last test stops victim_support (and starts it again afterwards).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local import demo_data
from libs.common.auth import issue_dev_token
from libs.common.jurisdiction import name_of
from libs.common.settings import ServiceSettings
from testkit import victim_support as victim_bodies
from tests.e2e.conftest import CHROMIUM_ARGS, ROOT, Served
from tests.integration.intake.support import advance
from tests.support import fresh_ward

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / os.environ.get("CTIP_SCREENSHOT", ".run/dashboard.png")
RATIOS = {
    "intake": ("classified_ratio", "verified_ratio", "resolved_within_deadline_ratio"),
    "casework": ("initiated_ratio", "indicted_ratio", "tried_ratio"),
    "victim_support": (
        "verified_ratio",
        "identified_within_deadline_ratio",
        "protected_ratio",
        "supported_ratio",
    ),
    "outreach": ("coverage_ratio",),
}


def current_quarter() -> tuple[date, date]:
    today = datetime.now(UTC).date()
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    next_start = (start + timedelta(days=92)).replace(day=1)
    return start, next_start - timedelta(days=1)


@pytest.fixture(scope="module")
async def loaded(services: dict[str, Served]) -> dict[str, Any]:
    return await demo_data.load({name: s.url for name, s in services.items()}, wait_seconds=120)


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


async def kpis(services: dict[str, Served], token: str) -> dict[str, Any]:
    start, end = current_quarter()
    params = {"from": start.isoformat(), "to": end.isoformat()}
    out = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for name, served in services.items():
            response = await client.get(
                f"{served.url}/v1/kpis",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            out[name] = response.json()
    return out


async def attributes(page: Page, selector: str) -> dict[str, str | None]:
    element = page.locator(selector)
    assert await element.count() == 1, f"expected exactly one {selector}"
    return {
        name: await element.get_attribute(name)
        for name in ("data-numerator", "data-denominator", "data-count", "data-state")
    }


async def open_dashboard(page: Page, outreach: Served, token: str) -> None:
    await page.goto(f"{outreach.url}/dashboard#token={token}")
    await page.wait_for_selector("body[data-state=loaded]", timeout=30_000)


@pytest.fixture(scope="module")
def supervisor() -> str:
    return issue_dev_token(ServiceSettings(), roles=["supervisor"], jurisdiction=["01"])


@pytest.fixture(scope="module")
async def api(services: dict[str, Served], loaded: dict[str, Any], supervisor: str) -> Any:
    return await kpis(services, supervisor)


@pytest.fixture
async def page(
    browser: Browser, services: dict[str, Served], loaded: dict[str, Any], supervisor: str
) -> AsyncIterator[Page]:
    """The dashboard opened with a supervisor's token in the fragment, figures loaded; no
    script error may happen on it."""
    opened = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    await open_dashboard(opened, services["outreach"], supervisor)
    yield opened
    await opened.close()
    assert errors == []


async def test_every_figure_shows_the_numerator_and_denominator_the_api_gives(
    page: Page, api: dict[str, Any]
) -> None:
    assert page.url.endswith("/dashboard"), "the token must leave the address bar"
    for service, fields in RATIOS.items():
        for name in fields:
            shown = await attributes(page, f'[data-figure="{service}.{name}"]')
            figure = api[service][name]
            assert (shown["data-numerator"], shown["data-denominator"]) == (
                str(figure["numerator"]),
                str(figure["denominator"]),
            ), f"{service}.{name}"
            assert shown["data-state"] == "ok"
    await page.screenshot(path=str(SCREENSHOT), full_page=True)


async def test_counts_deadlines_funnel_and_statuses_match_the_api(
    page: Page, api: dict[str, Any]
) -> None:
    for kind in ("mobile", "model"):
        shown = await attributes(page, f'[data-figure="casework.trials.{kind}"]')
        assert shown["data-count"] == str(api["casework"]["trials"][kind]) != "0"
    for service, name in (
        ("intake", "overdue"),
        ("intake", "due_soon"),
        ("victim_support", "overdue"),
    ):
        shown = await attributes(page, f'[data-figure="{service}.{name}"]')
        assert shown["data-count"] == str(api[service][name])
    for status, n in api["victim_support"]["by_status"].items():
        shown = await attributes(page, f'[data-figure="victim_support.by_status.{status}"]')
        assert shown["data-count"] == str(n)
    funnel = {
        "substantiated": api["casework"]["initiated_ratio"]["denominator"],
        "initiated": api["casework"]["initiated_ratio"]["numerator"],
        "indicted": api["casework"]["indicted_ratio"]["numerator"],
        "tried": api["casework"]["tried_ratio"]["numerator"],
    }
    assert funnel["tried"] >= 1
    for step, n in funnel.items():
        shown = await attributes(page, f'[data-figure="casework.funnel.{step}"]')
        assert shown["data-count"] == str(n)


async def test_each_ward_has_a_coverage_bar_against_the_75_percent_line(
    page: Page, api: dict[str, Any]
) -> None:
    wards = api["outreach"]["wards"]
    assert {w["meets_target"] for w in wards} >= {True, False}
    assert await page.locator('[data-figure^="outreach.wards."]').count() == len(wards)
    for ward in wards:
        shown = await attributes(
            page, f'[data-figure="outreach.wards.{ward["ward_code"]}.coverage"]'
        )
        assert (shown["data-numerator"], shown["data-denominator"]) == (
            str(ward["coverage"]["numerator"]),
            str(ward["coverage"]["denominator"]),
        )
    target_line = page.locator("#coverage [data-part=target-line]")
    assert await target_line.count() == 1
    assert "75%" in (await target_line.text_content() or "")


async def test_the_english_toggle_switches_the_labels(page: Page, api: dict[str, Any]) -> None:
    coverage = page.locator('[data-figure="outreach.coverage_ratio"] .label')
    assert await page.locator("html").get_attribute("lang") == "vi"
    assert await coverage.text_content() == (
        "Tỷ lệ người dân được tiếp cận tài liệu phòng, chống mua bán người"
    )
    await page.locator("#lang").click()
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await coverage.text_content() == "Residents reached by anti-trafficking materials"
    assert await page.locator("#h-targets").text_content() == "The plan's targets"
    assert await page.locator("#lang").text_content() == "Tiếng Việt"
    shown = await attributes(page, '[data-figure="intake.classified_ratio"]')
    assert shown["data-numerator"] == str(api["intake"]["classified_ratio"]["numerator"])


async def test_with_victim_support_down_the_rest_renders_and_victim_figures_say_no_data(
    page: Page, api: dict[str, Any], services: dict[str, Served]
) -> None:
    await page.locator("#lang").click()
    await services["victim_support"].stop()
    try:
        await page.evaluate("document.body.dataset.state = 'reloading'")
        await page.get_by_role("button", name="Show figures").click()
        await page.wait_for_selector("body[data-state=loaded]", timeout=30_000)
        for name in RATIOS["victim_support"]:
            card = page.locator(f'[data-figure="victim_support.{name}"]')
            assert await card.get_attribute("data-state") == "missing"
            assert await card.get_attribute("data-numerator") is None
            assert "no data" in (await card.text_content() or "")
        assert "no data" in (await page.locator("#victims").text_content() or "")
        shown = await attributes(page, '[data-figure="intake.classified_ratio"]')
        assert shown["data-numerator"] == str(api["intake"]["classified_ratio"]["numerator"])
        wards = page.locator('[data-figure^="outreach.wards."]')
        assert await wards.count() == len(api["outreach"]["wards"])
    finally:
        await services["victim_support"].start()


async def test_the_area_has_its_name_dates_read_day_first_and_unplaced_tips_their_line(
    page: Page, services: dict[str, Served], supervisor: str
) -> None:
    """A committee member reads "Thành phố Hà Nội", not codes or "the token's jurisdiction";
    tips that triage has not placed yet are on a line of their own, not left out (near the end:
    the tip filed here changes the figures the tests before it compare)."""
    subtitle = await page.locator("#subtitle").inner_text()
    start, end = current_quarter()
    assert f"({start:%d/%m/%Y} – {end:%d/%m/%Y})" in subtitle
    assert subtitle.endswith("Thành phố Hà Nội")
    officer = issue_dev_token(ServiceSettings(), roles=["intake_officer"], jurisdiction=["01"])
    async with httpx.AsyncClient(timeout=10) as client:
        filed = await client.post(
            f"{services['intake'].url}/v1/tips",
            json={"channel": "hotline", "description": "Synthetic tip: a broker, place unknown."},
            headers={"Authorization": f"Bearer {officer}", "Idempotency-Key": str(uuid.uuid4())},
        )
    assert filed.status_code == 201, filed.text
    unplaced = (await kpis(services, supervisor))["intake"]["hotspots"]["unplaced"]
    assert unplaced["tips"] >= 1
    await page.goto("about:blank")  # a new load, not a jump to the same page's fragment
    await open_dashboard(page, services["outreach"], supervisor)
    row = page.locator('[data-figure="hotspots.by_ward"] tr', has_text="Chưa xác định địa bàn")
    assert await row.count() == 1
    cells = await row.locator("td").all_inner_texts()
    assert cells[:2] == [str(unplaced["tips"]), str(unplaced["substantiated"])]


def _bearer(role: str) -> dict[str, str]:
    token = issue_dev_token(ServiceSettings(), roles=[role], jurisdiction=["01"])
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}


INITIATE = {"action": "initiate", "decision_number": "1/QĐ-KTVA", "penal_code_article": 150}
# Two persons, never one received twice (the same name and birth date would be linked).
SYNTHETIC_PEOPLE = {
    "victim_soon": {"full_name": "Nguyễn Thị Giả Lập", "date_of_birth": "1999-02-03"},
    "victim_missed": {"full_name": "Trần Thị Giả Định", "date_of_birth": "2000-07-14"},
}


async def _filed_in(services: dict[str, Served], db: AsyncEngine, ward: str) -> dict[str, str]:
    """In ``ward``: a tip due in 2 days and one past due (clocks moved as if the days had
    passed), a case past its investigation deadline, a person received now (verification due
    in 3 days) and one received 4 days ago (past due). Synthetic data only."""
    made: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10) as client:

        async def post(service: str, path: str, role: str, body: dict[str, Any]) -> Any:
            url = f"{services[service].url}{path}"
            response = await client.post(url, json=body, headers=_bearer(role))
            assert response.status_code in (200, 201), response.text
            return response.json()

        for name, passed in (("tip_soon", 18), ("tip_missed", 21)):
            tip = {"channel": "hotline", "description": f"Synthetic tip ({name}): a broker."}
            tip["incident_ward_code"] = ward
            made[name] = (await post("intake", "/v1/tips", "intake_officer", tip))["id"]
            await advance(db, made[name], timedelta(days=passed))
        case = {"title": "Vụ án giả lập (e2e)", "ward_code": ward, "summary": "Synthetic case."}
        made["case"] = (await post("casework", "/v1/cases", "investigator", case))["id"]
        initiate = {**INITIATE, "decided_on": datetime.now(UTC).date().isoformat()}
        await post("casework", f"/v1/cases/{made['case']}/transitions", "investigator", initiate)
        async with db.begin() as conn:
            for moved in ("cases SET stage_due_at", "deadline_watches SET due_at"):
                key = "id" if moved.startswith("cases") else "record_id"
                past = f"UPDATE casework.{moved} = now() - interval '1 day' WHERE {key} = :id"
                await conn.execute(text(past), {"id": made["case"]})
        for name, hours in (("victim_soon", 2), ("victim_missed", 96)):
            person = {**SYNTHETIC_PEOPLE[name], "sex": "female"}
            body = victim_bodies.reception(ward, person, received_hours_ago=hours)
            made[name] = (await post("victim_support", "/v1/victims", "social_worker", body))["id"]
    return made


async def _open_list(page: Page, link: Any, service: str, window: str) -> None:
    await link.click()
    loaded = f'[data-state=loaded][data-service="{service}"][data-window="{window}"]'
    await page.wait_for_selector(f"#due-list{loaded}")


async def test_deadlines_per_ward_open_the_list_behind_each_figure(
    page: Page, services: dict[str, Served], supervisor: str, db: AsyncEngine
) -> None:
    """The "Hạn xử lý" table: per ward, due within 5 days and missed for tips, cases and victims,
    as the services count them; each figure opens, in the page, the list behind it (id, status,
    deadline; no name). Last: the records made here change the figures."""
    ward = fresh_ward("01")
    made = await _filed_in(services, db, ward)
    api = await kpis(services, supervisor)
    await page.goto("about:blank")
    await open_dashboard(page, services["outreach"], supervisor)
    assert await page.locator("#h-due").text_content() == "Hạn xử lý"
    table = page.locator('[data-figure="deadlines.by_ward"]')
    head = await table.locator("thead").inner_text()
    assert "Đến hạn trong 5 ngày" in head and "Đã quá hạn" in head
    row = table.locator(f'tr[data-ward="{ward}"]')
    assert (await row.locator("th").inner_text()).strip() == f"{name_of(ward)} ({ward})"
    expected = {"intake": (1, 1), "casework": (0, 1), "victim_support": (1, 1)}
    for service, counts in expected.items():
        for window, n in zip(("due_soon", "missed"), counts, strict=True):
            link = row.locator(f'a[data-figure="deadlines.{service}.{ward}.{window}"]')
            assert await link.get_attribute("data-count") == str(n), (service, window)
    for service in expected:
        figures = api[service]["deadlines"]
        assert figures["horizon_days"] == 5
        for window in ("due_soon", "missed"):
            for w in figures["by_ward"]:
                where = w["ward_code"] or "unplaced"
                shown = page.locator(f'[data-figure="deadlines.{service}.{where}.{window}"]')
                assert await shown.get_attribute("data-count") == str(w[window])
            total = page.locator(f'[data-figure="deadlines.{service}.{window}"]')
            assert await total.get_attribute("data-count") == str(figures[window])

    shown = page.locator("#due-list")
    for service, window, record in (
        ("victim_support", "due_soon", "victim_soon"),
        ("intake", "missed", "tip_missed"),
        ("casework", "missed", "case"),
    ):
        link = row.locator(f'a[data-figure="deadlines.{service}.{ward}.{window}"]')
        await _open_list(page, link, service, window)
        rows = shown.locator("tbody tr")
        assert await rows.count() == 1
        assert await rows.first.get_attribute("data-id") == made[record]
        cells = await rows.first.locator("td").all_inner_texts()
        assert cells[0] == made[record] and cells[1]
        assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", cells[2]), "the deadline, day first"
        text_shown = await shown.inner_text()
        assert "Giả" not in text_shown and "Synthetic" not in text_shown
    link = row.locator(f'a[data-figure="deadlines.victim_support.{ward}.missed"]')
    await _open_list(page, link, "victim_support", "missed")
    status = (await shown.locator("tbody td").all_inner_texts())[1]
    assert status == "Đang xác minh (nghi là nạn nhân)"  # the label, not under_verification
    await page.screenshot(path=str(SCREENSHOT.with_name("dashboard-deadlines.png")), full_page=True)
