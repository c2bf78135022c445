"""The plan's story as a frontend tells it to the compose stack: every call to the gateway's single
origin (``/<service>/v1/...``), the public anonymous with an ``Idempotency-Key`` on each POST,
officers with tokens the stack's key set verifies. What the story leaves behind is read back
through the gateway too, and what reached the partner province from its receiver."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from libs.common.jurisdiction import wards_of
from testkit.intake import resident_key
from tests.docker.conftest import PROVINCE, Stack
from tests.docker.partner import Hit, Receiver

PARTNER = "20"  # Lạng Sơn, on the border with China

FAMILY = ["Lò", "Vàng", "Giàng", "Lường", "Đinh", "Hà", "Mùa", "Sùng"]
GIVEN = ["Mỷ", "Dợ", "Chúa", "Pằng", "Sính", "Xuân", "Dua", "Lả", "Súa", "Ngần"]


def until(probe: Callable[[], Any], what: str, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not there after {timeout:.0f}s (last: {found!r})")
        time.sleep(1)


def synthetic_name(rng: random.Random, middle: str = "Thị") -> str:
    return f"{rng.choice(FAMILY)} {middle} {rng.choice(GIVEN)} {rng.choice(GIVEN)}"


@dataclass
class Told:
    """One story's traces: its tip, the victim named on it, its published missing person."""

    n: int
    tip_id: str
    victim: str
    missing_person_id: str


@dataclass
class Frontend:
    """A client of the gateway, as the public or as an officer of Hà Nội (province 01)."""

    stack: Stack
    http: httpx.Client
    rng: random.Random = field(default_factory=random.Random)

    def headers(self, role: str | None) -> dict[str, str]:
        if role is None:  # the public: anonymous, each POST retried safely by its key
            return resident_key()
        return {**self.stack.token(role, PROVINCE), "X-Purpose": "compose stack test"}

    def post(self, path: str, body: dict[str, Any], role: str | None, status: int) -> Any:
        response = self.http.post(path, json=body, headers=self.headers(role))
        assert response.status_code == status, (
            f"POST {path} -> {response.status_code}: {response.text[:800]}"
        )
        return response.json()

    def get(self, path: str, role: str, **params: str) -> Any:
        response = self.http.get(path, params=params, headers=self.headers(role))
        assert response.status_code == 200, (
            f"GET {path} -> {response.status_code}: {response.text[:800]}"
        )
        return response.json()

    # the partner province

    def register_partner(self, receiver: Receiver) -> None:
        created = self.post(
            "/interagency/v1/partners",
            {
                "code": PARTNER,
                "name": "Lạng Sơn (đối tác giả lập)",
                "webhook_url": receiver.url(PARTNER),
                "alert_types": ["missing_person", "person_found"],
                "border_countries": ["CN"],
            },
            "admin",
            201,
        )
        receiver.secrets[PARTNER] = created["outbound_secret"]

    # the story

    def tell(self, n: int) -> Told:
        """A tip naming a victim, filed anonymously, followed up by its receipt, classified and
        substantiated; a missing-person report filed by a relative, published by an officer."""
        ward = self.rng.choice(wards_of(PROVINCE))
        victim = synthetic_name(self.rng)
        fifteen = datetime.now(UTC).date().replace(day=1) - timedelta(days=15 * 366)
        tip = self.post(
            "/intake/v1/tips",
            {
                "channel": "web",
                "description": f"Tin báo kiểm thử số {n}: người quen hứa việc làm bên kia biên "
                "giới cho một thiếu nữ; gia đình mất liên lạc đã ba ngày.",
                "incident_ward_code": ward,
                "exploitation_types": ["forced_labour"],
                "destination_country": "CN",
                "persons": [
                    {
                        "role": "victim",
                        "full_name": victim,
                        "date_of_birth": fifteen.isoformat(),
                        "sex": "female",
                    },
                    {"role": "suspect", "full_name": synthetic_name(self.rng, "Văn")},
                ],
            },
            None,
            201,
        )
        receipt = self.post(
            "/intake/v1/receipts/lookup", {"receipt_code": tip["receipt_code"]}, None, 200
        )
        assert receipt["kind"] == "tip"
        self.post(
            f"/intake/v1/tips/{tip['id']}/classification",
            {"trafficking_related": "yes", "priority": "high"},
            "intake_officer",
            200,
        )
        self.post(
            f"/intake/v1/tips/{tip['id']}/verification",
            {"outcome": "substantiated", "notes": "kiểm thử"},
            "intake_officer",
            200,
        )
        missing = self.post(
            "/intake/v1/missing-persons",
            {
                "full_name": synthetic_name(self.rng),
                "sex": "female",
                "date_of_birth": "2007-03-14",
                "last_seen_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
                "last_seen_ward_code": ward,
                "circumstances": "Đi cùng một người quen trên mạng, không về nhà.",
                "reporter": {"name": synthetic_name(self.rng, "Văn")},
            },
            None,
            201,
        )
        self.post(
            f"/intake/v1/missing-persons/{missing['id']}/review",
            {"decision": "publish"},
            "intake_officer",
            200,
        )
        return Told(n, str(tip["id"]), victim, str(missing["id"]))

    # what it left behind

    def cases_of(self, told: Told) -> list[dict[str, Any]]:
        return list(self.get("/casework/v1/cases", "investigator", tip_id=told.tip_id)["items"])

    def receptions_of(self, case_id: str) -> list[dict[str, Any]]:
        page = self.get("/victim-support/v1/victims", "social_worker", case_id=case_id)
        return list(page["items"])


def alert_ids(receiver: Receiver, told: Told) -> set[str]:
    """The distinct webhook-ids under which the partner heard of the story's missing person."""
    return {hit.webhook_id for hit in receiver.alerts_of(PARTNER, told.missing_person_id)}


def settled(front: Frontend, receiver: Receiver, stories: list[Told], timeout: float) -> None:
    """Wait until every story's effects are there: a case, its victim received, the alert."""
    for told in stories:
        cases = until(partial(front.cases_of, told), f"the case of tip {told.tip_id}", timeout)
        case_id = cases[0]["id"]
        until(
            partial(front.receptions_of, case_id), f"the victim of case {case_id} received", timeout
        )
        until(
            partial(alert_ids, receiver, told),
            f"the alert of missing person {told.missing_person_id} at the partner",
            timeout,
        )


def effects(front: Frontend, receiver: Receiver, stories: list[Told]) -> dict[str, list[int]]:
    """How many times each effect happened, story by story: cases per tip, receptions per
    case, distinct webhook-ids per published report (each should be once)."""
    cases, receptions, alerts = [], [], []
    for told in stories:
        found = front.cases_of(told)
        cases.append(len(found))
        receptions.append(sum(len(front.receptions_of(c["id"])) for c in found))
        alerts.append(len(alert_ids(receiver, told)))
    return {"cases": cases, "receptions": receptions, "alerts": alerts}


def redeliveries(receiver: Receiver, stories: list[Told]) -> int:
    """Requests beyond the first per webhook-id (a retry whose answer was lost: allowed)."""
    hits: list[Hit] = [h for t in stories for h in receiver.alerts_of(PARTNER, t.missing_person_id)]
    return len(hits) - len({h.webhook_id for h in hits})
