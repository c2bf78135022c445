"""A program's report for its donors: deliveries, people and amounts by support type and month,
with the totals (each person counted once), as JSON, CSV or a spreadsheet ready to hand over.

The spreadsheet speaks Vietnamese unless asked for English: its labels are English message ids
translated by the message catalogue (``libs/common/locale``), like the problems' texts."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from uuid import UUID

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from libs.common.exports import sheet_cell
from libs.common.i18n import negotiate, translate
from libs.common.schemas import VIETNAM
from services.victim_support import program_repository
from services.victim_support.access import Ctx
from services.victim_support.domain import SupportType
from services.victim_support.programs import program_for

REPORT_LANGUAGE = "vi"  # what a donor report is written in unless asked otherwise
VND_FORMAT = "#,##0 [$₫-42A]"  # Excel's Vietnamese đồng, grouped, no decimals
COUNT_FORMAT = "#,##0"

SUPPORT_LABELS: dict[SupportType, str] = {
    SupportType.essential_needs: "Essential needs",
    SupportType.medical: "Medical care",
    SupportType.interpreter: "Interpreting",
    SupportType.legal_support: "Legal support",
    SupportType.legal_aid: "Legal aid",
    SupportType.travel: "Travel costs",
    SupportType.psychological: "Psychological support",
    SupportType.schooling: "Schooling",
    SupportType.vocational_training: "Vocational training",
    SupportType.initial_hardship_allowance: "Initial hardship allowance",
    SupportType.loan: "Loan",
}
TITLE = "Support program report for donors"
HEADER_LABELS = ("Program", "Organisation", "Funder", "Period", "Report date")
COLUMN_LABELS = ("Month", "Support type", "Deliveries", "People", "Amount (VND)")
TOTAL = "Total"
NOTES = (
    "People in the total are counted once, however many supports they received.",
    "Figures only: no person is named in this report.",
)
SHEET = "Report"
LABELS = (TITLE, *HEADER_LABELS, *COLUMN_LABELS, TOTAL, *NOTES, SHEET, *SUPPORT_LABELS.values())

REPORT_COLUMNS = ("month", "support_type", "deliveries", "people", "amount_vnd")
CSV_PROGRAM = ("program_id", "program", "org", "funder", "period_start", "period_end")
WIDTHS = {"A": 18, "B": 32, "C": 16, "D": 12, "E": 22}


async def report(ctx: Ctx, program_id: UUID) -> dict[str, Any]:
    """Deliveries, people and amounts by support type and month: figures only, no persons."""
    program = await program_for(ctx, program_id)
    rows = await program_repository.program_report_rows(ctx.session, program.id)
    lines = [
        {"support_type": t, "month": m, "deliveries": n, "people": p, "amount_vnd": int(a)}
        for t, m, n, a, p in rows
    ]
    return {
        "program_id": str(program.id),
        "name": program.name,
        "org": program.org,
        "funder": program.funder,
        "period": {
            "start": program.period_start.isoformat(),
            "end": program.period_end.isoformat(),
        },
        "generated_on": ctx.now.astimezone(VIETNAM).date().isoformat(),
        "rows": lines,
        "totals": {
            "deliveries": sum(r["deliveries"] for r in lines),
            "people": await program_repository.program_people(ctx.session, program.id),
            "amount_vnd": sum(r["amount_vnd"] for r in lines),
        },
    }


def language(lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` first, then ``Accept-Language``, then Vietnamese."""
    return lang or negotiate(accept_language, REPORT_LANGUAGE)


def report_csv(data: dict[str, Any]) -> str:
    """One row per support type and month, each naming the program and its period, and a last
    row of totals (``month`` is ``total``; its ``people`` counts each person once)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_PROGRAM, *REPORT_COLUMNS])
    program = [
        data["program_id"],
        data["name"],
        data["org"],
        data["funder"] or "",
        data["period"]["start"],
        data["period"]["end"],
    ]
    totals = data["totals"]
    rows = [[row[c] for c in REPORT_COLUMNS] for row in data["rows"]]
    rows.append(["total", "", totals["deliveries"], totals["people"], totals["amount_vnd"]])
    for row in rows:
        writer.writerow([sheet_cell(v) for v in (*program, *row)])
    return out.getvalue()


def _day(iso: str, lang: str) -> str:
    day = date.fromisoformat(iso)
    return day.strftime("%d/%m/%Y") if lang == "vi" else day.isoformat()


def _month(yyyy_mm: str, lang: str) -> str:
    year, month = yyyy_mm.split("-")
    return f"{month}/{year}" if lang == "vi" else yyyy_mm


def support_label(code: str, lang: str) -> str:
    try:
        return translate(SUPPORT_LABELS[SupportType(code)], lang)
    except ValueError:  # a type no longer in the law's list: shown as it was stored
        return code


def report_xlsx(data: dict[str, Any], lang: str = REPORT_LANGUAGE) -> bytes:
    """The report as a donor expects it: a title, the program, organisation, funder and period
    above the table, labels in the reader's language, support types in words, amounts in VND,
    a bold header and a bold total line (people counted once)."""

    def t(text: str) -> str:
        return translate(text, lang)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t(SHEET)
    sheet.append([t(TITLE)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    period = f"{_day(data['period']['start'], lang)} – {_day(data['period']['end'], lang)}"
    header_values = (
        data["name"],
        data["org"],
        data["funder"] or "",
        period,
        _day(data["generated_on"], lang),
    )
    for label, value in zip(HEADER_LABELS, header_values, strict=True):
        sheet.append([t(label), sheet_cell(value)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        sheet.merge_cells(
            start_row=sheet.max_row, start_column=2, end_row=sheet.max_row, end_column=5
        )
    sheet.append([])
    sheet.append([t(label) for label in COLUMN_LABELS])
    head = sheet.max_row
    _style_row(sheet, head, bold=True, fill=True)
    for row in data["rows"]:
        sheet.append(
            [
                _month(row["month"], lang),
                support_label(row["support_type"], lang),
                row["deliveries"],
                row["people"],
                row["amount_vnd"],
            ]
        )
        _number_formats(sheet, sheet.max_row)
    totals = data["totals"]
    sheet.append([t(TOTAL), None, totals["deliveries"], totals["people"], totals["amount_vnd"]])
    _number_formats(sheet, sheet.max_row)
    _style_row(sheet, sheet.max_row, bold=True, top=True)
    sheet.append([])
    for note in NOTES:
        sheet.append([t(note)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True)
    for column, width in WIDTHS.items():
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = f"A{head + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number_formats(sheet: Worksheet, row: int) -> None:
    for column in (3, 4):
        sheet.cell(row=row, column=column).number_format = COUNT_FORMAT
    sheet.cell(row=row, column=5).number_format = VND_FORMAT


def _style_row(
    sheet: Worksheet, row: int, *, bold: bool, fill: bool = False, top: bool = False
) -> None:
    for column in range(1, len(COLUMN_LABELS) + 1):
        cell = sheet.cell(row=row, column=column)
        cell.font = Font(bold=bold)
        if fill:
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.border = Border(bottom=Side(style="thin"))
        if top:
            cell.border = Border(top=Side(style="thin"))
