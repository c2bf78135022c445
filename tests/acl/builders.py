"""Small builders of valid request bodies, one per endpoint that takes a body.

Shared by the access matrix and the fuzzer's seed records. Every value is synthetic; dates lie in
the past of any clock this suite runs on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

HOME_PROVINCE = "01"
HOME_WARD = "00256"


def yesterday() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


# intake -------------------------------------------------------------------------------------------


def tip(ward: str = HOME_WARD) -> dict[str, Any]:
    return {
        "channel": "hotline",
        "description": "Synthetic tip: a recruiter promised factory work across the border.",
        "incident_ward_code": ward,
        "exploitation_types": ["forced_labour"],
        "persons": [
            {"role": "victim", "full_name": "Nguyễn Thị Lan", "age": 19, "phone": "0912345678"},
            {"role": "suspect", "full_name": "Trần Văn Hùng", "id_number": "001099012345"},
        ],
        "reporter": {"name": "Lê Văn Báo", "phone": "0987654321"},
    }


def missing_person(ward: str = HOME_WARD) -> dict[str, Any]:
    return {
        "full_name": "Phạm Thị Mai",
        "sex": "female",
        "age": 17,
        "last_seen_at": an_hour_ago(),
        "last_seen_ward_code": ward,
        "circumstances": "Left for a job interview and did not come back.",
    }


def message() -> dict[str, Any]:
    return {"body": "Could you tell us more about the recruiter?"}


def classification() -> dict[str, Any]:
    return {"trafficking_related": "yes", "priority": "high", "exploitation_types": ["other"]}


def extension() -> dict[str, Any]:
    return {"kind": "complex_case", "reason": "many persons in several provinces"}


def tip_assignment(sub: str = "officer-hn-1") -> dict[str, Any]:
    """An intake officer of Hà Nội in the local stack's directory (deploy/local/directory.json);
    ``officer-lc-1`` is one of Lai Châu's."""
    return {"sub": sub}


def verification() -> dict[str, Any]:
    return {"outcome": "unsubstantiated", "notes": "nothing found"}


def resolution() -> dict[str, Any]:
    return {"outcome": "found_safe", "notes": "came home"}


# casework -----------------------------------------------------------------------------------------


def case(ward: str = HOME_WARD) -> dict[str, Any]:
    return {"title": "Synthetic case", "ward_code": ward, "summary": "opened directly"}


def assignment(sub: str = "investigator-hn-1") -> dict[str, Any]:
    """An investigator of province 01 in the local stack's directory (deploy/local)."""
    return {"sub": sub}


def initiate() -> dict[str, Any]:
    return {
        "action": "initiate",
        "decision_number": "01/QĐ-KTVA",
        "decided_on": yesterday(),
        "penal_code_article": 150,
    }


def party(role: str = "suspect") -> dict[str, Any]:
    return {"role": role, "full_name": "Đỗ Văn Nam", "age": 35, "phone": "0901234567"}


def ring(case_ids: list[str] | None = None) -> dict[str, Any]:
    return {"name": "Synthetic ring", "case_ids": case_ids or []}


# victim_support -----------------------------------------------------------------------------------


def victim(ward: str = HOME_WARD) -> dict[str, Any]:
    return {
        "source": "rescued",
        "received_at": an_hour_ago(),
        "ward_code": ward,
        "person": {
            "full_name": f"Vũ Thị Hoa {uuid.uuid4().hex[:6]}",
            "age": 22,
            "sex": "female",
            "phone": "0934567890",
        },
        "nationality": "VN",
        "needs": ["medical"],
    }


def identification() -> dict[str, Any]:
    return {"outcome": "identified", "deciding_agency": "Ward police", "document_ref": "12/BB"}


def protection() -> dict[str, Any]:
    return {"measures": ["safe_shelter"], "notes": "shelter A"}


def consent(org: str = "ngo-a") -> dict[str, Any]:
    return {"scope": "share_with_ngo", "granted": True, "org": org}


def support(org: str = "ngo-a", program_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "medical",
        "amount_vnd": 500_000,
        "provided_on": yesterday(),
        "provider_org": org,
    }
    if program_id:
        body["program_id"] = program_id
    return body


def reintegration() -> dict[str, Any]:
    return {"checked_on": yesterday(), "situation": "back with family", "employment": "training"}


def program(org: str = "ngo-a") -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "name": "Synthetic program",
        "org": org,
        "funder": "Synthetic fund",
        "support_types": ["medical", "psychological", "essential_needs"],
        "period": {"start": date(today.year, 1, 1).isoformat(), "end": f"{today.year + 1}-12-31"},
    }


def enrollment(victim_id: str) -> dict[str, Any]:
    return {"victim_id": victim_id, "external_id": f"ext-{uuid.uuid4().hex[:8]}"}


def deliveries(victim_id: str) -> dict[str, Any]:
    return {
        "items": [
            {
                "external_id": f"d-{uuid.uuid4().hex[:8]}",
                "victim_id": victim_id,
                "type": "medical",
                "amount_vnd": 100_000,
                "delivered_on": yesterday(),
            }
        ]
    }


def delivery_correction() -> dict[str, Any]:
    return {"type": "medical", "amount_vnd": 150_000, "delivered_on": yesterday()}


# interagency --------------------------------------------------------------------------------------


def partner(code: str, url: str = "http://127.0.0.1:9/hooks") -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Synthetic partner {code}",
        "webhook_url": f"{url}/{code}",
        "alert_types": ["missing_person", "person_found", "suspect_alert", "situation_bulletin"],
        "border_countries": ["CN"],
    }


def partner_update() -> dict[str, Any]:
    return {"name": "Renamed synthetic partner"}


def suspect_alert(partner_code: str) -> dict[str, Any]:
    return {
        "data": {
            "alert_type": "suspect_alert",
            "full_name": "Hoàng Văn Tặc",
            "phones": ["0911111111"],
            "routes": ["Móng Cái"],
        },
        "partner_codes": [partner_code],
    }


def bulletin(partner_code: str) -> dict[str, Any]:
    return {
        "title": "Synthetic bulletin",
        "summary": "Routes seen this quarter",
        "period": "2026-Q3",
        "partner_codes": [partner_code],
    }


def person_found_event(partner_code: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"/partners/{partner_code}",
        "type": "vn.ctip.interagency.alert.v1",
        "datacontenttype": "application/json",
        "data": {
            "alert_type": "person_found",
            "full_name": "Pham Thi Mai",
            "sex": "female",
            "age": 17,
            "found_at": an_hour_ago(),
            "found_place": "Border gate",
        },
    }


def nothing_to_replay() -> dict[str, Any]:
    """A bulk replay's filters that match no delivery (failed before 2000)."""
    return {"status": "failed", "failed_to": "2000-01-01T00:00:00Z", "limit": 10}


def decision() -> dict[str, Any]:
    return {"decision": "rejected", "note": "not the same person"}


# outreach -----------------------------------------------------------------------------------------


def campaign(code: str = HOME_PROVINCE) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "name": "Synthetic campaign",
        "period_start": date(today.year, 1, 1).isoformat(),
        "period_end": date(today.year, 12, 31).isoformat(),
        "organiser": "Ward women's union",
        "target_groups": ["students"],
        "jurisdiction_code": code,
    }


def activity(ward: str = HOME_WARD) -> dict[str, Any]:
    return {
        "ward_code": ward,
        "kind": "meeting",
        "held_on": yesterday(),
        "people_reached": 120,
        "materials_distributed": 100,
        "target_groups": ["students"],
    }


def population() -> dict[str, Any]:
    return {"population": 25_000, "year": datetime.now(UTC).year, "source": "ward statistics"}


def commendation(ward: str = HOME_WARD) -> dict[str, Any]:
    return {
        "recipient_kind": "person",
        "recipient_name": "Ngô Thị Dũng",
        "ward_code": ward,
        "reason": "reported a recruiter",
        "awarded_on": yesterday(),
        "level": "ward",
    }


def target_group() -> dict[str, Any]:
    return {"name_vi": "Nhóm thử nghiệm", "name_en": "Synthetic group", "active": True}


def link_proposal() -> dict[str, Any]:
    return {"other_victim_id": str(uuid.uuid4())}


def link_decision() -> dict[str, Any]:
    return {"decision": "confirm"}


def notification_endpoint() -> dict[str, Any]:
    """A province's SMS gateway (the test environment allows http; nothing is sent to it)."""
    return {"url": "https://sms-gateway.province.example/ctip", "enabled": True}


def preferences() -> dict[str, Any]:
    return {"channels": ["inbox", "email"], "email_digest": True}
