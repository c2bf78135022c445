"""The donor report as a donor gets it: the spreadsheet opened with openpyxl, in Vietnamese unless
English is asked for (``?lang=en`` or ``Accept-Language: en``), its labels from the message
catalogue, support types in words, the program, organisation, funder and period above the table,
amounts in VND, a bold header, column widths, and totals counting each person once."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from libs.common.schemas import VIETNAM
from tests.integration.victim_support.support import TODAY, month_of, new_org, ngo
from tests.integration.victim_support.test_programs import (
    EARLIER,
    END,
    START,
    reported_program,
)

pytestmark = pytest.mark.integration
VND = "#,##0 [$₫-42A]"


async def spreadsheet(
    client: httpx.AsyncClient,
    pid: str,
    org: str,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> tuple[Worksheet, httpx.Response]:
    response = await client.get(
        f"/v1/programs/{pid}/report",
        params={"format": "xlsx", **params},
        headers=ngo(org) | (headers or {}),
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return sheet, response


def rows_of(sheet: Worksheet) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def vn(day: Any) -> str:
    return str(day.strftime("%d/%m/%Y"))


async def test_the_spreadsheet_is_in_vietnamese_with_the_program_above_and_totals_below(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    sheet, response = await spreadsheet(victim_support, pid, org)
    # the day the report is made is Viet Nam's (UTC+7): from 17:00 UTC it is tomorrow's date
    made_on = datetime.now(VIETNAM).date()
    assert response.headers["content-language"] == "vi"
    assert sheet.title == "Báo cáo"
    rows = rows_of(sheet)
    assert rows[0][0] == "Báo cáo chương trình hỗ trợ gửi nhà tài trợ"
    assert [row[:2] for row in rows[2:7]] == [
        ["Chương trình", "Safe Homecoming (synthetic)"],
        ["Tổ chức thực hiện", org],
        ["Nhà tài trợ", "Synthetic Donor Fund"],
        ["Thời gian thực hiện", f"{vn(START)} – {vn(END)}"],
        ["Ngày lập báo cáo", vn(made_on)],
    ]
    head = rows.index(["Tháng", "Loại hỗ trợ", "Số lượt hỗ trợ", "Số người", "Số tiền (đồng)"])
    month = {d: "/".join(reversed(month_of(d).split("-"))) for d in (EARLIER, TODAY)}
    assert rows[head + 1 : head + 4] == [
        [month[EARLIER], "Hỗ trợ học văn hóa", 1, 1, 2_000_000],
        [month[TODAY], "Hỗ trợ y tế", 3, 2, 175_000],
        # Two people: the first had both types, and is counted once in the total.
        ["Tổng cộng", None, 4, 2, 2_175_000],
    ]
    assert "mỗi người chỉ được tính một lần" in str(rows[head + 5][0])


async def test_the_spreadsheet_formats_amounts_as_vnd_and_marks_the_header_and_total(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    sheet, _ = await spreadsheet(victim_support, pid, org)
    head = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "Tháng")
    total = head + 3
    assert sheet.cell(total, 1).value == "Tổng cộng"
    assert sheet["A1"].font.b
    assert all(sheet.cell(head, c).font.b for c in range(1, 6))
    assert all(sheet.cell(total, c).font.b for c in range(1, 6))
    assert not sheet.cell(head + 1, 1).font.b
    for row in range(head + 1, total + 1):
        assert sheet.cell(row, 5).number_format == VND
        assert sheet.cell(row, 3).number_format == sheet.cell(row, 4).number_format == "#,##0"
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDE"}
    assert all(width >= 12 for width in widths.values()), widths
    assert widths["B"] >= 30  # the longest support type in words fits
    assert sheet.freeze_panes == f"A{head + 1}"


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"lang": "en"}, {}), ({}, {"Accept-Language": "en-GB,en;q=0.9"})],
    ids=["lang", "accept_language"],
)
async def test_the_spreadsheet_is_in_english_when_asked(
    victim_support: httpx.AsyncClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    sheet, response = await spreadsheet(victim_support, pid, org, headers, **params)
    assert response.headers["content-language"] == "en"
    rows = rows_of(sheet)
    assert rows[0][0] == "Support program report for donors"
    assert [row[0] for row in rows[2:7]] == [
        "Program",
        "Organisation",
        "Funder",
        "Period",
        "Report date",
    ]
    assert rows[5][1] == f"{START.isoformat()} – {END.isoformat()}"
    head = rows.index(["Month", "Support type", "Deliveries", "People", "Amount (VND)"])
    assert rows[head + 1 : head + 4] == [
        [month_of(EARLIER), "Schooling", 1, 1, 2_000_000],
        [month_of(TODAY), "Medical care", 3, 2, 175_000],
        ["Total", None, 4, 2, 2_175_000],
    ]


async def test_the_query_parameter_wins_over_the_header(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    sheet, _ = await spreadsheet(victim_support, pid, org, {"Accept-Language": "en"}, lang="vi")
    assert sheet.title == "Báo cáo"


async def test_an_unknown_language_is_refused(victim_support: httpx.AsyncClient) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    response = await victim_support.get(
        f"/v1/programs/{pid}/report", params={"format": "xlsx", "lang": "fr"}, headers=ngo(org)
    )
    assert response.status_code == 422
