"""Transitions over HTTP: what each status refuses (409 with the allowed actions), who may take
each step (403 otherwise), jurisdiction, If-Match, the legal facts each step checks, and hostile
input. A refused request changes nothing: the case keeps its version and its timeline.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from libs.common.jurisdiction import province_of
from services.casework.domain import CASES, CaseStatus
from tests.integration.casework.support import (
    CLERK,
    HAI_BA_TRUNG,
    HANOI,
    INVESTIGATOR,
    PROSECUTOR,
    ROLE_OF,
    Auth,
    Casework,
    body_for,
    random_cccd,
    random_mobile,
)

pytestmark = pytest.mark.integration

ACTIONS = list(ROLE_OF)
ACTING_ROLES = (INVESTIGATOR, PROSECUTOR, CLERK)
FROM_STATUS = {
    "initiate": "open",
    "decline": "open",
    "suspend": "investigating",
    "resume": "suspended",
    "indict": "investigating",
    "schedule_trial": "indicted",
    "record_verdict": "trial_scheduled",
    "reopen_investigation": "adjudicated",
    "close": "adjudicated",
}


@pytest.fixture
def cw(casework: httpx.AsyncClient, auth: Auth) -> Casework:
    return Casework(casework, auth)


async def _unchanged(cw: Casework, before: dict[str, Any]) -> None:
    """The case reads back exactly as before: status, version, timeline, facts and persons."""
    after = await cw.get(before["id"])
    assert after == {k: v for k, v in before.items() if k != "suspect_id"}


def _refusal_body(action: str, case: dict[str, Any]) -> dict[str, Any]:
    """A body valid for ``action`` (so that only the status or the role can refuse it)."""
    return body_for(action, party_id=case["suspect_id"])


# Disallowed actions ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [s.value for s in CaseStatus])
async def test_an_action_not_allowed_from_a_status_is_409_listing_the_allowed_ones(
    cw: Casework, status: str
) -> None:
    case = await cw.case_in(status)
    allowed = CASES.allowed(CaseStatus(status))
    assert case["allowed_actions"] == allowed

    for action in (a for a in ACTIONS if a not in allowed):
        response = await cw.act(case["id"], _refusal_body(action, case))
        assert response.status_code == 409, (action, response.text)
        problem = response.json()
        assert problem["allowed_actions"] == allowed, action
        assert response.headers["content-type"].startswith("application/problem+json")
    await _unchanged(cw, case)


# Roles -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "role"),
    [
        (a, r)
        for a in ACTIONS
        for r in (*ACTING_ROLES, "supervisor", "intake_officer", "admin")
        if r != ROLE_OF[a]
    ],
)
async def test_an_action_taken_by_the_wrong_role_is_forbidden(
    cw: Casework, action: str, role: str
) -> None:
    case = await cw.case_in(FROM_STATUS[action])
    response = await cw.act(case["id"], _refusal_body(action, case), role=role)
    assert response.status_code == 403, response.text
    await _unchanged(cw, case)


async def test_a_request_without_a_token_is_401(cw: Casework) -> None:
    case = await cw.open()
    responses = [
        await cw.client.get("/v1/cases"),
        await cw.client.get(f"/v1/cases/{case['id']}"),
        await cw.client.post(f"/v1/cases/{case['id']}/transitions", json=body_for("initiate")),
        await cw.client.post("/v1/cases", json={"title": "Vụ án", "ward_code": HAI_BA_TRUNG}),
    ]
    assert [r.status_code for r in responses] == [401, 401, 401, 401]


@pytest.mark.parametrize("token", ["Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer "])
async def test_a_malformed_token_is_401(cw: Casework, token: str) -> None:
    response = await cw.client.get("/v1/cases", headers={"Authorization": token})
    assert response.status_code == 401


async def test_a_supervisor_reads_a_case_with_names_only(cw: Casework) -> None:
    case = await cw.open(summary="Chi tiết nghiệp vụ không dành cho giám sát.")
    await cw.add_person(
        case["id"],
        role="victim",
        full_name="Hờ Thị Pàng",
        age=19,
        phone=random_mobile(),
        id_number=random_cccd(),
        notes="Ghi chú nhạy cảm (giả lập).",
        hometown_ward_code=HAI_BA_TRUNG,
    )

    read = await cw.get(case["id"], role="supervisor")

    assert read["summary"] is None
    person = read["persons"][0]
    assert person["full_name"] == "Hờ Thị Pàng"
    assert {k for k, v in person.items() if v is not None} == {"id", "role", "full_name"}


async def test_an_investigator_reads_the_persons_in_full(cw: Casework) -> None:
    case = await cw.open()
    phone = random_mobile()
    await cw.add_person(case["id"], role="witness", full_name="Lù Văn Sểnh", phone=phone)
    person = (await cw.get(case["id"]))["persons"][0]
    assert person["phone"] == "+84" + phone[1:]


async def test_a_supervisor_may_not_take_an_action(cw: Casework) -> None:
    case = await cw.case_in("open")
    response = await cw.act(case["id"], body_for("initiate"), role="supervisor")
    assert response.status_code == 403
    await _unchanged(cw, case)


@pytest.mark.parametrize("role", ["supervisor", PROSECUTOR, CLERK])
async def test_only_an_investigator_adds_persons(cw: Casework, role: str) -> None:
    case = await cw.open()
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/persons",
        json={"role": "witness", "full_name": "Vừ A Chứ"},
        headers=cw.as_(role),
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["intake_officer", "social_worker", "ngo", "auditor"])
async def test_a_role_outside_casework_cannot_list_cases(cw: Casework, role: str) -> None:
    response = await cw.client.get("/v1/cases", headers=cw.as_(role))
    assert response.status_code == 403


# Jurisdiction ------------------------------------------------------------------------------------


async def test_an_officer_of_another_province_cannot_see_that_a_case_exists(
    cw: Casework, auth: Auth
) -> None:
    case = await cw.open(HAI_BA_TRUNG)
    for role in (INVESTIGATOR, PROSECUTOR, CLERK, "supervisor"):
        response = await cw.client.get(f"/v1/cases/{case['id']}", headers=auth(role, "79"))
        assert response.status_code == 404, role


async def test_an_officer_of_another_province_does_not_find_the_case_in_lists(
    cw: Casework, auth: Auth
) -> None:
    case = await cw.open(HAI_BA_TRUNG)
    listed = await cw.client.get(
        "/v1/cases",
        params={"ward_code": HAI_BA_TRUNG, "limit": 200},
        headers=auth(INVESTIGATOR, "79"),
    )
    assert listed.status_code == 200
    assert case["id"] not in [c["id"] for c in listed.json()["items"]]


async def test_an_officer_of_another_province_may_not_act_on_the_case(
    cw: Casework, auth: Auth
) -> None:
    case = await cw.case_in("open")
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/transitions",
        json=body_for("initiate"),
        headers=auth(INVESTIGATOR, "79"),
    )
    assert response.status_code == 403
    await _unchanged(cw, case)


async def test_an_officer_of_another_province_may_not_add_persons(cw: Casework, auth: Auth) -> None:
    case = await cw.open(HAI_BA_TRUNG)
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/persons",
        json={"role": "suspect", "full_name": "Giàng A Páo"},
        headers=auth(INVESTIGATOR, "79"),
    )
    assert response.status_code == 403


def _witness() -> dict[str, Any]:
    """A witness with every field filled; phone and ID number unique, so no other case relates."""
    return {
        "role": "witness",
        "full_name": "Vừ Thị Mỷ",
        "date_of_birth": "1990-05-17",
        "sex": "female",
        "phone": random_mobile(),
        "id_number": random_cccd(),
        "hometown_ward_code": HAI_BA_TRUNG,
        "nationality": "VN",
        "notes": "saw the broker's car at the market",
    }


@pytest.mark.parametrize("role", [INVESTIGATOR, PROSECUTOR, CLERK])
async def test_a_ward_officer_reads_a_case_of_the_ward_in_full(
    cw: Casework, auth: Auth, role: str
) -> None:
    case = await cw.open(HAI_BA_TRUNG, summary="A broker recruits at the market.")
    person = _witness()
    witness = await cw.add_person(case["id"], **person)

    response = await cw.client.get(f"/v1/cases/{case['id']}", headers=auth(role, HAI_BA_TRUNG))

    assert response.status_code == 200, response.text
    read = response.json()
    assert (read["id"], read["summary"]) == (case["id"], "A broker recruits at the market.")
    e164 = "+84" + person["phone"][1:]
    assert read["persons"] == [{**person, "id": witness["id"], "phone": e164, "age": None}]


async def test_a_ward_supervisor_reads_a_case_with_names_only(cw: Casework, auth: Auth) -> None:
    case = await cw.open(HAI_BA_TRUNG, summary="A broker recruits at the market.")
    person = _witness()
    witness = await cw.add_person(case["id"], **person)

    response = await cw.client.get(
        f"/v1/cases/{case['id']}", headers=auth("supervisor", HAI_BA_TRUNG)
    )

    assert response.status_code == 200, response.text
    read = response.json()
    assert (read["id"], read["status"], read["summary"]) == (case["id"], "open", None)
    blank = {field: None for field in person if field not in ("role", "full_name")}
    assert read["persons"] == [
        {**blank, "id": witness["id"], "role": "witness", "full_name": "Vừ Thị Mỷ", "age": None}
    ]
    secrets = (person["phone"][1:], person["id_number"], "1990-05-17", "broker's car", "market")
    for secret in secrets:
        assert secret not in response.text, secret


async def test_an_unknown_case_is_404(cw: Casework) -> None:
    response = await cw.client.get(
        "/v1/cases/01890000-0000-7000-8000-00000000dead", headers=cw.as_(INVESTIGATOR)
    )
    assert response.status_code == 404


async def test_acting_on_an_unknown_case_is_404(cw: Casework) -> None:
    response = await cw.act("01890000-0000-7000-8000-00000000dead", body_for("initiate"))
    assert response.status_code == 404


# If-Match ----------------------------------------------------------------------------------------


async def test_a_stale_if_match_is_412_and_changes_nothing(cw: Casework) -> None:
    case = await cw.case_in("open")
    stale = str(case["version"] - 1)

    response = await cw.act(case["id"], body_for("initiate"), headers={"If-Match": stale})

    assert response.status_code == 412, response.text
    assert response.json()["current_version"] == case["version"]
    await _unchanged(cw, case)


@pytest.mark.parametrize("header", ["{v}", '"{v}"', 'W/"{v}"'])
async def test_a_current_if_match_lets_the_action_through(cw: Casework, header: str) -> None:
    case = await cw.case_in("open")
    response = await cw.act(
        case["id"], body_for("initiate"), headers={"If-Match": header.format(v=case["version"])}
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == case["version"] + 1


async def test_two_edits_from_the_same_version_let_only_the_first_through(cw: Casework) -> None:
    case = await cw.case_in("investigating")
    version = {"If-Match": str(case["version"])}
    first = await cw.act(case["id"], body_for("suspend"), headers=version)
    second = await cw.act(
        case["id"], body_for("indict", party_id=case["suspect_id"]), headers=version
    )
    assert (first.status_code, second.status_code) == (200, 412)
    assert (await cw.get(case["id"]))["status"] == "suspended"


async def test_a_stale_if_match_on_adding_a_person_is_412_and_adds_nobody(cw: Casework) -> None:
    case = await cw.case_in("open")
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/persons",
        json={"role": "witness", "full_name": "Sần Văn Lử"},
        headers={**cw.as_(INVESTIGATOR), "If-Match": str(case["version"] - 1)},
    )
    assert response.status_code == 412, response.text
    assert response.json()["current_version"] == case["version"]
    await _unchanged(cw, case)


@pytest.mark.parametrize("header", ["abc", "-1", "1.5", "１".encode()], ids=str)
async def test_an_if_match_that_is_not_a_version_is_422(cw: Casework, header: str | bytes) -> None:
    case = await cw.case_in("open")
    response = await cw.act(case["id"], body_for("initiate"), headers={"If-Match": header})
    assert response.status_code == 422, response.text
    await _unchanged(cw, case)


# Steps and their facts ---------------------------------------------------------------------------


async def test_suspension_stops_the_clock_and_resumption_restarts_it(cw: Casework) -> None:
    case = await cw.case_in("investigating")
    suspended = await cw.step(case["id"], "suspend")
    assert (suspended["status"], suspended["stage_due_at"]) == ("suspended", None)

    resumed = await cw.step(case["id"], "resume")

    assert resumed["status"] == "investigating"
    assert resumed["stage_due_at"] is not None
    timeline = (await cw.get(case["id"]))["timeline"]
    assert [(e["action"], e["to_status"]) for e in timeline[-2:]] == [
        ("suspend", "suspended"),
        ("resume", "investigating"),
    ]


async def test_declining_an_open_case_closes_it_with_its_legal_ground(cw: Casework) -> None:
    case = await cw.case_in("open")
    closed = await cw.step(case["id"], "decline", legal_ground="CPC Art. 157(2): time-barred")
    assert closed["status"] == "closed"
    last = (await cw.get(case["id"]))["timeline"][-1]
    assert (last["action"], last["from_status"], last["to_status"]) == ("decline", "open", "closed")
    assert last["details"]["legal_ground"] == "CPC Art. 157(2): time-barred"


async def test_a_file_returned_for_investigation_can_be_reopened(cw: Casework) -> None:
    case = await cw.case_in("trial_scheduled")
    returned = await cw.step(case["id"], "record_verdict", outcome="returned_for_investigation")
    assert returned["status"] == "adjudicated"
    assert "reopen_investigation" in (await cw.get(case["id"]))["allowed_actions"]

    reopened = await cw.step(case["id"], "reopen_investigation", decision_number="9/QĐ-ĐTBS")

    assert reopened["status"] == "investigating"
    assert reopened["stage_due_at"] is not None


async def test_a_rescheduled_trial_keeps_the_status_and_moves_the_deadline(cw: Casework) -> None:
    case = await cw.case_in("trial_scheduled")
    later = "2027-03-15T01:30:00+00:00"
    moved = await cw.step(case["id"], "schedule_trial", trial_type="model", scheduled_for=later)
    assert (moved["status"], moved["trial_type"], moved["stage_due_at"]) == (
        "trial_scheduled",
        "model",
        "2027-03-15T01:30:00Z",
    )


@pytest.mark.parametrize("outcome", ["convicted", "acquitted"])
async def test_a_case_tried_on_its_merits_cannot_be_reopened(cw: Casework, outcome: str) -> None:
    case = await cw.case_in("trial_scheduled")
    sentences = (
        [{"party_id": case["suspect_id"], "article": 150, "imprisonment_months": 60}]
        if outcome == "convicted"
        else []
    )
    await cw.step(case["id"], "record_verdict", outcome=outcome, sentences=sentences)
    before = await cw.get(case["id"])

    response = await cw.act(case["id"], body_for("reopen_investigation"))

    assert response.status_code == 422, response.text
    await _unchanged(cw, before)


async def test_indicting_a_person_who_is_not_a_suspect_is_422(cw: Casework) -> None:
    case = await cw.case_in("investigating")
    victim = await cw.add_person(case["id"], role="victim", full_name="Mùa Thị Sinh", age=20)
    before = await cw.get(case["id"])

    for party_id in (victim["id"], "01890000-0000-7000-8000-0000000000aa"):
        response = await cw.act(case["id"], body_for("indict", party_id=party_id))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "defendants"
    await _unchanged(cw, before)


async def test_a_suspect_of_another_case_cannot_be_indicted_here(cw: Casework) -> None:
    case = await cw.case_in("investigating")
    other = await cw.case_in("open")
    response = await cw.act(case["id"], body_for("indict", party_id=other["suspect_id"]))
    assert response.status_code == 422
    await _unchanged(cw, case)


@pytest.mark.parametrize(
    ("outcome", "sentenced"),
    [
        ("convicted", "nobody"),
        ("convicted", "stranger"),
        ("acquitted", "defendant"),
        ("returned_for_investigation", "defendant"),
    ],
)
async def test_a_verdict_whose_sentences_do_not_fit_its_outcome_is_422(
    cw: Casework, outcome: str, sentenced: str
) -> None:
    case = await cw.case_in("trial_scheduled")
    party = {
        "nobody": None,
        "stranger": "01890000-0000-7000-8000-0000000000bb",
        "defendant": case["suspect_id"],
    }[sentenced]
    sentences = [] if party is None else [{"party_id": party, "article": 150}]

    response = await cw.act(
        case["id"], body_for("record_verdict", outcome=outcome, sentences=sentences)
    )

    assert response.status_code == 422, response.text
    await _unchanged(cw, case)


async def test_article_151_without_a_victim_under_16_is_422(cw: Casework) -> None:
    case = await cw.case_in("open")
    await cw.add_person(case["id"], role="victim", full_name="Lầu Thị Dợ", age=22)
    before = await cw.get(case["id"])
    response = await cw.act(case["id"], body_for("initiate", penal_code_article=151))
    assert response.status_code == 422
    await _unchanged(cw, before)


async def test_article_151_with_a_victim_born_less_than_16_years_ago_is_accepted(
    cw: Casework,
) -> None:
    case = await cw.case_in("open")
    await cw.add_person(
        case["id"], role="victim", full_name="Sình Thị Mai", date_of_birth="2013-07-01"
    )
    initiated = await cw.step(case["id"], "initiate", penal_code_article=151)
    assert initiated["penal_code_article"] == 151


async def test_a_closed_case_takes_no_new_person(cw: Casework) -> None:
    case = await cw.case_in("closed")
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/persons",
        json={"role": "witness", "full_name": "Chảo Láo Lở"},
        headers=cw.as_(INVESTIGATOR),
    )
    assert response.status_code == 409


# Hostile input -----------------------------------------------------------------------------------

HOSTILE_TEXT = '\'; DROP TABLE casework.cases; -- <script>alert("x")</script> &amp; ${7*7} {{7*7}}'


@pytest.mark.parametrize(
    "body",
    [
        {"action": "reopen"},
        {"action": "initiate; DROP TABLE casework.cases"},
        {"action": None},
        {},
        {**body_for("initiate"), "status": "closed"},
        {**body_for("initiate"), "version": 99},
        {**body_for("initiate"), "penal_code_article": 149},
        {**body_for("initiate"), "penal_code_article": "151 OR 1=1"},
        {**body_for("initiate"), "decision_number": "x" * 101},
        {**body_for("initiate"), "decided_on": "2026-02-30"},
        {**body_for("initiate"), "decided_on": "2999-01-01"},
        {**body_for("initiate"), "decided_on": "not a date"},
        {**body_for("initiate"), "decided_on": ["2026-01-01"]},
        {**body_for("decline"), "legal_ground": "x" * 1001},
        {**body_for("decline"), "legal_ground": {"$gt": ""}},
    ],
    ids=[
        "unknown-action",
        "sql-action",
        "null-action",
        "empty",
        "extra-status",
        "extra-version",
        "article-149",
        "article-injection",
        "long-decision-number",
        "impossible-date",
        "future-date",
        "not-a-date",
        "date-as-list",
        "long-legal-ground",
        "object-as-text",
    ],
)
async def test_a_malformed_transition_is_422_and_changes_nothing(
    cw: Casework, body: dict[str, Any]
) -> None:
    case = await cw.case_in("open")
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/transitions", json=body, headers=cw.as_(INVESTIGATOR)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"]
    await _unchanged(cw, case)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'"initiate"', b"null", b'{"action": "initiate", "action": 1}'],
)
async def test_a_body_that_is_not_a_transition_object_is_422(cw: Casework, raw: bytes) -> None:
    case = await cw.case_in("open")
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/transitions",
        content=raw,
        headers={**cw.as_(INVESTIGATOR), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    await _unchanged(cw, case)


@pytest.mark.parametrize("case_id", ["1", "not-a-uuid", "' OR '1'='1", "%00"])
async def test_a_case_id_that_is_not_a_uuid_is_422(cw: Casework, case_id: str) -> None:
    response = await cw.client.get(f"/v1/cases/{case_id}", headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"ward_code": "' OR 1=1 --"},
        {"tip_id": "x"},
        {"limit": 0},
        {"limit": 201},
        {"overdue": "maybe"},
        {"cursor": "!!!"},
        {"cursor": "W1sxXV0"},
        {"cursor": "x" * 501},
    ],
)
async def test_a_malformed_list_query_is_422(cw: Casework, params: dict[str, Any]) -> None:
    response = await cw.client.get("/v1/cases", params=params, headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 422, response.text


async def test_sql_and_html_in_text_are_stored_verbatim(cw: Casework) -> None:
    case = await cw.open(title=HOSTILE_TEXT[:300], summary=HOSTILE_TEXT)
    party = await cw.add_person(case["id"], role="witness", full_name=HOSTILE_TEXT[:200])
    await cw.step(case["id"], "decline", legal_ground=HOSTILE_TEXT)

    read = await cw.get(case["id"])

    assert (read["title"], read["summary"]) == (HOSTILE_TEXT[:300], HOSTILE_TEXT)
    assert (read["persons"][0]["id"], read["persons"][0]["full_name"]) == (
        party["id"],
        HOSTILE_TEXT[:200],
    )
    assert read["timeline"][-1]["details"]["legal_ground"] == HOSTILE_TEXT


async def test_unicode_beyond_the_basic_plane_is_stored_verbatim(cw: Casework) -> None:
    title = "Vụ án 𠀧 🧒 Ɂ ﷽ \u202e ngược"
    case = await cw.open(title=title)
    assert (await cw.get(case["id"]))["title"] == title


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "x" * 301), ("summary", "x" * 20001), ("ward_code", "99999"), ("ward_code", "1")],
)
async def test_a_case_with_an_out_of_bounds_field_is_422(
    cw: Casework, field: str, value: str
) -> None:
    body = {"title": "Vụ án giả lập", "ward_code": HAI_BA_TRUNG, field: value}
    response = await cw.client.post("/v1/cases", json=body, headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 422


async def test_a_body_over_the_size_limit_is_413(cw: Casework) -> None:
    body = {"title": "Vụ án", "ward_code": HAI_BA_TRUNG, "summary": "x" * (1024 * 1024 + 10)}
    response = await cw.client.post("/v1/cases", json=body, headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 413


@pytest.mark.parametrize("kind", ["organ_trade", "x" * 41, "<b>labour</b>"])
async def test_an_exploitation_type_outside_the_taxonomy_is_422(cw: Casework, kind: str) -> None:
    body = {"title": "Vụ án", "ward_code": HAI_BA_TRUNG, "exploitation_types": [kind]}
    response = await cw.client.post("/v1/cases", json=body, headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 422, response.text


async def test_an_exploitation_type_of_the_taxonomy_is_accepted(cw: Casework) -> None:
    case = await cw.open(exploitation_types=["forced_labour", "sexual_exploitation"])
    read = await cw.get(case["id"])
    assert read["exploitation_types"] == ["forced_labour", "sexual_exploitation"]


async def test_a_nul_character_in_a_decision_number_is_422(cw: Casework) -> None:
    case = await cw.case_in("open")
    response = await cw.act(case["id"], body_for("initiate", decision_number="12/QĐ\u0000"))
    assert response.status_code == 422, response.text
    await _unchanged(cw, case)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-07:00"])
async def test_a_trial_date_out_of_any_plausible_range_is_422(cw: Casework, when: str) -> None:
    case = await cw.case_in("indicted")
    response = await cw.act(case["id"], body_for("schedule_trial", scheduled_for=when))
    assert response.status_code == 422, response.text
    await _unchanged(cw, case)


async def test_a_problem_never_shows_a_stack_trace(cw: Casework) -> None:
    response = await cw.client.post(
        "/v1/cases/01890000-0000-7000-8000-0000000000cc/transitions",
        json={"action": "initiate", "decided_on": "x"},
        headers=cw.as_(INVESTIGATOR),
    )
    text = response.text
    assert response.status_code == 422
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()


async def test_the_case_list_holds_only_cases_of_the_officers_province(cw: Casework) -> None:
    await cw.open()
    listed = await cw.client.get("/v1/cases", params={"limit": 200}, headers=cw.as_(CLERK))
    assert listed.status_code == 200
    assert listed.json()["items"]
    assert {province_of(c["ward_code"]) for c in listed.json()["items"]} == {HANOI}
