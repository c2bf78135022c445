"""outreach's use cases on a fake context: refusals come before any query, a recorded activity is
announced with its reach, and the plan report keeps what a service could not give."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from libs.common.auth import Principal
from libs.common.errors import Forbidden, Unprocessable
from libs.common.jurisdiction import wards_of
from services.outreach import campaigns, kpis, reports, repository
from services.outreach.domain import ActivityKind
from services.outreach.schemas import ActivityCreate, CampaignCreate
from services.outreach.settings import OutreachSettings
from tests.fakes import fake_context

WORKER = Principal(sub="sw-1", roles=frozenset({"social_worker"}), jurisdiction=("01",))
SUPERVISOR = Principal(sub="sup-1", roles=frozenset({"supervisor"}), jurisdiction=("01",))
HOME_WARD = wards_of("01")[0]
OTHER_WARD = wards_of("79")[0]
NOW = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)


def context(principal: Principal) -> Any:
    ctx, platform = fake_context(OutreachSettings(environment="test"), principal, now=NOW)
    return ctx, platform


async def test_a_campaign_elsewhere_is_refused_before_any_query() -> None:
    ctx, _ = context(WORKER)
    data = CampaignCreate(
        name="Tháng hành động",
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        organiser="UBND",
        jurisdiction_code="79",
    )
    with pytest.raises(Forbidden, match="outside your jurisdiction"):
        await campaigns.create_campaign(ctx, data)


async def test_figures_for_a_ward_elsewhere_are_refused_before_any_query() -> None:
    ctx, _ = context(SUPERVISOR)
    with pytest.raises(Forbidden, match="outside your jurisdiction"):
        await kpis.outreach_kpis(ctx, period_from=None, period_to=None, ward_code=OTHER_WARD)


async def test_a_recorded_activity_is_announced_with_its_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved: list[Any] = []

    async def known(session: Any) -> set[str]:
        return {"students"}

    async def save(session: Any, row: Any) -> None:
        saved.append(row)

    monkeypatch.setattr(repository, "active_group_codes", known)
    monkeypatch.setattr(repository, "save", save)
    ctx, platform = context(WORKER)
    out = await campaigns.record_activity(
        ctx,
        ActivityCreate(
            ward_code=HOME_WARD,
            kind=ActivityKind.school_session,
            held_on=date(2026, 7, 15),
            people_reached=300,
            materials_distributed=40,
            target_groups=["students", "students"],
        ),
    )
    (event,) = platform.outbox.events
    assert event.type == "vn.ctip.outreach.activity.recorded.v1"
    assert event.data["people_reached"] == 300
    assert event.data["target_groups"] == ["students"]
    assert (saved[0].created_by, saved[0].created_at) == ("sw-1", NOW)
    assert out.id == saved[0].id


async def test_unknown_target_groups_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def known(session: Any) -> set[str]:
        return {"students"}

    monkeypatch.setattr(repository, "active_group_codes", known)
    ctx, platform = context(WORKER)
    data = ActivityCreate(
        ward_code=HOME_WARD,
        kind=ActivityKind.meeting,
        held_on=date(2026, 7, 15),
        people_reached=10,
        target_groups=["fishermen"],
    )
    with pytest.raises(Unprocessable, match="unknown target groups"):
        await campaigns.record_activity(ctx, data)
    assert platform.outbox.events == []


@pytest.mark.parametrize(
    ("period", "jurisdiction", "refusal"),
    [
        ("2026-Q5", "01", "a year \\(2026\\) or a quarter"),
        ("2026", "999", "unknown jurisdiction"),
        ("2026", "79", "outside yours"),
    ],
)
async def test_the_plan_report_refuses_before_asking_anyone(
    period: str, jurisdiction: str, refusal: str
) -> None:
    ctx, _ = context(SUPERVISOR)
    with pytest.raises((Unprocessable, Forbidden), match=refusal):
        await reports.plan_report(
            ctx, period=period, jurisdiction=jurisdiction, authorization="Bearer x"
        )


def test_a_target_whose_service_is_out_has_no_figure_and_is_neither_met_nor_missed() -> None:
    rows = {r["key"]: r for r in reports.targets({"outreach": {"coverage_ratio": {"value": 0.8}}})}
    assert (rows["coverage"]["met"], rows["classified"]["figure"], rows["classified"]["met"]) == (
        True,
        None,
        None,
    )


def test_the_workbook_writes_a_formula_like_ward_name_as_text() -> None:
    report = {
        "period": "2026-Q3",
        "jurisdiction": "01",
        "targets": [],
        "missing": [],
        "figures": {
            "outreach": {
                "wards": [
                    {
                        "ward_code": HOME_WARD,
                        "ward_name": "=HYPERLINK(1)",
                        "reached": 1,
                        "coverage": {"value": None},
                    }
                ]
            }
        },
    }
    sheet = load_workbook(io.BytesIO(reports.workbook(report)))["Coverage by ward"]
    assert sheet.cell(row=2, column=2).value == "'=HYPERLINK(1)"
