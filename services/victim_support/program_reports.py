"""A program's report for its donors: counts, people and amounts by support type and month, as
JSON, CSV or a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from openpyxl import Workbook

from libs.common.exports import sheet_cell
from services.victim_support import program_repository
from services.victim_support.access import Ctx
from services.victim_support.programs import program_for


async def report(ctx: Ctx, program_id: UUID) -> dict[str, Any]:
    """Counts, people and amounts by support type and month: figures only, no persons."""
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
        "rows": lines,
        "totals": {
            "deliveries": sum(r["deliveries"] for r in lines),
            "amount_vnd": sum(r["amount_vnd"] for r in lines),
        },
    }


REPORT_COLUMNS = ("month", "support_type", "deliveries", "people", "amount_vnd")


def report_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(data["rows"])
    return out.getvalue()


def report_xlsx(data: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Deliveries"
    sheet.append(
        [sheet_cell(data["name"]), sheet_cell(data["org"]), sheet_cell(data["funder"] or "")]
    )
    sheet.append([f"period {data['period']['start']} to {data['period']['end']}"])
    sheet.append(list(REPORT_COLUMNS))
    for row in data["rows"]:
        sheet.append([sheet_cell(row[c]) for c in REPORT_COLUMNS])
    sheet.append(["total", "", data["totals"]["deliveries"], "", data["totals"]["amount_vnd"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
