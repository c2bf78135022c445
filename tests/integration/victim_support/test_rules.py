"""The rules of Law 53/2024/QH15 through the API: identification with its deciding agency,
entitlements by status and nationality (Art. 37), integer VND, protection, consents (scoped,
revocable, time-stamped), reintegration until closed, If-Match, and hostile input that changes
nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.victim_support.support import (
    PROBLEM_JSON,
    RULES_WARD,
    TODAY,
    close,
    consent,
    identify,
    protect,
    read,
    receive,
    support,
    worker,
)

pytestmark = pytest.mark.integration
WARD = RULES_WARD


async def post(
    client: httpx.AsyncClient,
    victim_id: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/v1/victims/{victim_id}/{path}", headers={**worker(), **(headers or {})}, json=body
    )


def identification(outcome: str = "identified") -> dict[str, str]:
    return {
        "outcome": outcome,
        "deciding_agency": "Bộ đội Biên phòng tỉnh (synthetic)",
        "document_ref": "QĐ-2026/017",
    }


# Identification


@pytest.mark.parametrize("outcome", ["identified", "not_a_victim"])
async def test_identification_records_the_outcome_agency_and_document(
    victim_support: httpx.AsyncClient, outcome: str
) -> None:
    victim = await receive(victim_support, WARD)
    response = await post(victim_support, victim["id"], "identification", identification(outcome))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == outcome
    record = await read(victim_support, victim["id"])
    assert record["identification"]["outcome"] == outcome
    assert record["identification"]["deciding_agency"] == "Bộ đội Biên phòng tỉnh (synthetic)"
    assert record["identification"]["document_ref"] == "QĐ-2026/017"
    assert record["identification"]["decided_at"] is not None
    assert record["timeline"][-1]["action"] == "identify"
    assert record["timeline"][-1]["details"]["within_deadline"] is True


async def test_a_person_received_from_a_case_can_be_identified_directly(
    victim_support: httpx.AsyncClient,
) -> None:
    """Status ``received`` (from a case) allows identification as ``under_verification`` does."""
    victim = await receive(victim_support, WARD)
    await identify(victim_support, victim["id"])
    assert (await read(victim_support, victim["id"]))["status"] == "identified"


@pytest.mark.parametrize("first", ["identified", "not_a_victim"])
async def test_a_decided_person_cannot_be_identified_again(
    victim_support: httpx.AsyncClient, first: str
) -> None:
    victim = await receive(victim_support, WARD)
    await identify(victim_support, victim["id"], first)
    response = await post(victim_support, victim["id"], "identification", identification())
    assert response.status_code == 409
    assert "identify" not in response.json()["allowed_actions"]


async def test_a_person_found_not_to_be_a_victim_cannot_be_protected(
    victim_support: httpx.AsyncClient,
) -> None:
    victim = await receive(victim_support, WARD)
    await identify(victim_support, victim["id"], "not_a_victim")
    response = await post(victim_support, victim["id"], "protection", {"measures": ["relocation"]})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["allowed_actions"] == ["consent"]


async def test_a_presumed_victim_cannot_be_reintegrated(victim_support: httpx.AsyncClient) -> None:
    victim = await receive(victim_support, WARD)
    response = await post(
        victim_support,
        victim["id"],
        "reintegration",
        {"checked_on": TODAY.isoformat(), "situation": "too early"},
    )
    assert response.status_code == 409
    assert response.json()["allowed_actions"] == ["consent", "identify", "protect", "support"]


# Entitlements (Art. 37), table-driven through the API

SUPPORT_CASES = [
    # (status reached, nationality, support type, HTTP status, rule named)
    ("under_verification", "VN", "schooling", 422, "presumed_victim"),
    ("under_verification", "VN", "loan", 422, "presumed_victim"),
    ("under_verification", "VN", "initial_hardship_allowance", 422, "presumed_victim"),
    ("under_verification", "VN", "vocational_training", 422, "presumed_victim"),
    ("under_verification", "VN", "medical", 201, None),
    ("under_verification", "VN", "travel", 201, None),
    ("under_verification", "LA", "travel", 422, "foreign_national"),
    ("under_verification", "LA", "interpreter", 201, None),
    ("identified", "VN", "loan", 201, None),
    ("identified", "VN", "schooling", 201, None),
    ("identified", "LA", "travel", 422, "foreign_national"),
    ("identified", "LA", "schooling", 422, "foreign_national"),
    ("identified", "LA", "initial_hardship_allowance", 422, "foreign_national"),
    ("identified", "LA", "medical", 201, None),
    ("protected", "VN", "vocational_training", 201, None),
    ("protected", "LA", "loan", 422, "foreign_national"),
    # Support is not an action these statuses allow: 409 before any entitlement is weighed.
    ("not_a_victim", "VN", "medical", 409, None),
    ("not_a_victim", "LA", "essential_needs", 409, None),
    ("closed", "VN", "psychological", 409, None),
]


async def person_in(client: httpx.AsyncClient, status: str, nationality: str) -> str:
    victim = await receive(client, WARD, nationality=nationality)
    vid: str = victim["id"]
    if status == "under_verification":
        return vid
    await identify(client, vid, "not_a_victim" if status == "not_a_victim" else "identified")
    if status == "protected":
        await protect(client, vid)
    if status == "closed":
        await close(client, vid)
    assert (await read(client, vid))["status"] == status
    return vid


ACCEPTED = [c for c in SUPPORT_CASES if c[3] == 201]
REFUSED = [c for c in SUPPORT_CASES if c[3] != 201]


@pytest.mark.parametrize(
    ("status", "nationality", "support_type", "code", "rule"),
    ACCEPTED,
    ids=[f"{s}-{n}-{t}" for s, n, t, _, _ in ACCEPTED],
)
async def test_a_support_the_law_entitles_is_recorded(
    victim_support: httpx.AsyncClient,
    status: str,
    nationality: str,
    support_type: str,
    code: int,
    rule: None,
) -> None:
    vid = await person_in(victim_support, status, nationality)
    response = await support(victim_support, vid, support_type)
    assert response.status_code == code, response.text
    assert [s["type"] for s in (await read(victim_support, vid))["supports"]] == [support_type]


@pytest.mark.parametrize(
    ("status", "nationality", "support_type", "code", "rule"),
    REFUSED,
    ids=[f"{s}-{n}-{t}" for s, n, t, _, _ in REFUSED],
)
async def test_a_support_the_law_does_not_entitle_is_refused_naming_the_rule(
    victim_support: httpx.AsyncClient,
    status: str,
    nationality: str,
    support_type: str,
    code: int,
    rule: str | None,
) -> None:
    vid = await person_in(victim_support, status, nationality)
    before = await read(victim_support, vid)
    response = await support(victim_support, vid, support_type)
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json().get("rule") == rule
    after = await read(victim_support, vid)
    assert after["supports"] == []
    assert after["version"] == before["version"]


async def test_a_refused_support_lists_what_the_person_is_entitled_to(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "under_verification", "LA")
    body = (await support(victim_support, vid, "travel")).json()
    assert body["entitled_supports"] == [
        "essential_needs",
        "medical",
        "interpreter",
        "legal_support",
        "legal_aid",
        "psychological",
    ]
    assert body["errors"][0]["field"] == "type"
    assert "Art. 37" in body["detail"]


async def test_the_record_lists_the_supports_the_status_entitles(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "LA")
    assert (await read(victim_support, vid))["entitled_supports"] == [
        "essential_needs",
        "medical",
        "interpreter",
        "legal_support",
        "legal_aid",
        "psychological",
    ]


async def test_a_support_moves_an_identified_person_to_supported(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    await support(victim_support, vid, "medical")
    assert (await read(victim_support, vid))["status"] == "supported"


async def test_a_support_keeps_a_presumed_victim_under_verification(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "under_verification", "VN")
    await support(victim_support, vid, "essential_needs")
    assert (await read(victim_support, vid))["status"] == "under_verification"


async def test_an_amount_is_stored_as_integer_vnd(victim_support: httpx.AsyncClient) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    response = await support(victim_support, vid, "initial_hardship_allowance", 3_000_000)
    assert response.json()["amount_vnd"] == 3_000_000
    stored = (await read(victim_support, vid))["supports"][0]["amount_vnd"]
    assert stored == 3_000_000
    assert isinstance(stored, int)


@pytest.mark.parametrize(
    "amount", [1500.5, -1, 10_000_000_001, "a lot"], ids=["fraction", "negative", "huge", "text"]
)
async def test_an_amount_that_is_not_a_whole_non_negative_vnd_is_refused(
    victim_support: httpx.AsyncClient, amount: Any
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    response = await post(
        victim_support,
        vid,
        "supports",
        {
            "type": "loan",
            "amount_vnd": amount,
            "provided_on": TODAY.isoformat(),
            "provider_org": "ngan-hang-csxh",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "amount_vnd"
    assert (await read(victim_support, vid))["supports"] == []


async def test_a_support_under_an_unknown_program_is_refused(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    response = await post(
        victim_support,
        vid,
        "supports",
        {
            "type": "medical",
            "provided_on": TODAY.isoformat(),
            "provider_org": "so-y-te",
            "program_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "program_id"


# Protection


async def test_protection_of_an_identified_person_makes_them_protected(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    response = await post(
        victim_support,
        vid,
        "protection",
        {"measures": ["safe_shelter", "identity_protection"], "notes": "shelter B (synthetic)"},
    )
    assert response.json()["status"] == "protected"
    record = await read(victim_support, vid)
    assert record["protection"][0]["measures"] == ["safe_shelter", "identity_protection"]
    assert record["protection"][0]["notes"] == "shelter B (synthetic)"


async def test_protection_of_a_presumed_victim_keeps_them_under_verification(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "under_verification", "VN")
    await protect(victim_support, vid)
    record = await read(victim_support, vid)
    assert record["status"] == "under_verification"
    assert len(record["protection"]) == 1


async def test_protection_never_moves_a_supported_person_back(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    await support(victim_support, vid, "medical")
    await protect(victim_support, vid)
    assert (await read(victim_support, vid))["status"] == "supported"


@pytest.mark.parametrize(
    "body",
    [{"measures": []}, {"measures": ["curfew"]}, {"measures": ["other"], "notes": "x" * 5001}],
    ids=["none", "unknown_measure", "huge_notes"],
)
async def test_a_bad_protection_is_refused(
    victim_support: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    response = await post(victim_support, vid, "protection", body)
    assert response.status_code == 422
    assert (await read(victim_support, vid))["protection"] == []


# Consents


async def test_a_consent_is_recorded_with_its_scope_org_and_time(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "under_verification", "VN")
    response = await post(
        victim_support,
        vid,
        "consents",
        {"scope": "share_with_ngo", "granted": True, "org": "ngo-hoa-mai"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["scope"], body["org"], body["granted"]) == ("share_with_ngo", "ngo-hoa-mai", True)
    consents = (await read(victim_support, vid))["consents"]
    assert consents == [body]


async def test_a_revoked_consent_shows_as_the_one_in_force(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    grant = {"scope": "share_with_ngo", "granted": True, "org": "ngo-hoa-mai"}
    await post(victim_support, vid, "consents", grant)
    revoked = await post(victim_support, vid, "consents", {**grant, "granted": False})
    consents = (await read(victim_support, vid))["consents"]
    assert consents == [revoked.json()]
    assert consents[0]["granted"] is False


async def test_consents_of_different_scopes_and_orgs_are_kept_apart(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    await post(
        victim_support,
        vid,
        "consents",
        {"scope": "share_with_ngo", "granted": True, "org": "ngo-hoa-mai"},
    )
    await post(
        victim_support,
        vid,
        "consents",
        {"scope": "share_with_ngo", "granted": False, "org": "ngo-lua-hong"},
    )
    await post(victim_support, vid, "consents", {"scope": "contact_family", "granted": True})
    consents = (await read(victim_support, vid))["consents"]
    assert sorted((c["scope"], c["org"], c["granted"]) for c in consents) == [
        ("contact_family", None, True),
        ("share_with_ngo", "ngo-hoa-mai", True),
        ("share_with_ngo", "ngo-lua-hong", False),
    ]


@pytest.mark.parametrize("status", ["not_a_victim", "closed"])
async def test_a_consent_can_still_be_withdrawn_when_support_has_ended(
    victim_support: httpx.AsyncClient, status: str
) -> None:
    victim = await receive(victim_support, WARD)
    vid: str = victim["id"]
    await consent(victim_support, vid, "ngo-hoa-mai")
    await identify(
        victim_support, vid, "not_a_victim" if status == "not_a_victim" else "identified"
    )
    if status == "closed":
        await close(victim_support, vid)
    response = await post(
        victim_support,
        vid,
        "consents",
        {"scope": "share_with_ngo", "granted": False, "org": "ngo-hoa-mai"},
    )
    assert response.status_code == 201, response.text
    after = await read(victim_support, vid)
    assert after["status"] == status
    assert after["consents"] == [response.json()]
    assert (after["consents"][0]["org"], after["consents"][0]["granted"]) == ("ngo-hoa-mai", False)


async def test_a_consent_to_share_with_an_unnamed_ngo_is_refused(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    response = await post(
        victim_support, vid, "consents", {"scope": "share_with_ngo", "granted": True}
    )
    assert response.status_code == 422
    assert (await read(victim_support, vid))["consents"] == []


# Reintegration


def follow_up(closed: bool = False) -> dict[str, Any]:
    return {
        "checked_on": TODAY.isoformat(),
        "situation": "living with her aunt, looking for work",
        "employment": "training",
        "schooling": "not_applicable",
        "closed": closed,
    }


async def test_follow_ups_put_the_person_in_reintegration(
    victim_support: httpx.AsyncClient,
) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    first = await post(victim_support, vid, "reintegration", follow_up())
    second = await post(victim_support, vid, "reintegration", follow_up())
    assert first.json()["status"] == second.json()["status"] == "reintegrating"
    record = await read(victim_support, vid)
    assert len(record["reintegration"]) == 2
    assert record["reintegration"][0]["employment"] == "training"


async def test_a_closing_follow_up_closes_the_file(victim_support: httpx.AsyncClient) -> None:
    vid = await person_in(victim_support, "identified", "VN")
    await post(victim_support, vid, "reintegration", follow_up())
    response = await post(victim_support, vid, "reintegration", follow_up(closed=True))
    assert response.json()["status"] == "closed"
    assert (await read(victim_support, vid))["reintegration"][-1]["closed"] is True


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "supports",
            {"type": "medical", "provided_on": TODAY.isoformat(), "provider_org": "so-y-te"},
        ),
        ("reintegration", follow_up()),
        ("protection", {"measures": ["safe_shelter"]}),
    ],
    ids=["support", "reintegration", "protection"],
)
async def test_a_closed_file_takes_no_more_support(
    victim_support: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    vid = await person_in(victim_support, "closed", "VN")
    response = await post(victim_support, vid, path, body)
    assert response.status_code == 409
    assert response.json()["allowed_actions"] == ["consent"]


async def test_the_closed_file_shows_no_entitlements(victim_support: httpx.AsyncClient) -> None:
    vid = await person_in(victim_support, "closed", "VN")
    assert (await read(victim_support, vid))["entitled_supports"] == []


# Concurrency


async def test_a_stale_if_match_is_refused_with_412(victim_support: httpx.AsyncClient) -> None:
    victim = await receive(victim_support, WARD)
    await protect(victim_support, victim["id"])
    response = await post(
        victim_support,
        victim["id"],
        "identification",
        identification(),
        {"If-Match": str(victim["version"])},
    )
    assert response.status_code == 412
    assert response.json()["current_version"] == victim["version"] + 1
    assert (await read(victim_support, victim["id"]))["status"] == "under_verification"


@pytest.mark.parametrize("tag", ["{v}", '"{v}"', 'W/"{v}"'], ids=["bare", "quoted", "weak"])
async def test_a_current_if_match_is_accepted(victim_support: httpx.AsyncClient, tag: str) -> None:
    victim = await receive(victim_support, WARD)
    response = await post(
        victim_support,
        victim["id"],
        "identification",
        identification(),
        {"If-Match": tag.format(v=victim["version"])},
    )
    assert response.status_code == 200
    assert response.json()["version"] == victim["version"] + 1


async def test_every_accepted_change_bumps_the_version(victim_support: httpx.AsyncClient) -> None:
    victim = await receive(victim_support, WARD)
    versions = [victim["version"]]
    await identify(victim_support, victim["id"])
    versions.append((await read(victim_support, victim["id"]))["version"])
    await protect(victim_support, victim["id"])
    versions.append((await read(victim_support, victim["id"]))["version"])
    await support(victim_support, victim["id"], "medical")
    versions.append((await read(victim_support, victim["id"]))["version"])
    assert versions == [1, 2, 3, 4]


# Hostile input

HOSTILE = [
    ("identification", {**identification(), "status": "closed"}, {}, 422),
    ("identification", {**identification(), "outcome": "victim"}, {}, 422),
    ("identification", {**identification(), "deciding_agency": "x" * 301}, {}, 422),
    ("identification", {**identification(), "document_ref": "x" * 100_000}, {}, 422),
    ("identification", {"outcome": "identified"}, {}, 422),
    ("identification", ["identified"], {}, 422),
    ("identification", identification(), {"If-Match": "1; DROP TABLE victims"}, 422),
    ("identification", identification(), {"If-Match": "99"}, 412),
    ("protection", {"measures": ["<script>alert(1)</script>"]}, {}, 422),
    (
        "consents",
        {"scope": "share_with_ngo", "granted": True, "org": "'; DROP TABLE x;--"},
        {},
        422,
    ),
    ("consents", {"scope": "share_with_ngo", "granted": True, "org": "<b>ngo</b>"}, {}, 422),
    ("consents", {"scope": "everything", "granted": True}, {}, 422),
    (
        "supports",
        {"type": "medical", "provided_on": "2026-02-30", "provider_org": "so-y-te"},
        {},
        422,
    ),
    (
        "supports",
        {"type": "medical", "provided_on": TODAY.isoformat(), "provider_org": "so-y-te", "x": 1},
        {},
        422,
    ),
    (
        "supports",
        {"type": "DROP TABLE", "provided_on": TODAY.isoformat(), "provider_org": "so-y-te"},
        {},
        422,
    ),
    (
        "reintegration",
        {"checked_on": TODAY.isoformat(), "situation": "ok", "employment": "astronaut"},
        {},
        422,
    ),
    ("reintegration", {"checked_on": "yesterday", "situation": "fine now"}, {}, 422),
]


@pytest.mark.parametrize(("path", "body", "headers", "code"), HOSTILE)
async def test_hostile_input_is_refused_as_a_problem_and_changes_nothing(
    victim_support: httpx.AsyncClient,
    path: str,
    body: Any,
    headers: dict[str, str],
    code: int,
) -> None:
    victim = await receive(victim_support, WARD)
    before = await read(victim_support, victim["id"])
    response = await post(victim_support, victim["id"], path, body, headers)
    assert response.status_code == code
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)
    assert "Traceback" not in response.text
    after = await read(victim_support, victim["id"])
    assert after["version"] == before["version"]
    assert after["timeline"] == before["timeline"]


@pytest.mark.parametrize(
    "victim_id",
    ["not-a-uuid", "1", "' OR 1=1 --", "%3Cscript%3E"],
    ids=["word", "int", "sql", "html"],
)
async def test_a_bad_victim_id_in_the_path_is_refused(
    victim_support: httpx.AsyncClient, victim_id: str
) -> None:
    read_response = await victim_support.get(f"/v1/victims/{victim_id}", headers=worker())
    action = await victim_support.post(
        f"/v1/victims/{victim_id}/protection", headers=worker(), json={"measures": ["other"]}
    )
    assert read_response.status_code == action.status_code == 422
    assert read_response.headers["content-type"].startswith(PROBLEM_JSON)


async def test_an_action_on_an_unknown_person_is_not_found(
    victim_support: httpx.AsyncClient,
) -> None:
    response = await post(victim_support, str(uuid.uuid4()), "identification", identification())
    assert response.status_code == 404


async def test_html_and_sql_in_free_text_are_stored_and_returned_as_plain_text(
    victim_support: httpx.AsyncClient,
) -> None:
    name = "<img src=x onerror=alert(1)> Robert'); DROP TABLE victims;--"
    victim = await receive(
        victim_support, WARD, person={"full_name": name, "notes": "<script>x</script>"}
    )
    person = (await read(victim_support, victim["id"]))["person"]
    assert person["full_name"] == name
    assert person["notes"] == "<script>x</script>"


async def test_a_body_over_a_megabyte_is_refused(victim_support: httpx.AsyncClient) -> None:
    victim = await receive(victim_support, WARD)
    response = await post(
        victim_support,
        victim["id"],
        "protection",
        {"measures": ["other"], "notes": "x" * (1024 * 1024 + 1)},
    )
    assert response.status_code == 413
    assert (await read(victim_support, victim["id"]))["version"] == victim["version"]


async def test_a_body_that_is_not_json_is_refused(victim_support: httpx.AsyncClient) -> None:
    victim = await receive(victim_support, WARD)
    response = await victim_support.post(
        f"/v1/victims/{victim['id']}/identification",
        headers={**worker(), "Content-Type": "application/json"},
        content=b"{outcome: identified",
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
