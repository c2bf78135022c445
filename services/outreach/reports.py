"""The quarterly plan report from every service's ``/v1/kpis``; a service that does not answer
is listed under ``missing`` instead of sinking the report."""

from __future__ import annotations

import asyncio
import html
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from openpyxl import Workbook

from libs.common.errors import Forbidden, Unprocessable
from libs.common.exports import sheet_cell
from libs.common.figures import within_province
from libs.common.jurisdiction import is_valid_code
from services.outreach import domain, kpis
from services.outreach.access import Ctx
from services.outreach.domain import TARGET
from services.outreach.settings import OutreachSettings


@dataclass(frozen=True)
class Target:
    key: str
    service: str
    path: str
    goal: float
    label_vi: str
    label_en: str


TARGETS: tuple[Target, ...] = (
    Target("coverage", "outreach", "coverage_ratio", TARGET,
           "Người dân được tiếp cận tài liệu phòng, chống mua bán người",
           "Residents reached by anti-trafficking materials"),
    Target("classified", "intake", "classified_ratio", 1.0,
           "Tin báo được phân loại", "Information classified"),
    Target("verified", "intake", "verified_ratio", 1.0,
           "Tin báo được xác minh", "Information verified"),
    Target("resolved_on_time", "intake", "resolved_within_deadline_ratio", 1.0,
           "Tin báo giải quyết đúng hạn (Điều 147 BLTTHS)",
           "Reports resolved within the legal deadline (CPC Art. 147)"),
    Target("initiated", "casework", "initiated_ratio", 1.0,
           "Vụ việc có dấu hiệu tội phạm được khởi tố", "Substantiated reports initiated as cases"),
    Target("indicted", "casework", "indicted_ratio", 1.0,
           "Vụ án được truy tố", "Cases prosecuted"),
    Target("tried", "casework", "tried_ratio", 1.0,
           "Vụ án được đưa ra xét xử", "Cases tried"),
    Target("victims_verified", "victim_support", "verified_ratio", 1.0,
           "Nạn nhân được xác minh", "Received victims verified"),
    Target("victims_identified_on_time", "victim_support", "identified_within_deadline_ratio", 1.0,
           "Xác định nạn nhân trong 03 ngày", "Victims identified within 3 days"),
    Target("victims_protected", "victim_support", "protected_ratio", 1.0,
           "Nạn nhân được bảo vệ", "Identified victims protected"),
    Target("victims_supported", "victim_support", "supported_ratio", 1.0,
           "Nạn nhân được hỗ trợ theo quy định", "Victims with needs supported by law"),
)  # fmt: skip

REMOTE = ("intake", "casework", "victim_support")


async def _fetch(
    client: httpx.AsyncClient, name: str, url: str, params: dict[str, str], auth: str
) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        response = await client.get(
            f"{url}/v1/kpis", params=params, headers={"Authorization": auth}
        )
    except httpx.HTTPError as exc:
        return name, None, f"unreachable ({type(exc).__name__})"
    if response.status_code != 200:
        return name, None, f"answered HTTP {response.status_code}"
    try:
        return name, response.json(), None
    except ValueError:
        return name, None, "answered something that is not JSON"


async def gather_figures(
    settings: OutreachSettings,
    auth: str,
    start: date,
    end: date,
    area: dict[str, str],
    outreach_figures: dict[str, Any],
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Each service's figures of the period over ``area`` (``ward_code`` or ``province_code``)."""
    params = {"from": start.isoformat(), "to": end.isoformat(), **area}
    urls = {
        "intake": settings.intake_url,
        "casework": settings.casework_url,
        "victim_support": settings.victim_support_url,
    }
    async with httpx.AsyncClient(
        timeout=settings.report_timeout_seconds, transport=transport
    ) as client:
        results = await asyncio.gather(
            *(_fetch(client, name, urls[name], params, auth) for name in REMOTE)
        )
    figures: dict[str, Any] = {"outreach": outreach_figures}
    missing: list[dict[str, str]] = []
    for name, body, reason in results:
        if body is None:
            missing.append({"service": name, "reason": reason or "unknown"})
        else:
            figures[name] = body
    return figures, missing


def targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the plan with its figure, or ``figure: null`` when its service is out."""
    rows = []
    for t in TARGETS:
        figure = (figures.get(t.service) or {}).get(t.path)
        value = figure.get("value") if isinstance(figure, dict) else None
        rows.append(
            {
                "key": t.key,
                "service": t.service,
                "label_vi": t.label_vi,
                "label_en": t.label_en,
                "goal": t.goal,
                "figure": figure,
                "met": None if value is None else value >= t.goal,
            }
        )
    return rows


async def plan_report(
    ctx: Ctx,
    *,
    period: str,
    jurisdiction: str,
    authorization: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """The report of ``period`` over ``jurisdiction``; ``authorization`` is the caller's own, so
    each service shows the figures the caller may see."""
    try:
        start, end = domain.quarter(period)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "period", "message": str(exc)}]) from exc
    if not is_valid_code(jurisdiction):
        raise Unprocessable(
            "unknown jurisdiction",
            errors=[{"field": "jurisdiction", "message": "not a province or ward code"}],
        )
    if not ctx.require_principal().covers(jurisdiction):
        raise Forbidden("that jurisdiction is outside yours")
    # The report of ``jurisdiction``, not of all the caller's: a ward, or a province narrower
    # than a national supervisor's whole country.
    ward = jurisdiction if len(jurisdiction) == 5 else None
    province = jurisdiction if ward is None else None
    local = await kpis.outreach_kpis(
        within_province(ctx, province), period_from=start, period_to=end, ward_code=ward
    )
    area = {"ward_code": ward} if ward else {"province_code": jurisdiction}
    figures, missing = await gather_figures(
        ctx.settings,
        authorization,
        start,
        end,
        area,
        local.model_dump(mode="json"),
        transport=transport,
    )
    return {
        "period": period.strip().upper(),
        "jurisdiction": jurisdiction,
        "generated_at": ctx.now.isoformat(),
        "targets": targets(figures),
        "figures": figures,
        "missing": missing,
    }


def workbook(report: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Targets"
    sheet.append([f"Plan report {report['period']}", f"jurisdiction {report['jurisdiction']}"])
    sheet.append(["target", "chỉ tiêu", "goal", "value", "numerator", "denominator", "met"])
    for row in report["targets"]:
        figure = row["figure"] or {}
        sheet.append(
            [
                row["label_en"],
                row["label_vi"],
                row["goal"],
                figure.get("value"),
                figure.get("numerator"),
                figure.get("denominator"),
                {True: "yes", False: "no", None: "n/a"}[row["met"]],
            ]
        )
    wards = book.create_sheet("Coverage by ward")
    wards.append(["ward", "name", "reached", "population", "year", "coverage", "meets 75%"])
    for ward in report["figures"].get("outreach", {}).get("wards", []):
        wards.append(
            [
                ward["ward_code"],
                sheet_cell(ward.get("ward_name")),
                ward["reached"],
                ward.get("population"),
                ward.get("population_year"),
                ward["coverage"]["value"],
                ward.get("meets_target"),
            ]
        )
    trials = book.create_sheet("Trials and cases")
    casework = report["figures"].get("casework") or {}
    trials.append(["trial type", "count"])
    for kind, count in (casework.get("trials") or {}).items():
        trials.append([kind, count])
    missing = book.create_sheet("Missing figures")
    missing.append(["service", "reason"])
    for m in report["missing"]:
        missing.append([m["service"], m["reason"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bar(label: str, value: float | None, goal: float, detail: str) -> str:
    width = 0 if value is None else max(0.0, min(1.0, value)) * 400
    colour = "#999" if value is None else ("#1e8449" if value >= goal else "#b03a2e")
    shown = "—" if value is None else f"{value * 100:.1f}%"
    return (
        f'<div class="row"><div class="label">{html.escape(label)}</div>'
        f'<svg width="420" height="22" role="img" aria-label="{html.escape(label)} {shown}">'
        f'<rect x="0" y="3" width="400" height="16" fill="#eee"/>'
        f'<rect x="0" y="3" width="{width:.1f}" height="16" fill="{colour}"/>'
        f'<line x1="{goal * 400:.1f}" y1="0" x2="{goal * 400:.1f}" y2="22" stroke="#000"/>'
        f'</svg><div class="value">{shown} <small>{html.escape(detail)}</small></div></div>'
    )


def html_page(report: dict[str, Any]) -> str:
    rows = []
    for t in report["targets"]:
        figure = t["figure"] or {}
        detail = (
            f"{figure.get('numerator')}/{figure.get('denominator')}" if figure else "thiếu số liệu"
        )
        rows.append(
            _bar(f"{t['label_vi']} / {t['label_en']}", figure.get("value"), t["goal"], detail)
        )
    wards = [
        _bar(
            f"{w['ward_code']} {w.get('ward_name') or ''}",
            w["coverage"]["value"],
            TARGET,
            f"{w['reached']}/{w.get('population') or '?'}",
        )
        for w in report["figures"].get("outreach", {}).get("wards", [])
    ]
    missing = "".join(
        f"<li>{html.escape(m['service'])}: {html.escape(m['reason'])}</li>"
        for m in report["missing"]
    )
    generated = report["generated_at"]
    generated_text = generated.isoformat() if isinstance(generated, datetime) else str(generated)
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Báo cáo kế hoạch {html.escape(report["period"])}</title>
<style>
body {{ font-family: sans-serif; margin: 2rem; color: #222; }}
.row {{ display: flex; align-items: center; gap: 1rem; margin: .3rem 0; }}
.label {{ width: 28rem; }} .value {{ width: 10rem; }}
@media print {{ body {{ margin: 1cm; }} }}
</style></head><body>
<h1>Báo cáo thực hiện kế hoạch phòng, chống mua bán người — {html.escape(report["period"])}</h1>
<p>Địa bàn / jurisdiction: {html.escape(report["jurisdiction"])}
 · lập lúc / generated {html.escape(generated_text)}</p>
<h2>Chỉ tiêu / Targets</h2>{"".join(rows)}
<h2>Độ bao phủ theo phường, xã / Coverage by ward (mục tiêu 75%)</h2>{"".join(wards) or "<p>—</p>"}
{f"<h2>Thiếu số liệu / Missing figures</h2><ul>{missing}</ul>" if missing else ""}
</body></html>"""
