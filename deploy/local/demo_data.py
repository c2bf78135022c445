"""Synthetic demo data for the local stack, posted through the public APIs, so that every figure
of the steering committee's dashboard (``/dashboard`` on outreach) has something to show.

Every name, number and story here is invented. Running it again (every `make run`) adds nothing:
creating requests carry fixed Idempotency-Keys with bodies that do not change between runs (their
dates come from records created on the first run), and every later step looks at the record's
state first, so a step already taken is skipped (a 409 on a step already done is fine too).

What it leaves behind, in Hà Nội (province 01):
* intake: six tips; five classified, three verified (two substantiated, one not), one untouched;
* casework: the two cases that intake's substantiated tips open by themselves (over Kafka); one is
  initiated, indicted, tried at a mobile trial and the defendant convicted; the other initiated,
  indicted and scheduled for a model trial;
* victim_support: the first case's victim (arrived by itself from ``victim_linked``) identified
  and protected; a person received at the border, identified, protected, supported, who consented
  to an NGO's reintegration program, is enrolled in it and got two deliveries; a third person still
  under verification (a presumed victim);
* outreach: ward populations, a campaign, activities (one ward above 75%, two below), a
  commendation.

Importable: ``await load(urls)`` with each service's base URL (the e2e test uses it).
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from libs.common.auth import issue_dev_token
from libs.common.settings import ServiceSettings

DEFAULT_URLS = {
    "intake": "http://127.0.0.1:8001",
    "casework": "http://127.0.0.1:8002",
    "victim_support": "http://127.0.0.1:8003",
    "interagency": "http://127.0.0.1:8004",
    "outreach": "http://127.0.0.1:8005",
}
PROVINCE = "01"
HAI_BA_TRUNG = "00256"  # above the 75% target
VINH_TUY = "00283"  # below it
BACH_MAI = "00277"  # below it
NGO_ORG = "ngo-demo-hoa-sen"
CAMPAIGN_NAME = "Chiến dịch truyền thông phòng, chống mua bán người (dữ liệu mẫu)"

# The first three are the original demo tips: their bodies, keys and (anonymous) filer must not
# change, or a stack that already holds them would answer 409 or file them again.
LEGACY_TIPS = 3
TIPS: list[dict[str, Any]] = [
    {
        "channel": "hotline",
        "description": "Người gọi (giả định) báo một nhóm tuyển lao động hứa việc làm lương cao "
        "ở nước ngoài, thu giữ giấy tờ của ba thanh niên trong phường.",
        "incident_ward_code": "00256",
        "exploitation_types": ["forced_labour"],
    },
    {
        "channel": "web",
        "description": "Synthetic report: a 17-year-old was promised a marriage across the border "
        "by an online acquaintance and has not answered her phone for four days.",
        "incident_ward_code": "00256",
        "exploitation_types": ["forced_marriage"],
    },
    {
        "channel": "walk_in",
        "description": "Synthetic walk-in: a neighbour saw young women being moved at night from a "
        "rented house near the market; no names given.",
        "exploitation_types": ["sexual_exploitation"],
    },
    {
        "channel": "hotline",
        "description": "Tin báo giả lập: một người môi giới đưa một phụ nữ trẻ sang biên giới "
        "với lời hứa việc làm nhà hàng; gia đình nhận được tin nhắn cầu cứu.",
        "incident_ward_code": HAI_BA_TRUNG,
        "exploitation_types": ["forced_labour"],
        "destination_country": "CN",
        "persons": [
            {"role": "victim", "full_name": "Lường Thị Hoa Mẫu", "age": 24, "sex": "female"},
            {
                "role": "suspect",
                "full_name": "Đinh Văn Giả",
                "sex": "male",
                "phone": "0912 000 451",
            },
        ],
    },
    {
        "channel": "mobile",
        "description": "Synthetic mobile report: an online 'modelling agency' recruits girls "
        "from the ward for work in Phnom Penh; the recruiter's phone is known.",
        "incident_ward_code": VINH_TUY,
        "exploitation_types": ["sexual_exploitation"],
        "destination_country": "KH",
        "persons": [
            {
                "role": "suspect",
                "full_name": "Hà Thị Tuyển Mẫu",
                "sex": "female",
                "phone": "0903 000 782",
            },
        ],
    },
    {
        "channel": "web",
        "description": "Synthetic web report: a relative worries about a cousin who left for a "
        "factory job in another province; he later called home and is safe.",
        "incident_ward_code": BACH_MAI,
        "exploitation_types": ["forced_labour"],
    },
]
# tip index -> (classification, verification outcome or None)
TRIAGE: dict[int, tuple[dict[str, Any], str | None]] = {
    0: ({"trafficking_related": "unclear", "priority": "normal"}, None),
    1: ({"trafficking_related": "yes", "priority": "high"}, None),
    3: ({"trafficking_related": "yes", "priority": "urgent"}, "substantiated"),
    4: ({"trafficking_related": "yes", "priority": "high"}, "substantiated"),
    5: ({"trafficking_related": "unclear", "priority": "low"}, "unsubstantiated"),
}
MOBILE_TRIAL_TIP, MODEL_TRIAL_TIP = 3, 4

# (ward, kind, people reached, materials, target groups): Hai Bà Trưng reaches 10,500 of 12,000
# (87.5%); Vĩnh Tuy 3,700 of 9,000 (41.1%); Bạch Mai 6,000 of 15,000 (40%).
POPULATIONS = {HAI_BA_TRUNG: 12_000, VINH_TUY: 9_000, BACH_MAI: 15_000}
ACTIVITIES: list[tuple[str, str, int, int, list[str]]] = [
    (HAI_BA_TRUNG, "meeting", 3_500, 3_500, ["young_women_migrating"]),
    (HAI_BA_TRUNG, "leaflet", 3_000, 3_000, ["workers_abroad"]),
    (HAI_BA_TRUNG, "broadcast", 4_000, 0, []),
    (VINH_TUY, "school_session", 1_200, 1_200, ["students"]),
    (VINH_TUY, "loudspeaker", 2_500, 0, []),
    (BACH_MAI, "social_media", 6_000, 0, ["online_youth"]),
]


def demo_key(name: str) -> str:
    """The same random-looking UUID v4 on every run, so that a rerun replays instead of filing
    again: an anonymous filing's key must be a UUID v4 or v7 (synthetic demo data only; an app
    makes a new random one per tip)."""
    return str(uuid.UUID(bytes=hashlib.sha256(name.encode()).digest()[:16], version=4))


class DemoDataError(RuntimeError):
    """A request the demo needs was refused: the message says which and why."""


def _check(response: httpx.Response, what: str, *ok: int) -> Any:
    if response.status_code not in ok:
        raise DemoDataError(
            f"{what}: {response.request.method} {response.request.url} answered "
            f"{response.status_code} {response.text[:500]}"
        )
    return response.json() if response.content else None


def token(settings: ServiceSettings, role: str, *, org: str | None = None) -> str:
    """A development token of ``role`` over Hà Nội; one fixed subject per role, so that the
    Idempotency-Keys (scoped to the caller) replay on every run."""
    return issue_dev_token(
        settings, roles=[role], jurisdiction=[PROVINCE], org=org, sub=f"demo-{role}"
    )


def dashboard_url(outreach_url: str, settings: ServiceSettings | None = None) -> str:
    supervisor = token(settings or ServiceSettings(), "supervisor")
    return f"{outreach_url.rstrip('/')}/dashboard#token={supervisor}"


async def _eventually(
    probe: Callable[[], Awaitable[Any]], what: str, wait_seconds: float, interval: float = 0.5
) -> Any:
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise DemoDataError(f"{what}: not there after {wait_seconds:.0f}s")
        await asyncio.sleep(interval)


class _Demo:
    def __init__(self, urls: dict[str, str], settings: ServiceSettings, wait: float) -> None:
        self.urls = {k: v.rstrip("/") for k, v in urls.items()}
        self.wait = wait
        self.http = httpx.AsyncClient(timeout=15)
        self.auth = {
            role: {"Authorization": f"Bearer {token(settings, role)}"}
            for role in (
                "intake_officer",
                "investigator",
                "prosecutor",
                "court_clerk",
                "social_worker",
            )
        }
        self.auth["ngo"] = {"Authorization": f"Bearer {token(settings, 'ngo', org=NGO_ORG)}"}

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}{path}"

    # intake ------------------------------------------------------------------------------------

    async def tips(self) -> list[str | None]:
        """The original three tips are filed as the public files them (anonymous, rate-limited
        per client, replays included); the others as an officer recording a call, which is not
        rate-limited, so that `make run` can be repeated within the hour."""
        ids: list[str | None] = []
        for n, body in enumerate(TIPS, start=1):
            anonymous = n <= LEGACY_TIPS
            response = await self.http.post(
                self.url("intake", "/v1/tips"),
                json=body,
                headers={
                    "Idempotency-Key": demo_key(f"demo-tip-{n}"),
                    **({} if anonymous else self.auth["intake_officer"]),
                },
            )
            if anonymous and response.status_code == 429:
                print(f"demo tip {n}: rate-limited, left as it is this time", file=sys.stderr)
                ids.append(None)
                continue
            ids.append(str(_check(response, f"demo tip {n}", 201)["id"]))
        for index, (classification, outcome) in TRIAGE.items():
            tip_id = ids[index]
            if tip_id is not None:
                await self.triage(tip_id, TIPS[index], classification, outcome)
        return ids

    async def triage(
        self, tip_id: str, tip: dict[str, Any], classification: dict[str, Any], outcome: str | None
    ) -> None:
        officer = self.auth["intake_officer"]
        read = _check(
            await self.http.get(self.url("intake", f"/v1/tips/{tip_id}"), headers=officer),
            "read a demo tip",
            200,
        )
        if read["status"] == "received":
            body = {
                **classification,
                "exploitation_types": tip["exploitation_types"],
                "incident_ward_code": tip.get("incident_ward_code", HAI_BA_TRUNG),
                "notes": "Phân loại giả lập (demo)",
            }
            response = await self.http.post(
                self.url("intake", f"/v1/tips/{tip_id}/classification"),
                json=body,
                headers=officer,
            )
            _check(response, "classify a demo tip", 200, 409)
            read["status"] = "triaged"
        if outcome and read["status"] == "triaged":
            response = await self.http.post(
                self.url("intake", f"/v1/tips/{tip_id}/verification"),
                json={"outcome": outcome, "notes": "Xác minh giả lập (demo)"},
                headers=officer,
            )
            _check(response, "verify a demo tip", 200, 409)

    # casework ----------------------------------------------------------------------------------

    async def case_of(self, tip_id: str) -> dict[str, Any]:
        """The case intake's substantiated tip opened in casework by itself (over Kafka)."""

        async def probe() -> list[Any]:
            response = await self.http.get(
                self.url("casework", "/v1/cases"),
                params={"tip_id": tip_id},
                headers=self.auth["investigator"],
            )
            return list(_check(response, "list cases of a tip", 200)["items"])

        found = await _eventually(probe, f"the case of tip {tip_id}", self.wait)
        return await self.read_case(str(found[0]["id"]))

    async def read_case(self, case_id: str) -> dict[str, Any]:
        response = await self.http.get(
            self.url("casework", f"/v1/cases/{case_id}"), headers=self.auth["investigator"]
        )
        result: dict[str, Any] = _check(response, "read a demo case", 200)
        return result

    async def step(self, case: dict[str, Any], role: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            self.url("casework", f"/v1/cases/{case['id']}/transitions"),
            json=body,
            headers=self.auth[role],
        )
        _check(response, f"case {body['action']}", 200, 201, 409)
        return await self.read_case(str(case["id"]))

    async def through_trial(
        self, case: dict[str, Any], n: int, trial_type: str, verdict: bool
    ) -> dict[str, Any]:
        today = datetime.now(UTC).date().isoformat()
        suspect = next(p["id"] for p in case["persons"] if p["role"] == "suspect")
        if case["status"] == "open":
            case = await self.step(
                case,
                "investigator",
                {
                    "action": "initiate",
                    "decision_number": f"{n:02d}/QĐ-KTVA (mẫu)",
                    "decided_on": today,
                    "penal_code_article": 150,
                },
            )
        if case["status"] == "investigating":
            case = await self.step(
                case,
                "prosecutor",
                {
                    "action": "indict",
                    "indictment_number": f"{n:02d}/CT-VKS (mẫu)",
                    "indicted_on": today,
                    "defendants": [{"party_id": suspect, "charge_article": 150}],
                },
            )
        if case["status"] == "indicted":
            now = datetime.now(UTC).replace(microsecond=0)
            when = now - timedelta(hours=2) if verdict else now + timedelta(days=21)
            case = await self.step(
                case,
                "court_clerk",
                {
                    "action": "schedule_trial",
                    "trial_type": trial_type,
                    "scheduled_for": when.isoformat(),
                    "venue": "Nhà văn hóa tổ dân phố (giả lập)"
                    if trial_type == "mobile"
                    else "Hội trường Tòa án nhân dân (giả lập)",
                },
            )
        if verdict and case["status"] == "trial_scheduled":
            case = await self.step(
                case,
                "court_clerk",
                {
                    "action": "record_verdict",
                    "outcome": "convicted",
                    "verdict_number": f"{n:02d}/2026/HS-ST (mẫu)",
                    "decided_on": today,
                    "sentences": [
                        {
                            "party_id": suspect,
                            "article": 150,
                            "clause": 1,
                            "imprisonment_months": 84,
                        }
                    ],
                },
            )
        return case

    # victim_support ----------------------------------------------------------------------------

    async def victims_of(self, case_id: str, source: str) -> list[dict[str, Any]]:
        """The people of ``source`` received for a case, filtered here on ``case_ids``: the
        ``?case_id=`` filter answered 500 while ``victims.case_ids`` was a generic ARRAY."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"source": source, "limit": "200", **({"cursor": cursor} if cursor else {})}
            response = await self.http.get(
                self.url("victim_support", "/v1/victims"),
                params=params,
                headers=self.auth["social_worker"],
            )
            page = _check(response, "list demo victims", 200)
            found += [v for v in page["items"] if case_id in v.get("case_ids", [])]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    async def read_victim(self, victim_id: str) -> dict[str, Any]:
        response = await self.http.get(
            self.url("victim_support", f"/v1/victims/{victim_id}"),
            headers=self.auth["social_worker"],
        )
        result: dict[str, Any] = _check(response, "read a demo victim", 200)
        return result

    async def receive(
        self, case_id: str, source: str, person: dict[str, Any], needs: list[str], hours_ago: int
    ) -> dict[str, Any]:
        existing = await self.victims_of(case_id, source)
        if existing:
            return existing[0]
        received_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
        response = await self.http.post(
            self.url("victim_support", "/v1/victims"),
            json={
                "source": source,
                "received_at": received_at.isoformat(),
                "ward_code": HAI_BA_TRUNG,
                "person": person,
                "case_id": case_id,
                "needs": needs,
            },
            headers=self.auth["social_worker"],
        )
        result: dict[str, Any] = _check(response, "receive a demo victim", 201)
        return result

    async def victim_action(self, victim_id: str, path: str, body: dict[str, Any]) -> None:
        response = await self.http.post(
            self.url("victim_support", f"/v1/victims/{victim_id}/{path}"),
            json=body,
            headers=self.auth["social_worker"],
        )
        _check(response, f"victim {path}", 200, 201, 409)

    async def identify_and_protect(self, victim: dict[str, Any], n: int) -> dict[str, Any]:
        vid = str(victim["id"])
        if victim["status"] in ("received", "under_verification"):
            await self.victim_action(
                vid,
                "identification",
                {
                    "outcome": "identified",
                    "deciding_agency": "Công an phường Hai Bà Trưng (giả lập)",
                    "document_ref": f"QĐ-XĐNN-{n:02d} (mẫu)",
                },
            )
            victim = await self.read_victim(vid)
        if victim["status"] == "identified":
            await self.victim_action(
                vid, "protection", {"measures": ["safe_shelter", "identity_protection"]}
            )
        return await self.read_victim(vid)

    async def victims(self, case_a: dict[str, Any], case_b: dict[str, Any]) -> dict[str, str]:
        linked = await _eventually(
            lambda: self.victims_of(str(case_a["id"]), "case"),
            "the victim of the first case in victim_support",
            self.wait,
        )
        await self.identify_and_protect(linked[0], 1)

        handed_over = await self.receive(
            str(case_b["id"]),
            "border_handover",
            {
                "full_name": "Vàng Thị Mẫu Dung",
                "date_of_birth": "2003-05-14",
                "sex": "female",
                "id_number": "001303009999",
            },
            ["medical", "psychological", "vocational_training"],
            hours_ago=30,
        )
        record = await self.identify_and_protect(handed_over, 2)
        vid = str(record["id"])
        received_on = datetime.fromisoformat(record["received_at"]).date()
        if not any(
            c["scope"] == "share_with_ngo" and c["org"] == NGO_ORG and c["granted"]
            for c in record.get("consents", [])
        ):
            await self.victim_action(
                vid, "consents", {"scope": "share_with_ngo", "granted": True, "org": NGO_ORG}
            )
        response = await self.http.post(
            self.url("victim_support", f"/v1/victims/{vid}/supports"),
            json={
                "type": "medical",
                "amount_vnd": 1_500_000,
                "provided_on": received_on.isoformat(),
                "provider_org": "benh-vien-demo",
            },
            headers={**self.auth["social_worker"], "Idempotency-Key": "demo-support-medical-1"},
        )
        _check(response, "record a demo support", 201, 409)
        await self.program(vid, received_on)

        presumed = await self.receive(
            str(case_a["id"]),
            "self_report",
            {"full_name": "Lò Văn Mẫu Tự", "age": 19, "sex": "male"},
            ["essential_needs"],
            hours_ago=3,
        )
        return {"linked": str(linked[0]["id"]), "handed_over": vid, "presumed": presumed["id"]}

    async def program(self, victim_id: str, received_on: date) -> None:
        ngo = self.auth["ngo"]
        program = _check(
            await self.http.post(
                self.url("victim_support", "/v1/programs"),
                json={
                    "name": "Chương trình tái hòa nhập cộng đồng (mẫu)",
                    "org": NGO_ORG,
                    "funder": "Quỹ hỗ trợ giả lập",
                    "support_types": ["psychological", "vocational_training", "schooling"],
                    "period": {
                        "start": date(received_on.year, 1, 1).isoformat(),
                        "end": date(received_on.year + 1, 12, 31).isoformat(),
                    },
                },
                headers={**ngo, "Idempotency-Key": "demo-program-1"},
            ),
            "create the demo program",
            201,
        )
        pid = program["id"]
        response = await self.http.post(
            self.url("victim_support", f"/v1/programs/{pid}/enrollments"),
            json={"victim_id": victim_id, "external_id": "HS-DEMO-001"},
            headers={**ngo, "Idempotency-Key": "demo-enrollment-1"},
        )
        _check(response, "enroll in the demo program", 201, 409)
        day = received_on.isoformat()
        response = await self.http.post(
            self.url("victim_support", f"/v1/programs/{pid}/deliveries:batch"),
            json={
                "items": [
                    {
                        "external_id": "DL-DEMO-001",
                        "victim_id": victim_id,
                        "type": "psychological",
                        "amount_vnd": 800_000,
                        "delivered_on": day,
                    },
                    {
                        "external_id": "DL-DEMO-002",
                        "victim_id": victim_id,
                        "type": "vocational_training",
                        "amount_vnd": 3_000_000,
                        "delivered_on": day,
                    },
                ]
            },
            headers=ngo,
        )
        results = _check(response, "deliveries to the demo program", 207)["results"]
        refused = [r for r in results if r["status"] == "rejected"]
        if refused:
            raise DemoDataError(f"demo deliveries refused: {refused}")

    # outreach ----------------------------------------------------------------------------------

    async def outreach(self) -> None:
        organiser = self.auth["social_worker"]
        today = datetime.now(UTC).date()
        for ward, population in POPULATIONS.items():
            response = await self.http.put(
                self.url("outreach", f"/v1/wards/{ward}/population"),
                json={
                    "population": population,
                    "year": today.year,
                    "source": "Số liệu dân số giả lập của phường (demo)",
                },
                headers=organiser,
            )
            _check(response, "a demo ward population", 200)
        campaign = await self.campaign(today)
        held_on = min(date.fromisoformat(campaign["period_start"]), today).isoformat()
        for n, (ward, kind, people, materials, groups) in enumerate(ACTIVITIES, start=1):
            response = await self.http.post(
                self.url("outreach", "/v1/activities"),
                json={
                    "campaign_id": campaign["id"],
                    "ward_code": ward,
                    "kind": kind,
                    "held_on": held_on,
                    "people_reached": people,
                    "materials_distributed": materials,
                    "target_groups": groups,
                    "evidence_ref": f"demo:activity-{n}",
                },
                headers={**organiser, "Idempotency-Key": f"demo-activity-{n}"},
            )
            _check(response, f"demo activity {n}", 201, 409)
        response = await self.http.post(
            self.url("outreach", "/v1/commendations"),
            json={
                "recipient_kind": "organisation",
                "recipient_name": "Tổ dân phố số 5 (giả lập)",
                "ward_code": HAI_BA_TRUNG,
                "reason": "Mô hình tổ dân phố tự quản phòng, chống mua bán người (dữ liệu mẫu)",
                "awarded_on": held_on,
                "level": "ward",
            },
            headers={**organiser, "Idempotency-Key": "demo-commendation-1"},
        )
        _check(response, "a demo commendation", 201, 409)

    async def campaign(self, today: date) -> dict[str, Any]:
        cursor: str | None = None
        while True:
            params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
            page = _check(
                await self.http.get(
                    self.url("outreach", "/v1/campaigns"),
                    params=params,
                    headers=self.auth["social_worker"],
                ),
                "list campaigns",
                200,
            )
            for campaign in page["items"]:
                if campaign["name"] == CAMPAIGN_NAME:
                    return dict(campaign)
            cursor = page["next_cursor"]
            if not cursor:
                break
        quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        next_quarter = (quarter_start + timedelta(days=92)).replace(day=1)
        result: dict[str, Any] = _check(
            await self.http.post(
                self.url("outreach", "/v1/campaigns"),
                json={
                    "name": CAMPAIGN_NAME,
                    "period_start": quarter_start.isoformat(),
                    "period_end": (next_quarter - timedelta(days=1)).isoformat(),
                    "organiser": "Ban chỉ đạo phòng, chống mua bán người (giả lập)",
                    "funder": "Quỹ truyền thông giả lập",
                    "target_groups": ["young_women_migrating", "students", "workers_abroad"],
                    "jurisdiction_code": PROVINCE,
                },
                headers={**self.auth["social_worker"], "Idempotency-Key": "demo-campaign-1"},
            ),
            "create the demo campaign",
            201,
        )
        return result


async def load(
    urls: dict[str, str] | None = None,
    *,
    settings: ServiceSettings | None = None,
    wait_seconds: float = 90.0,
) -> dict[str, Any]:
    """Load (or find again) the demo data through each service's API; return the ids made.

    ``urls`` maps intake, casework, victim_support and outreach to their base URLs; ``wait_seconds``
    bounds each wait for what arrives over Kafka (a case opened, a victim linked).
    """
    demo = _Demo({**DEFAULT_URLS, **(urls or {})}, settings or ServiceSettings(), wait_seconds)
    try:
        tips = await demo.tips()
        case_a = await demo.case_of(str(tips[MOBILE_TRIAL_TIP]))
        case_b = await demo.case_of(str(tips[MODEL_TRIAL_TIP]))
        case_a = await demo.through_trial(case_a, 1, "mobile", verdict=True)
        case_b = await demo.through_trial(case_b, 2, "model", verdict=False)
        victims = await demo.victims(case_a, case_b)
        await demo.outreach()
    finally:
        await demo.http.aclose()
    return {
        "tips": tips,
        "cases": {"mobile_trial": str(case_a["id"]), "model_trial": str(case_b["id"])},
        "victims": victims,
    }


def main() -> int:
    try:
        loaded = asyncio.run(load())
    except (DemoDataError, httpx.HTTPError) as exc:
        print(f"demo data: {exc}", file=sys.stderr)
        return 1
    print(
        f"demo data: {len(loaded['tips'])} tips, {len(loaded['cases'])} cases, "
        f"{len(loaded['victims'])} victims, outreach in {len(POPULATIONS)} wards"
    )
    print("dashboard (a supervisor's token in the fragment):")
    print(f"  {dashboard_url(DEFAULT_URLS['outreach'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
