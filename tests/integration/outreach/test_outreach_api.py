"""outreach through its API: campaigns, activities, populations, commendations, coverage, and the
plan report assembled from the other services, with one of them down."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import httpx
import pytest

from libs.common.jurisdiction import name_of, province_of, wards_of
from libs.common.settings import ServiceSettings
from services.casework.app import create_app as casework_app
from services.casework.settings import CaseworkSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.outreach.app import create_app as outreach_app
from services.outreach.domain import ActivityKind, Reach, reached
from services.outreach.settings import OutreachSettings
from tests.support import SHARED_HANOI_WARD, bearer, fresh_ward, running

pytestmark = pytest.mark.integration
SETTINGS = ServiceSettings()
ORGANISER = bearer(SETTINGS, "social_worker", "01")
SUPERVISOR = bearer(SETTINGS, "supervisor", "01")
WARDS = wards_of("01")[40:43]


@pytest.fixture
async def outreach(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(outreach_app(settings_for(OutreachSettings))) as client:
        yield client


async def third_quarter_campaign(
    outreach: httpx.AsyncClient, headers: dict[str, str], jurisdiction_code: str
) -> str:
    """A campaign of 2026's third quarter in ``jurisdiction_code``; its id."""
    campaign = await outreach.post(
        "/v1/campaigns",
        headers=headers,
        json={
            "name": "Tháng hành động 2026",
            "period_start": "2026-07-01",
            "period_end": "2026-09-30",
            "organiser": "UBND phường",
            "target_groups": ["students", "young_women_migrating"],
            "jurisdiction_code": jurisdiction_code,
        },
    )
    assert campaign.status_code == 201, campaign.text
    return str(campaign.json()["id"])


async def record_activity(
    outreach: httpx.AsyncClient,
    headers: dict[str, str],
    campaign_id: str,
    ward_code: str,
    kind: str,
    people: int,
    *,
    held_on: str = "2026-08-15",
    materials: int = 0,
    groups: tuple[str, ...] = ("students",),
) -> None:
    made = await outreach.post(
        "/v1/activities",
        headers=headers,
        json={
            "campaign_id": campaign_id,
            "ward_code": ward_code,
            "kind": kind,
            "held_on": held_on,
            "people_reached": people,
            "materials_distributed": materials,
            "target_groups": list(groups),
        },
    )
    assert made.status_code == 201, made.text


async def test_coverage_per_ward_and_overall_against_the_target(
    outreach: httpx.AsyncClient,
) -> None:
    a, b, c = WARDS
    for ward, population in ((a, 1000), (b, 2000), (c, 500)):
        put = await outreach.put(
            f"/v1/wards/{ward}/population",
            headers=ORGANISER,
            json={"population": population, "year": 2026, "source": "ward statistics 2026"},
        )
        assert put.status_code == 200, put.text
    cid = await third_quarter_campaign(outreach, ORGANISER, "01")
    for ward, kind, people in (
        (a, "meeting", 500),
        (a, "broadcast", 400),
        (a, "broadcast", 300),
        (b, "school_session", 600),
        (b, "school_session", 100),
        (b, "loudspeaker", 50),
        (a, "social_media", 350),  # mass media of another kind: still the largest audience
        (c, "loudspeaker", 900),  # mass media alone
    ):
        await record_activity(outreach, ORGANISER, cid, ward, kind, people, materials=10)
    figures = (
        await outreach.get(
            "/v1/kpis", headers=SUPERVISOR, params={"from": "2026-07-01", "to": "2026-09-30"}
        )
    ).json()
    wards = {w["ward_code"]: w for w in figures["wards"]}
    assert wards[a]["reached"] == 900  # 500 + max(400, 300)
    assert wards[a]["coverage"] == {"value": 0.9, "numerator": 900, "denominator": 1000}
    assert wards[b]["reached"] == 750  # 600 + 100 + 50: direct contacts add up
    assert wards[b]["coverage"]["value"] == 0.375
    assert wards[c]["reached"] == 900
    assert wards[c]["coverage"] == {"value": 1.0, "numerator": 500, "denominator": 500}
    assert b in figures["wards_below_target"] and a not in figures["wards_below_target"]
    overall = figures["coverage_ratio"]
    assert overall["numerator"] >= 900 + 750 + 500
    assert figures["target"] == 0.75
    assert figures["area"] == [{"code": "01", "name": name_of("01")}]  # by name, for the page
    one = await outreach.get("/v1/kpis", headers=SUPERVISOR, params={"ward_code": a})
    assert one.json()["area"] == [{"code": a, "name": name_of(a)}]


@pytest.mark.parametrize("seed", [7, 2026])
async def test_each_wards_figures_are_the_domains_rule_over_its_activities(
    outreach: httpx.AsyncClient, seed: int
) -> None:
    """The database folds a ward's activities (``repository.ward_reach``, ``activity_totals``);
    the rule is ``domain.reached`` and plain sums: the two agree on activities of every kind,
    with lists of target groups, drawn at random."""
    rng = random.Random(seed)
    organiser, supervisor = (
        bearer(SETTINGS, "social_worker", "79"),
        bearer(SETTINGS, "supervisor", "79"),
    )
    cid = await third_quarter_campaign(outreach, organiser, "79")
    groups = ("students", "ethnic_minorities", "border_residents", "online_youth")
    wards = [fresh_ward("79") for _ in range(3)]
    done: dict[str, list[tuple[Reach, int, tuple[str, ...]]]] = {ward: [] for ward in wards}
    for _ in range(30):
        ward, kind = rng.choice(wards), rng.choice(list(ActivityKind))
        people, materials = rng.choice([0, 1, rng.randint(2, 5000)]), rng.randint(0, 300)
        chosen = tuple(sorted(rng.sample(groups, rng.randint(1, 3))))
        done[ward].append((Reach(kind, people), materials, chosen))
        held_on = f"2026-08-{rng.randint(1, 28):02d}"
        await record_activity(
            outreach,
            organiser,
            cid,
            ward,
            kind.value,
            people,
            held_on=held_on,
            materials=materials,
            groups=chosen,
        )
    for ward, activities in done.items():
        if not activities:
            continue
        figures = await outreach.get(
            "/v1/kpis",
            headers=supervisor,
            params={"from": "2026-08-01", "to": "2026-08-31", "ward_code": ward},
        )
        assert figures.status_code == 200, figures.text
        got = figures.json()
        by_group: dict[str, int] = {}
        for reach, _, chosen in activities:
            for group in chosen:
                by_group[group] = by_group.get(group, 0) + reach.people
        assert [w["reached"] for w in got["wards"]] == [reached(r for r, _, _ in activities)]
        assert got["activities"] == len(activities)
        assert got["materials_distributed"] == sum(m for _, m, _ in activities)
        assert got["by_target_group"] == by_group


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ward_code": "99999"}, "ward_code"),
        ({"kind": "carrier_pigeon"}, "kind"),
        ({"people_reached": -1}, "people_reached"),
        ({"held_on": "2999-01-01"}, "held_on"),
        ({"target_groups": ["aliens"]}, "target_groups"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_invalid_activities_are_refused(
    outreach: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    body = {"ward_code": WARDS[0], "kind": "meeting", "held_on": "2026-08-01", "people_reached": 1}
    response = await outreach.post("/v1/activities", headers=ORGANISER, json={**body, **change})
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_an_ngo_cannot_record_activities_and_nobody_records_outside_their_area(
    outreach: httpx.AsyncClient,
) -> None:
    body = {"ward_code": WARDS[0], "kind": "meeting", "held_on": "2026-08-01", "people_reached": 1}
    ngo = bearer(SETTINGS, "ngo", org="ngo-x")
    assert (await outreach.post("/v1/activities", headers=ngo, json=body)).status_code == 403
    elsewhere = bearer(SETTINGS, "social_worker", "79")
    assert (await outreach.post("/v1/activities", headers=elsewhere, json=body)).status_code == 403


async def test_commendations_and_the_target_group_taxonomy(outreach: httpx.AsyncClient) -> None:
    made = await outreach.post(
        "/v1/commendations",
        headers=ORGANISER,
        json={
            "recipient_kind": "organisation",
            "recipient_name": "Câu lạc bộ Thanh niên phường (giả định)",
            "ward_code": WARDS[0],
            "reason": "Mô hình truyền thông tại trường học",
            "awarded_on": "2026-08-20",
            "level": "province",
        },
    )
    assert made.status_code == 201, made.text
    admin = bearer(SETTINGS, "admin", "01")
    put = await outreach.put(
        "/v1/target-groups/fishing_crews",
        headers=admin,
        json={"name_vi": "Thuyền viên đánh bắt xa bờ", "name_en": "Offshore fishing crews"},
    )
    assert put.status_code == 200
    groups = (await outreach.get("/v1/target-groups", headers=SUPERVISOR)).json()
    assert "fishing_crews" in [g["code"] for g in groups]


async def test_only_an_admin_edits_the_target_groups(outreach: httpx.AsyncClient) -> None:
    """The same body is refused to a social worker and taken from an admin: the 403 is the role,
    not the body."""
    url = f"/v1/target-groups/river_traders_{uuid.uuid4().hex[:8]}"
    body = {"name_vi": "Tiểu thương buôn bán trên sông", "name_en": "River traders"}
    response = await outreach.put(url, headers=ORGANISER, json=body)
    assert response.status_code == 403
    assert response.json()["detail"] == "requires one of the roles: admin"
    code = url.rsplit("/", 1)[1]
    groups = (await outreach.get("/v1/target-groups", headers=SUPERVISOR)).json()
    assert code not in [g["code"] for g in groups]
    admin = await outreach.put(url, headers=bearer(SETTINGS, "admin", "01"), json=body)
    assert admin.status_code == 200, admin.text
    assert admin.json() == {"code": code, **body, "active": True}


class _Router(httpx.AsyncBaseTransport):
    """Sends each service's URL to its app in-process (victim_support is down), remembering the
    query each service was asked."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}
        self.asked: dict[str, dict[str, str]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asked[str(request.url.host)] = dict(request.url.params)
        transport = self.transports.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError("connection refused", request=request)
        return await transport.handle_async_request(request)


@contextlib.asynccontextmanager
async def _reporting(
    settings_for: Callable[..., Any],
) -> AsyncIterator[tuple[httpx.AsyncClient, _Router]]:
    """outreach with intake and casework in-process behind the router, victim_support down."""
    settings = settings_for(
        OutreachSettings,
        intake_url="http://intake.test",
        casework_url="http://casework.test",
        victim_support_url="http://victim-support.test",
    )
    intake = intake_app(settings_for(IntakeSettings, run_relay=False))
    casework = casework_app(settings_for(CaseworkSettings, run_relay=False, run_consumers=False))
    app = outreach_app(settings)
    router = _Router({"intake.test": intake, "casework.test": casework})
    app.state.report_transport = router
    async with (
        intake.router.lifespan_context(intake),
        casework.router.lifespan_context(casework),
        running(app) as client,
    ):
        yield client, router


async def _report_of_hanoi(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get(
        "/v1/reports/plan", headers=headers, params={"period": "2026-Q3", "jurisdiction": "01"}
    )


async def test_the_plan_report_says_which_figures_are_missing_when_a_service_is_down(
    settings_for: Callable[..., Any],
) -> None:
    async with _reporting(settings_for) as (client, _):
        response = await _report_of_hanoi(client, SUPERVISOR)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["missing"] == [
            {"service": "victim_support", "reason": "unreachable (ConnectError)"}
        ]
        targets = {t["key"]: t for t in body["targets"]}
        assert targets["classified"]["figure"] is not None
        assert targets["tried"]["figure"] is not None
        assert targets["victims_protected"]["figure"] is None
        assert targets["coverage"]["goal"] == 0.75
        xlsx = await client.get(
            "/v1/reports/plan",
            headers=SUPERVISOR,
            params={"period": "2026-Q3", "jurisdiction": "01", "format": "xlsx"},
        )
        assert xlsx.content[:2] == b"PK"
        page = await client.get(
            "/v1/reports/plan",
            headers=SUPERVISOR,
            params={"period": "2026-Q3", "jurisdiction": "01", "format": "html"},
        )
        assert "<svg" in page.text and "victim_support" in page.text


async def test_the_plan_report_of_a_province_counts_that_province_alone(
    settings_for: Callable[..., Any],
) -> None:
    """A national supervisor's report of province 01: every service is asked for 01's figures
    (``province_code``), outreach counts 01's wards only, not the whole country's."""
    hanoi, saigon = SHARED_HANOI_WARD, fresh_ward("79")  # Hanoi's fresh wards are scarce
    national = bearer(SETTINGS, "supervisor", "01", "79")
    async with _reporting(settings_for) as (client, router):
        for ward in (hanoi, saigon):
            made = await client.post(
                "/v1/activities",
                headers=bearer(SETTINGS, "social_worker", ward),
                json={
                    "ward_code": ward,
                    "kind": "meeting",
                    "held_on": "2026-08-15",
                    "people_reached": 40,
                    "materials_distributed": 1,
                    "target_groups": ["students"],
                },
            )
            assert made.status_code == 201, made.text
        response = await _report_of_hanoi(client, national)
    assert response.status_code == 200, response.text
    body = response.json()
    wards = {w["ward_code"] for w in body["figures"]["outreach"]["wards"]}
    assert hanoi in wards and saigon not in wards
    assert {province_of(w) for w in wards} == {"01"}
    assert body["figures"]["outreach"]["area"] == [{"code": "01", "name": name_of("01")}]
    for host in ("intake.test", "casework.test"):
        assert router.asked[host]["province_code"] == "01"
        assert "ward_code" not in router.asked[host]
    assert [m["service"] for m in body["missing"]] == ["victim_support"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"period": "2026-Q9", "jurisdiction": "01"}, 422),
        ({"period": "2026-Q3", "jurisdiction": "00000"}, 422),
        ({"period": "2026-Q3", "jurisdiction": "79"}, 403),
    ],
)
async def test_the_plan_report_refuses_bad_periods_and_other_jurisdictions(
    outreach: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    response = await outreach.get("/v1/reports/plan", headers=SUPERVISOR, params=params)
    assert response.status_code == status


async def test_the_dashboard_page_and_its_config_are_served(outreach: httpx.AsyncClient) -> None:
    page = await outreach.get("/dashboard")
    assert page.status_code == 200 and "<" in page.text
    config = (await outreach.get("/dashboard/config.json")).json()
    assert set(config) >= {"intake", "casework", "victim_support"}


def test_today_is_after_the_synthetic_activity_dates() -> None:
    assert date.today() > date(2026, 9, 30)
