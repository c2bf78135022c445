"""The plan's story, end to end, across the five services as real HTTP servers.

intake, casework, victim_support, interagency and outreach each listen on a free loopback port
(uvicorn in this session's event loop) with their relays and consumers, on this session's own
database and Kafka topics; a partner province (Lạng Sơn, code 20) is a real HTTP receiver that
verifies our webhooks with the ``standardwebhooks`` library.

The story, all in one ward that nothing else in the session uses: an anonymous tip, followed up
through its receipt (an officer asks, the reporter answers and adds a photo), classified,
substantiated; the case opens by itself, with the reporter's photo among its evidence, which the
investigator downloads, is initiated under Art. 151 (the victim is 15), indicted, tried at a mobile
trial, the defendant convicted, the case closed; the victim named on the tip is received by
victim_support by itself, identified, protected, supported as the law allows an identified
victim, and enrolled with consent in an NGO's program; a missing-person report is alerted to the
border partner, which finds her and posts ``person_found`` with the name written without
diacritics; the match shows in intake and the officer confirms it. Then every plan figure
for that ward must be exactly what the story did.

The building blocks (:class:`Story`, :func:`five_services`) are reused by
``test_data_at_rest.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from standardwebhooks import Webhook

from libs.common.jurisdiction import wards_of
from libs.common.settings import ServiceSettings
from libs.common.text import fold_vietnamese
from testkit import evidence
from testkit.intake import resident_key
from testkit.interagency import partner_event
from tests.e2e.conftest import Served, _listening_socket
from tests.integration.interagency.support import Receiver
from tests.support import bearer

pytestmark = pytest.mark.e2e

PROVINCE = "01"
PARTNER = "20"  # Lạng Sơn, on the border with China
NGO_ORG = "ngo-story-hoa-sen"
DEMO_WARDS = {"00256", "00283", "00277"}  # deploy/local/demo_data.py (test_dashboard.py)
FIVE = ("intake", "casework", "victim_support", "interagency", "outreach")
WAIT = 60.0

FAMILY = ["Lò", "Vàng", "Giàng", "Lường", "Đinh", "Hà", "Mùa", "Sùng"]
MIDDLE_F = ["Thị", "Thị Thu", "Thị Ngọc"]
GIVEN = ["Mỷ", "Dợ", "Chúa", "Pằng", "Sính", "Xuân", "Dua", "Lả", "Súa", "Ngần"]


def quiet_ward(rng: random.Random, taken: set[str] | None = None) -> str:
    """A ward of Hà Nội that no other test of the session touches."""
    taken = DEMO_WARDS | (taken or set())
    return rng.choice([w for w in wards_of(PROVINCE) if w not in taken])


def phone_forms(national: str) -> list[str]:
    """0912345678 as written: 0912345678, +84912345678, 912345678."""
    return [national, "+84" + national[1:], national[1:]]


@dataclass
class Person:
    """A synthetic person of the story (no real people): what must never be at rest in clear."""

    full_name: str
    phone: str | None = None
    id_number: str | None = None

    def secrets(self) -> list[str]:
        found = [self.full_name]
        if self.phone:
            found += phone_forms(self.phone)
        if self.id_number:
            found.append(self.id_number)
        return found


def new_person(rng: random.Random, *, female: bool = True, with_ids: bool = True) -> Person:
    family = rng.choice(FAMILY)
    middle = rng.choice(MIDDLE_F) if female else "Văn"
    given = f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}"
    return Person(
        full_name=f"{family} {middle} {given}",
        phone=f"09{rng.randrange(10**8):08d}" if with_ids else None,
        id_number=f"0{rng.randrange(10**11):011d}" if with_ids else None,
    )


def expect(response: httpx.Response, *status: int) -> Any:
    assert response.status_code in status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}: "
        f"{response.text[:800]}"
    )
    return response.json() if response.content else None


async def until(
    probe: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT, interval: float = 0.2
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not there after {timeout:.0f}s (last: {found!r})")
        await asyncio.sleep(interval)


# The five services as real HTTP servers ---------------------------------------------------------


@pytest.fixture(scope="module")
async def five_services(settings_for: Callable[..., Any]) -> AsyncIterator[dict[str, Served]]:
    """Every service on a free port with its relay and consumers; interagency with a compressed
    retry schedule; outreach knows where the others are."""
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

    sockets = {name: _listening_socket() for name in FIVE}
    url = {name: f"http://127.0.0.1:{s.getsockname()[1]}" for name, s in sockets.items()}
    apps = {
        "intake": intake_app(settings_for(IntakeSettings)),
        "casework": casework_app(settings_for(CaseworkSettings, intake_url=url["intake"])),
        "victim_support": victim_support_app(settings_for(VictimSupportSettings)),
        "interagency": interagency_app(
            settings_for(
                InteragencySettings,
                retry_schedule_seconds=[0.2, 0.5, 1.0, 2.0],
                retry_jitter=0.1,
                delivery_poll_seconds=0.1,
                delivery_timeout_seconds=3.0,
            )
        ),
        "outreach": outreach_app(
            settings_for(
                OutreachSettings,
                intake_url=url["intake"],
                casework_url=url["casework"],
                victim_support_url=url["victim_support"],
                interagency_url=url["interagency"],
                report_timeout_seconds=5.0,
            )
        ),
    }
    served = {name: Served(name, apps[name], sockets[name]) for name in FIVE}
    try:
        await asyncio.gather(*(s.start() for s in served.values()))
        yield served
    finally:
        for s in served.values():
            await s.stop()
        for sock in sockets.values():
            sock.close()


@pytest.fixture(scope="module")
async def partner_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


# The story's building blocks --------------------------------------------------------------------


@dataclass
class Story:
    """A client of the five services acting as every role of Hà Nội (province 01)."""

    urls: dict[str, str]
    http: httpx.AsyncClient
    settings: ServiceSettings = field(default_factory=ServiceSettings)
    persons: list[Person] = field(default_factory=list)

    def auth(self, role: str, *, org: str | None = None) -> dict[str, str]:
        return bearer(self.settings, role, PROVINCE, org=org)

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}{path}"

    async def post(
        self, service: str, path: str, body: dict[str, Any], role: str | None, *status: int
    ) -> Any:
        # without a token, as a residents' app posts: with a fresh random Idempotency-Key
        headers = (
            self.auth(role, org=NGO_ORG if role == "ngo" else None) if role else resident_key()
        )
        response = await self.http.post(self.url(service, path), json=body, headers=headers)
        return expect(response, *(status or (200, 201)))

    async def get(
        self, service: str, path: str, role: str, params: dict[str, Any] | None = None
    ) -> Any:
        headers = {**self.auth(role), "X-Purpose": "end-to-end story"}
        response = await self.http.get(self.url(service, path), params=params, headers=headers)
        return expect(response, 200)

    # intake

    async def file_tip(self, body: dict[str, Any]) -> dict[str, Any]:
        """Anonymously, as the public files a tip."""
        created: dict[str, Any] = await self.post("intake", "/v1/tips", body, None, 201)
        return created

    async def classify(self, tip_id: str, **extra: Any) -> dict[str, Any]:
        body = {"trafficking_related": "yes", "priority": "high", **extra}
        result: dict[str, Any] = await self.post(
            "intake", f"/v1/tips/{tip_id}/classification", body, "intake_officer", 200
        )
        return result

    async def verify(self, tip_id: str, outcome: str = "substantiated") -> dict[str, Any]:
        body = {"outcome": outcome, "notes": "Xác minh trong câu chuyện kiểm thử"}
        result: dict[str, Any] = await self.post(
            "intake", f"/v1/tips/{tip_id}/verification", body, "intake_officer", 200
        )
        return result

    # casework

    async def case_of(self, tip_id: str) -> dict[str, Any]:
        async def probe() -> list[dict[str, Any]]:
            page = await self.get("casework", "/v1/cases", "investigator", {"tip_id": tip_id})
            return list(page["items"])

        found = await until(probe, f"the case of tip {tip_id}")
        assert len(found) == 1, found
        case: dict[str, Any] = await self.get(
            "casework", f"/v1/cases/{found[0]['id']}", "investigator"
        )
        return case

    async def act(self, case_id: str, role: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.post(
            "casework", f"/v1/cases/{case_id}/transitions", body, role, 200
        )
        return result

    # victim_support

    async def victims_of_case(self, case_id: str) -> list[dict[str, Any]]:
        page = await self.get(
            "victim_support", "/v1/victims", "social_worker", {"case_id": case_id}
        )
        return list(page["items"])

    async def received_from_case(self, case_id: str) -> dict[str, Any]:
        found = await until(
            lambda: self.victims_of_case(case_id), f"the victim of case {case_id} received"
        )
        assert len(found) == 1, found
        victim: dict[str, Any] = found[0]
        return victim


def tip_body(ward: str, victim: Person, suspect: Person, **extra: Any) -> dict[str, Any]:
    fifteen = datetime.now(UTC).date().replace(day=1) - timedelta(days=15 * 366)
    return {
        "channel": "web",
        "description": "Tin báo kiểm thử: một người quen trên mạng hứa việc làm bên kia biên "
        "giới cho một em gái 15 tuổi; gia đình mất liên lạc đã ba ngày.",
        "incident_ward_code": ward,
        "exploitation_types": ["forced_marriage"],
        "destination_country": "CN",
        "persons": [
            {
                "role": "victim",
                "full_name": victim.full_name,
                "date_of_birth": fifteen.isoformat(),
                "sex": "female",
                "phone": victim.phone,
                "id_number": victim.id_number,
            },
            {
                "role": "suspect",
                "full_name": suspect.full_name,
                "sex": "male",
                "phone": suspect.phone,
                "id_number": suspect.id_number,
            },
        ],
        **extra,
    }


def period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {
        "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }


# The whole story, once per module ----------------------------------------------------------------


@dataclass
class Told:
    """What the story did, and what it saw on the way."""

    ward: str
    partner: str = PARTNER
    reporter: Person | None = None
    tip: dict[str, Any] = field(default_factory=dict)
    receipt_before_answer: dict[str, Any] = field(default_factory=dict)
    receipt_after_answer: dict[str, Any] = field(default_factory=dict)
    photo: dict[str, Any] = field(default_factory=dict)
    photo_listed: list[dict[str, Any]] = field(default_factory=list)
    photo_download: httpx.Response | None = None
    tip_read: dict[str, Any] = field(default_factory=dict)
    case_opened: dict[str, Any] = field(default_factory=dict)
    case_closed: dict[str, Any] = field(default_factory=dict)
    cases_of_tip: int = 0
    victim_received: dict[str, Any] = field(default_factory=dict)
    victims_of_case: int = 0
    hand_reception: dict[str, Any] = field(default_factory=dict)
    presumed_refusal: httpx.Response | None = None
    victim_final: dict[str, Any] = field(default_factory=dict)
    deliveries: dict[str, Any] = field(default_factory=dict)
    program_report: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, Any] = field(default_factory=dict)
    webhooks: list[Any] = field(default_factory=list)
    inbound: dict[str, Any] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)
    missing_read: dict[str, Any] = field(default_factory=dict)
    decided: dict[str, Any] = field(default_factory=dict)
    kpis: dict[str, Any] = field(default_factory=dict)
    population: int = 0
    activities: list[tuple[str, int, int]] = field(default_factory=list)
    victim: Person | None = None
    missing_person: Person | None = None
    logs: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


class LogCapture(logging.Handler):
    """Every log line the services write during the story, formatted and filtered exactly as
    their stdout handler does (``configure_logging``): what ops would collect."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        root = logging.getLogger()
        template = next((h for h in root.handlers if h.formatter is not None), None)
        if template is not None:
            self.setFormatter(template.formatter)
            for f in template.filters:
                self.addFilter(f)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
async def told(five_services: dict[str, Served], partner_receiver: Receiver) -> Told:
    rng = random.Random()
    story_told = Told(ward=quiet_ward(rng))
    urls = {name: s.url for name, s in five_services.items()}
    root = logging.getLogger()
    capture, level = LogCapture(), root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)  # production's level (the tests' settings say WARNING)
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            story = Story(urls, http)
            await tell(story, story_told, partner_receiver, rng)
        logging.getLogger("services.story").info("the story is told (capture canary)")
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    story_told.logs = capture.lines
    story_told.secrets = [secret for person in story.persons for secret in person.secrets()]
    story_told.secrets += [fold_vietnamese(person.full_name) for person in story.persons]
    story_told.secrets += [
        code
        for code in (story_told.tip.get("receipt_code"), story_told.missing.get("receipt_code"))
        if code
    ]
    return story_told


async def tell(story: Story, t: Told, receiver: Receiver, rng: random.Random) -> None:
    ward = t.ward
    today = datetime.now(UTC).date()
    victim, suspect = new_person(rng), new_person(rng, female=False)
    t.victim = victim
    story.persons += [victim, suspect, *([t.reporter] if t.reporter else [])]

    # A partner province on the border, to be alerted of missing persons.
    partner = await story.post(
        "interagency",
        "/v1/partners",
        {
            "code": t.partner,
            "name": "Lạng Sơn (đối tác giả lập)",
            "webhook_url": receiver.url(t.partner),
            "alert_types": ["missing_person", "person_found"],
            "border_countries": ["CN"],
        },
        "admin",
        201,
    )
    receiver.secrets[t.partner] = [partner["outbound_secret"]]

    # intake: an anonymous tip, followed up through its receipt.
    reporter = (
        {"name": t.reporter.full_name, "phone": t.reporter.phone, "email": "nguoibao@example.vn"}
        if t.reporter
        else None
    )
    t.tip = await story.file_tip(tip_body(ward, victim, suspect, reporter=reporter))
    tip_id, receipt = t.tip["id"], t.tip["receipt_code"]
    question = "Em có biết số điện thoại của người môi giới không?"
    await story.post(
        "intake", f"/v1/tips/{tip_id}/messages", {"body": question}, "intake_officer", 201
    )
    # The code travels in request bodies only: gateways log URLs.
    lookup = {"receipt_code": receipt}
    t.receipt_before_answer = await story.post("intake", "/v1/receipts/lookup", lookup, None, 200)
    answer = "Người đó dùng Zalo, tôi sẽ gửi ảnh chụp màn hình."
    await story.post("intake", "/v1/receipts/messages", {**lookup, "body": answer}, None, 201)
    t.receipt_after_answer = await story.post("intake", "/v1/receipts/lookup", lookup, None, 200)
    # The screenshot she promised, from her phone: anonymous, with the receipt code.
    t.photo = expect(
        await story.http.post(
            story.url("intake", "/v1/receipts/attachments"),
            data=lookup,
            files={"file": ("zalo-moi-gioi.jpg", evidence.jpeg_with_gps(), "image/jpeg")},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ),
        201,
    )
    t.tip_read = await story.get("intake", f"/v1/tips/{tip_id}", "intake_officer")

    # A second tip in the ward stays in triage: it counts as classified, not verified.
    other = await story.file_tip(
        {
            "channel": "hotline",
            "description": "Tin báo kiểm thử thứ hai: có người lạ rủ thanh niên đi làm thuê "
            "ở nước ngoài, chưa rõ dấu hiệu mua bán người.",
            "incident_ward_code": ward,
            "exploitation_types": ["forced_labour"],
        }
    )
    await story.classify(other["id"], trafficking_related="unclear", priority="normal")

    await story.classify(tip_id, exploitation_types=["forced_marriage"], priority="urgent")
    await story.verify(tip_id, "substantiated")

    # casework: the case opens by itself, and goes to its end.
    case = t.case_opened = await story.case_of(tip_id)
    cid = case["id"]
    victim_party = next(p for p in case["persons"] if p["role"] == "victim")
    suspect_party = next(p for p in case["persons"] if p["role"] == "suspect")
    assert victim_party["full_name"] == victim.full_name

    # The reporter's photo is among the case's evidence; the investigator downloads it.
    async def photo_listed() -> list[dict[str, Any]]:
        page = await story.get("casework", f"/v1/cases/{cid}/evidence", "investigator")
        return [item for item in page["items"] if item["id"] == t.photo["id"]]

    t.photo_listed = await until(photo_listed, "the reporter's photo on the case")
    t.photo_download = await story.http.get(
        story.url("casework", f"/v1/evidence/{t.photo['id']}/content"),
        headers={**story.auth("investigator"), "X-Purpose": "end-to-end story"},
    )
    await story.act(
        cid,
        "investigator",
        {
            "action": "initiate",
            "decision_number": "07/QĐ-KTVA (kiểm thử)",
            "decided_on": today.isoformat(),
            "penal_code_article": 151,
        },
    )
    await story.act(
        cid,
        "prosecutor",
        {
            "action": "indict",
            "indictment_number": "07/CT-VKS (kiểm thử)",
            "indicted_on": today.isoformat(),
            "defendants": [{"party_id": suspect_party["id"], "charge_article": 151}],
        },
    )
    held = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    await story.act(
        cid,
        "court_clerk",
        {
            "action": "schedule_trial",
            "trial_type": "mobile",
            "scheduled_for": held.isoformat(),
            "venue": "Nhà văn hóa thôn (xét xử lưu động, kiểm thử)",
        },
    )
    await story.act(
        cid,
        "court_clerk",
        {
            "action": "record_verdict",
            "outcome": "convicted",
            "verdict_number": "07/2026/HS-ST (kiểm thử)",
            "decided_on": today.isoformat(),
            "sentences": [
                {
                    "party_id": suspect_party["id"],
                    "article": 151,
                    "clause": 1,
                    "imprisonment_months": 96,
                }
            ],
        },
    )
    await story.act(cid, "court_clerk", {"action": "close", "reason": "bản án có hiệu lực"})
    t.case_closed = await story.get("casework", f"/v1/cases/{cid}", "investigator")
    t.cases_of_tip = len(
        (await story.get("casework", "/v1/cases", "investigator", {"tip_id": tip_id}))["items"]
    )

    # victim_support: the victim on the case arrives by itself.
    received = t.victim_received = await story.received_from_case(cid)
    vid = received["id"]
    # While she is a presumed victim, vocational training is not hers yet (Art. 37).
    t.presumed_refusal = await story.http.post(
        story.url("victim_support", f"/v1/victims/{vid}/supports"),
        json={
            "type": "vocational_training",
            "amount_vnd": 2_000_000,
            "provided_on": today.isoformat(),
            "provider_org": "trung-tam-day-nghe",
        },
        headers=story.auth("social_worker"),
    )
    # At the shelter the social worker records her needs: the same person, linked, not twice.
    t.hand_reception = await story.post(
        "victim_support",
        "/v1/victims",
        {
            "source": "case",
            "received_at": received["received_at"],
            "ward_code": ward,
            "person": {"full_name": victim.full_name, "id_number": victim.id_number},
            "case_id": cid,
            "needs": ["medical", "psychological", "vocational_training"],
        },
        "social_worker",
        201,
    )
    await story.post(
        "victim_support",
        f"/v1/victims/{vid}/identification",
        {
            "outcome": "identified",
            "deciding_agency": "Công an xã (kiểm thử)",
            "document_ref": "QĐ-XĐNN-07 (kiểm thử)",
        },
        "social_worker",
        200,
    )
    await story.post(
        "victim_support",
        f"/v1/victims/{vid}/protection",
        {"measures": ["safe_shelter", "identity_protection"]},
        "social_worker",
        200,
    )
    await story.post(
        "victim_support",
        f"/v1/victims/{vid}/supports",
        {
            "type": "vocational_training",
            "amount_vnd": 2_000_000,
            "provided_on": today.isoformat(),
            "provider_org": "trung-tam-day-nghe",
        },
        "social_worker",
        201,
    )
    await story.post(
        "victim_support",
        f"/v1/victims/{vid}/consents",
        {"scope": "share_with_ngo", "granted": True, "org": NGO_ORG},
        "social_worker",
        201,
    )
    program = await story.post(
        "victim_support",
        "/v1/programs",
        {
            "name": "Chương trình tái hòa nhập (kiểm thử)",
            "org": NGO_ORG,
            "funder": "Quỹ giả lập",
            "support_types": ["psychological", "vocational_training"],
            "period": {"start": f"{today.year}-01-01", "end": f"{today.year + 1}-12-31"},
        },
        "ngo",
        201,
    )
    pid = program["id"]
    await story.post(
        "victim_support",
        f"/v1/programs/{pid}/enrollments",
        {"victim_id": vid, "external_id": f"HS-{uuid.uuid4().hex[:8]}"},
        "ngo",
        201,
    )
    day = today.isoformat()
    t.deliveries = await story.post(
        "victim_support",
        f"/v1/programs/{pid}/deliveries:batch",
        {
            "items": [
                {
                    "external_id": "DL-1",
                    "victim_id": vid,
                    "type": "psychological",
                    "amount_vnd": 800_000,
                    "delivered_on": day,
                },
                {
                    "external_id": "DL-2",
                    "victim_id": vid,
                    "type": "vocational_training",
                    "amount_vnd": 3_000_000,
                    "delivered_on": day,
                },
                {
                    "external_id": "DL-3",
                    "victim_id": vid,
                    "type": "loan",
                    "amount_vnd": 5_000_000,
                    "delivered_on": day,
                },
            ]
        },
        "ngo",
        207,
    )
    t.program_report = expect(
        await story.http.get(
            story.url("victim_support", f"/v1/programs/{pid}/report"),
            headers=story.auth("ngo", org=NGO_ORG),
        ),
        200,
    )
    t.victim_final = await story.get("victim_support", f"/v1/victims/{vid}", "social_worker")
    t.victims_of_case = len(await story.victims_of_case(cid))

    # A missing person, alerted to the border partner, found there, matched and confirmed.
    await missing_person_episode(story, t, receiver, partner, rng)

    # outreach: the ward's population and what was done there.
    t.population = 1_000
    await story.http.put(
        story.url("outreach", f"/v1/wards/{ward}/population"),
        json={"population": t.population, "year": today.year, "source": "Thống kê giả lập"},
        headers=story.auth("social_worker"),
    )
    t.activities = [
        ("meeting", 300, 300),
        ("leaflet", 200, 200),
        ("broadcast", 400, 0),
        ("loudspeaker", 250, 0),
    ]
    for kind, people, materials in t.activities:
        await story.post(
            "outreach",
            "/v1/activities",
            {
                "ward_code": ward,
                "kind": kind,
                "held_on": day,
                "people_reached": people,
                "materials_distributed": materials,
                "target_groups": ["young_women_migrating"],
            },
            "social_worker",
            201,
        )

    for name in ("intake", "casework", "victim_support", "outreach"):
        t.kpis[name] = await story.get(
            name, "/v1/kpis", "supervisor", {**period(), "ward_code": ward}
        )


async def missing_person_episode(
    story: Story, t: Told, receiver: Receiver, partner: dict[str, Any], rng: random.Random
) -> None:
    ward = t.ward
    missing, relative = new_person(rng), new_person(rng, female=False)
    t.missing_person = missing
    story.persons += [missing, relative]
    born = date(2007, 3, 14)
    hometown = quiet_ward(rng, {ward})
    t.missing = await story.post(
        "intake",
        "/v1/missing-persons",
        {
            "full_name": missing.full_name,
            "sex": "female",
            "date_of_birth": born.isoformat(),
            "last_seen_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
            "last_seen_ward_code": ward,
            "hometown_ward_code": hometown,
            "id_number": missing.id_number,
            "phone": missing.phone,
            "distinguishing_marks": "nốt ruồi dưới mắt trái",
            "circumstances": "Đi cùng một người quen trên mạng, không về nhà.",
            "reporter": {"name": relative.full_name, "phone": relative.phone},
        },
        None,
        201,
    )
    mpid = t.missing["id"]
    # Filed by the family, the report reaches partners only once an officer publishes it.
    await story.post(
        "intake",
        f"/v1/missing-persons/{mpid}/review",
        {"decision": "publish"},
        "intake_officer",
        200,
    )

    def alerted() -> list[Any]:
        return [
            r
            for r in receiver.of(t.partner, delivered_only=True)
            if r.event["data"].get("missing_person_id") == mpid
        ]

    async def probe() -> list[Any]:
        return alerted()

    t.webhooks = await until(probe, "the missing-person alert at the partner")
    await asyncio.sleep(1.0)  # a second delivery, if there were one, would arrive by now
    t.webhooks = alerted()

    found = {
        "alert_type": "person_found",
        "full_name": without_diacritics(missing.full_name),
        "sex": "female",
        "date_of_birth": born.isoformat(),
        "found_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "found_place": "Cửa khẩu Hữu Nghị",
        "hometown_ward_code": hometown,
        "nationality": "VN",
        "contact_agency": "Đồn biên phòng cửa khẩu (giả lập)",
    }
    body = partner_event(t.partner, found)
    msg_id = f"msg_{uuid.uuid4().hex}"
    signature = Webhook(partner["inbound_secret"]).sign(msg_id, datetime.now(UTC), body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": signature,
        "content-type": "application/cloudevents+json",
    }
    t.inbound = expect(
        await story.http.post(
            story.url("interagency", f"/v1/inbound/{t.partner}"), content=body, headers=headers
        ),
        202,
    )

    async def matches() -> list[dict[str, Any]]:
        page = await story.get(
            "interagency", "/v1/matches", "intake_officer", {"missing_person_id": mpid}
        )
        return list(page["items"])

    t.matches = await until(matches, "the match of the person found")

    async def shown() -> dict[str, Any] | None:
        read: dict[str, Any] = await story.get(
            "intake", f"/v1/missing-persons/{mpid}", "intake_officer"
        )
        return read if read["possible_matches"] else None

    t.missing_read = await until(shown, "the possible match in intake")
    t.decided = await story.post(
        "interagency",
        f"/v1/matches/{t.matches[0]['id']}/decision",
        {"decision": "confirmed", "note": "Đã đối chiếu ảnh và CCCD"},
        "intake_officer",
        200,
    )
    await story.post(
        "intake",
        f"/v1/missing-persons/{mpid}/resolution",
        {"outcome": "found_safe", "notes": "Đã tìm thấy tại cửa khẩu"},
        "intake_officer",
        200,
    )


def without_diacritics(name: str) -> str:
    """The name as a partner's system writes it: no diacritics, đ as d, upper-case."""
    return fold_vietnamese(name).upper()


def figure(kpis: dict[str, Any], name: str) -> tuple[int, int]:
    return kpis[name]["numerator"], kpis[name]["denominator"]


# The behaviours --------------------------------------------------------------------------------


async def test_the_reporter_reads_the_officers_question_and_the_answer_reaches_the_officer(
    told: Told,
) -> None:
    assert told.tip["status"] == "received" and len(told.tip["receipt_code"]) == 16
    before = told.receipt_before_answer
    assert before["kind"] == "tip"
    assert [(m["direction"], m["body"][:6]) for m in before["messages"]] == [
        ("to_reporter", "Em có ")
    ]
    after = told.receipt_after_answer
    assert [m["direction"] for m in after["messages"]] == ["to_reporter", "from_reporter"]
    assert "notes" not in json.dumps(after)
    assert [m["direction"] for m in told.tip_read["messages"]] == ["to_reporter", "from_reporter"]
    assert told.tip_read["anonymous"] is True


async def test_the_substantiated_tip_opens_one_case_that_goes_from_initiation_to_closed(
    told: Told,
) -> None:
    opened, closed = told.case_opened, told.case_closed
    assert opened["status"] == "open" and opened["tip_id"] == told.tip["id"]
    assert opened["ward_code"] == told.ward
    assert told.cases_of_tip == 1
    assert closed["status"] == "closed"
    assert closed["penal_code_article"] == 151
    assert closed["trial_type"] == "mobile"
    assert [e["action"] for e in closed["timeline"]][-5:] == [
        "initiate",
        "indict",
        "schedule_trial",
        "record_verdict",
        "close",
    ]
    assert closed["facts"]["verdict_outcome"] == "convicted"
    assert closed["facts"]["sentences"][0]["imprisonment_months"] == 96


async def test_the_reporters_photo_is_on_the_case_and_downloads_without_her_position(
    told: Told,
) -> None:
    [listed] = told.photo_listed
    assert (listed["origin"], listed["source"]) == ("tip", "public")
    assert listed["tip_id"] == told.tip["id"] and listed["sha256"] == told.photo["sha256"]
    assert (listed["filename"], listed["media_type"]) == ("zalo-moi-gioi.jpg", "image/jpeg")
    download = told.photo_download
    assert download is not None and download.status_code == 200, download
    assert hashlib.sha256(download.content).hexdigest() == told.photo["sha256"]
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="zalo-moi-gioi.jpg"'
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    photo = Image.open(io.BytesIO(download.content))
    assert not photo.getexif().get_ifd(0x8825)  # no GPS position
    assert evidence.PHONE_MODEL.encode() not in download.content


async def test_the_victim_on_the_case_is_received_once_identified_protected_and_supported(
    told: Told,
) -> None:
    received, final = told.victim_received, told.victim_final
    assert received["source"] == "case" and received["ward_code"] == told.ward
    assert received["is_minor"] is True
    assert told.hand_reception["id"] == received["id"], "the shelter's reception is linked"
    assert told.victims_of_case == 1
    refusal = told.presumed_refusal
    assert refusal is not None and refusal.status_code == 422
    assert refusal.json()["rule"] == "presumed_victim"
    assert final["identification"]["outcome"] == "identified"
    assert final["protection"] and final["protection"][0]["measures"] == [
        "safe_shelter",
        "identity_protection",
    ]
    assert "vocational_training" in final["entitled_supports"]
    assert final["person"]["full_name"] == told.victim.full_name  # type: ignore[union-attr]
    assert any(c["scope"] == "share_with_ngo" and c["granted"] for c in final["consents"])
    by_type = sorted(
        (s["type"], s["amount_vnd"], s["program_id"] is not None) for s in final["supports"]
    )
    assert by_type == [
        ("psychological", 800_000, True),
        ("vocational_training", 2_000_000, False),
        ("vocational_training", 3_000_000, True),
    ]


async def test_the_ngo_batch_keeps_the_good_deliveries_and_rejects_the_unfunded_one(
    told: Told,
) -> None:
    d = told.deliveries
    assert (d["created"], d["duplicate"], d["rejected"]) == (2, 0, 1)
    rejected = [r for r in d["results"] if r["status"] == "rejected"]
    assert rejected[0]["external_id"] == "DL-3"
    assert rejected[0]["errors"][0]["field"] == "type"
    assert told.victim.full_name not in json.dumps(told.program_report)  # type: ignore[union-attr]


async def test_the_missing_person_is_alerted_once_to_the_border_partner_signed(
    told: Told,
) -> None:
    assert len(told.webhooks) == 1, [w.webhook_id for w in told.webhooks]
    hook = told.webhooks[0]
    assert hook.verified_with, "the partner verifies our signature with standardwebhooks"
    event = hook.event
    assert event["type"] == "vn.ctip.interagency.alert.v1"
    assert event["source"] == "/ctip/interagency"
    data = event["data"]
    assert data["alert_type"] == "missing_person"
    assert data["full_name"] == told.missing_person.full_name  # type: ignore[union-attr]
    assert "reporter" not in data and "circumstances" not in data and "phone" not in data


async def test_the_partners_find_without_diacritics_is_matched_shown_in_intake_and_confirmed(
    told: Told,
) -> None:
    assert told.inbound.keys() == {"alert_id"}
    assert len(told.matches) == 1
    match = told.matches[0]
    assert match["partner_code"] == PARTNER and match["score"] >= 0.75
    shown = told.missing_read["possible_matches"]
    assert [m["match_id"] for m in shown] == [match["id"]]
    assert shown[0]["partner_code"] == PARTNER
    assert told.decided["status"] == "confirmed"


async def test_every_plan_figure_of_the_ward_is_what_the_story_did(told: Told) -> None:
    intake, casework = told.kpis["intake"], told.kpis["casework"]
    victims, outreach = told.kpis["victim_support"], told.kpis["outreach"]
    # intake: two tips in the ward, both classified, one verified (on time), one still in triage.
    assert intake["tips_received"] == 2
    assert figure(intake, "classified_ratio") == (2, 2)
    assert figure(intake, "verified_ratio") == (1, 2)
    assert figure(intake, "resolved_within_deadline_ratio") == (1, 1)
    assert (intake["overdue"], intake["missing_persons_reported"]) == (0, 1)
    assert intake["missing_persons_open"] == 0
    # casework: one substantiated tip, initiated, indicted, tried at a mobile trial.
    assert casework["cases_opened"] == 1
    assert figure(casework, "initiated_ratio") == (1, 1)
    assert figure(casework, "indicted_ratio") == (1, 1)
    assert figure(casework, "tried_ratio") == (1, 1)
    assert casework["trials"] == {"standard": 0, "mobile": 1, "model": 0}
    # victim_support: one person received, identified in time, protected, supported.
    assert victims["received"] == 1
    assert figure(victims, "verified_ratio") == (1, 1)
    assert figure(victims, "identified_within_deadline_ratio") == (1, 1)
    assert figure(victims, "protected_ratio") == (1, 1)
    assert figure(victims, "supported_ratio") == (1, 1)
    # outreach: direct contact adds up (300 + 200), mass media counts its largest (400).
    assert figure(outreach, "coverage_ratio") == (900, told.population)
    # hotspots: the ward's tips, substantiated tips and victims received.
    assert intake["hotspots"]["by_ward"] == [
        {"ward_code": told.ward, "tips": 2, "substantiated": 1}
    ]
    assert victims["hotspots"]["by_ward"] == [{"ward_code": told.ward, "victims_received": 1}]
    (ward,) = outreach["wards"]
    assert (ward["ward_code"], ward["reached"], ward["meets_target"]) == (told.ward, 900, True)
    assert outreach["activities"] == len(told.activities)
    assert outreach["materials_distributed"] == sum(m for _, _, m in told.activities)


async def test_casework_hotspots_asked_for_a_ward_list_only_that_ward(
    told: Told, five_services: dict[str, Served]
) -> None:
    other = quiet_ward(random.Random(), {told.ward})
    async with httpx.AsyncClient(timeout=20) as http:
        story = Story({name: s.url for name, s in five_services.items()}, http)
        await story.post(
            "casework",
            "/v1/cases",
            {"title": "Vụ án ở phường khác (kiểm thử)", "ward_code": other},
            "investigator",
            201,
        )
        kpis = await story.get(
            "casework", "/v1/kpis", "supervisor", {**period(), "ward_code": told.ward}
        )
    assert [w["ward_code"] for w in kpis["hotspots"]["by_ward"]] == [told.ward]


async def test_no_service_logged_a_receipt_code_name_phone_or_id_number(told: Told) -> None:
    """Everything the five services logged while the story ran, at production's level."""
    assert any("capture canary" in line for line in told.logs), "the log capture saw nothing"
    assert len(told.secrets) >= 10
    text = "\n".join(told.logs).casefold()
    leaked = sorted({secret for secret in told.secrets if secret.casefold() in text})
    assert leaked == [], f"personal data or receipt codes in the services' logs: {leaked}"
