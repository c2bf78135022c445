"""Low finding: the raw ``period`` of the plan report went into ``Content-Disposition``; odd
whitespace in it broke the header (a 500), a quote could end the file name early."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from libs.common.exports import safe_filename
from libs.common.settings import ServiceSettings
from services.outreach.app import create_app
from services.outreach.settings import OutreachSettings
from tests.support import bearer, running

pytestmark = [pytest.mark.integration, pytest.mark.security]

SUPERVISOR = bearer(ServiceSettings(), "supervisor", "01")


@pytest.fixture
async def outreach(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings_for(OutreachSettings))) as client:
        yield client


@pytest.mark.parametrize(
    ("period", "filename"),
    [
        ("2026-q3", "plan-2026-Q3.xlsx"),
        ("2026\r\n", "plan-2026.xlsx"),
        ("\t2026 ", "plan-2026.xlsx"),
    ],
)
async def test_the_plan_workbook_is_named_from_the_period_it_covers_never_the_raw_input(
    outreach: httpx.AsyncClient, period: str, filename: str
) -> None:
    response = await outreach.get(
        "/v1/reports/plan",
        headers=SUPERVISOR,
        params={"period": period, "jurisdiction": "01", "format": "xlsx"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'


def test_a_file_name_keeps_only_safe_characters() -> None:
    assert (
        safe_filename('plan-"2026"\r\nSet-Cookie: x=1.xlsx') == "plan-_2026___Set-Cookie__x_1.xlsx"
    )
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename(" \n") == "download"
