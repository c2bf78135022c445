"""NGO programs: registration for one's own organisation, enrollment of people who consented to
share with that NGO, batches of deliveries judged item by item and idempotent by
``external_id``, revocation of consent, and donor reports in JSON, CSV and XLSX."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from testkit.victim_support import delivery
from tests.integration.victim_support.support import (
    PROBLEM_JSON,
    PROGRAMS_WARD,
    SETTINGS,
    TODAY,
    admin,
    consent,
    identify,
    month_of,
    new_org,
    ngo,
    read,
    receive,
    scalar,
    supervisor,
    worker,
)
from tests.support import bearer

pytestmark = pytest.mark.integration
WARD = PROGRAMS_WARD
START, END = TODAY - timedelta(days=400), TODAY + timedelta(days=30)
EARLIER = TODAY - timedelta(days=35)  # always in an earlier month than TODAY
TYPES = ["medical", "psychological", "schooling"]


def program_body(org: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Safe Homecoming (synthetic)",
        "org": org,
        "funder": "Synthetic Donor Fund",
        "support_types": TYPES,
        "period": {"start": START.isoformat(), "end": END.isoformat()},
    }
    body.update(overrides)
    return body


async def new_program(client: httpx.AsyncClient, org: str, **overrides: Any) -> str:
    response = await client.post(
        "/v1/programs", headers=ngo(org), json=program_body(org, **overrides)
    )
    assert response.status_code == 201, response.text
    pid: str = response.json()["id"]
    return pid


async def person(
    client: httpx.AsyncClient, org: str | None = None, *, identified: bool = True
) -> str:
    """A received person, identified unless asked otherwise, consenting to share with ``org``."""
    vid: str = (await receive(client, WARD))["id"]
    if identified:
        await identify(client, vid)
    if org is not None:
        await consent(client, vid, org)
    return vid


async def enroll(
    client: httpx.AsyncClient, pid: str, org: str, vid: str, external_id: str | None = None
) -> httpx.Response:
    return await client.post(
        f"/v1/programs/{pid}/enrollments",
        headers=ngo(org),
        json={"victim_id": vid, "external_id": external_id or f"case-{uuid.uuid4().hex[:8]}"},
    )


async def enrolled_person(
    client: httpx.AsyncClient, pid: str, org: str, *, identified: bool = True
) -> str:
    vid = await person(client, org, identified=identified)
    response = await enroll(client, pid, org, vid)
    assert response.status_code == 201, response.text
    return vid


def item(vid: str, external_id: str, **overrides: Any) -> dict[str, Any]:
    body = delivery(
        external_id, vid, support_type="medical", amount_vnd=200_000, delivered_on=TODAY
    )
    return {**body, **overrides}


async def batch(client: httpx.AsyncClient, pid: str, org: str, items: list[Any]) -> httpx.Response:
    return await client.post(
        f"/v1/programs/{pid}/deliveries:batch", headers=ngo(org), json={"items": items}
    )


async def supports_of(client: httpx.AsyncClient, vid: str) -> list[dict[str, Any]]:
    supports: list[dict[str, Any]] = (await read(client, vid))["supports"]
    return supports


# Registration


async def test_an_ngo_registers_a_program_of_its_own_organisation(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    response = await victim_support.post("/v1/programs", headers=ngo(org), json=program_body(org))
    assert response.status_code == 201
    body = response.json()
    assert body["org"] == org
    assert body["support_types"] == sorted(TYPES)
    assert body["period"] == {"start": START.isoformat(), "end": END.isoformat()}
    assert body["enrollments"] == []


async def test_an_ngo_cannot_register_a_program_for_another_organisation(
    victim_support: httpx.AsyncClient,
) -> None:
    response = await victim_support.post(
        "/v1/programs", headers=ngo(new_org()), json=program_body(new_org())
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


async def test_an_admin_registers_a_program_for_any_organisation(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    response = await victim_support.post("/v1/programs", headers=admin(), json=program_body(org))
    assert response.status_code == 201
    assert response.json()["org"] == org


@pytest.mark.parametrize("role", ["social_worker", "supervisor"])
async def test_other_roles_cannot_register_programs(
    victim_support: httpx.AsyncClient, role: str
) -> None:
    org = new_org()
    response = await victim_support.post(
        "/v1/programs", headers=bearer(SETTINGS, role, "01", org=org), json=program_body(org)
    )
    assert response.status_code == 403


async def test_a_program_period_ending_before_it_starts_is_refused(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    response = await victim_support.post(
        "/v1/programs",
        headers=ngo(org),
        json=program_body(org, period={"start": END.isoformat(), "end": START.isoformat()}),
    )
    assert response.status_code == 422


async def test_another_ngo_does_not_find_the_program(victim_support: httpx.AsyncClient) -> None:
    pid = await new_program(victim_support, new_org())
    response = await victim_support.get(f"/v1/programs/{pid}", headers=ngo(new_org()))
    assert response.status_code == 404


async def test_an_admin_reads_any_program_with_its_enrollments_but_not_the_people(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await person(victim_support, org)
    name = (await read(victim_support, vid))["person"]["full_name"]
    assert (await enroll(victim_support, pid, org, vid, "hs-admin-1")).status_code == 201
    response = await victim_support.get(f"/v1/programs/{pid}", headers=admin())
    assert response.status_code == 200, response.text
    assert name not in response.text
    body = response.json()
    assert body["id"] == pid
    assert (body["name"], body["org"], body["funder"], body["support_types"]) == (
        "Safe Homecoming (synthetic)",
        org,
        "Synthetic Donor Fund",
        TYPES,
    )
    assert body["period"] == {"start": START.isoformat(), "end": END.isoformat()}
    assert [(e["external_id"], e["consent_active"]) for e in body["enrollments"]] == [
        ("hs-admin-1", True)
    ]
    assert body["enrollments"][0]["person"] is None


# Enrollment under consent


async def test_a_person_who_consented_is_enrolled_under_a_pseudonymous_reference(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await person(victim_support, org)
    response = await enroll(victim_support, pid, org, vid, "hs-0001")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["external_id"] == "hs-0001"
    assert body["consent_active"] is True
    assert body["victim_ref"].startswith("v-")
    assert vid not in response.text
    victim = await read(victim_support, vid)
    assert body["person"] == {
        "full_name": victim["person"]["full_name"],
        "age_band": "25_39",  # born 1998-04-12
        "sex": "female",
        "is_minor": False,
        "needs": [],
        "status": "identified",
    }
    assert victim["person"]["id_number"] not in response.text


async def test_the_reference_differs_between_organisations(
    victim_support: httpx.AsyncClient,
) -> None:
    first, second = new_org(), new_org()
    vid = await person(victim_support, first)
    await consent(victim_support, vid, second)
    refs = []
    for org in (first, second):
        pid = await new_program(victim_support, org)
        refs.append((await enroll(victim_support, pid, org, vid)).json()["victim_ref"])
    assert refs[0] != refs[1]


@pytest.mark.parametrize("consented_to", [None, "other"], ids=["no_consent", "other_org"])
async def test_a_person_without_consent_to_this_ngo_is_not_enrolled(
    victim_support: httpx.AsyncClient, consented_to: str | None
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await person(victim_support, new_org() if consented_to else None)
    response = await enroll(victim_support, pid, org, vid)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "victim_id"


async def test_an_unknown_person_gets_the_same_answer_as_one_without_consent(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    unknown = await enroll(victim_support, pid, org, str(uuid.uuid4()))
    refused = await enroll(victim_support, pid, org, await person(victim_support))
    assert unknown.status_code == refused.status_code == 422
    assert unknown.json()["detail"] == refused.json()["detail"]


async def test_enrolling_the_same_person_twice_is_a_conflict(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await enroll(victim_support, pid, org, vid)
    assert response.status_code == 409
    program = (await victim_support.get(f"/v1/programs/{pid}", headers=ngo(org))).json()
    assert len(program["enrollments"]) == 1


async def test_reusing_an_enrollment_external_id_in_the_program_is_a_conflict(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    first = await person(victim_support, org)
    second = await person(victim_support, org)
    assert (await enroll(victim_support, pid, org, first, "dup-ext")).status_code == 201
    response = await enroll(victim_support, pid, org, second, "dup-ext")
    assert response.status_code == 409


async def test_an_ngo_cannot_enroll_into_another_ngos_program(
    victim_support: httpx.AsyncClient,
) -> None:
    owner, intruder = new_org(), new_org()
    pid = await new_program(victim_support, owner)
    vid = await person(victim_support, intruder)
    response = await enroll(victim_support, pid, intruder, vid)
    assert response.status_code == 404


# Deliveries in batches


async def test_a_mixed_batch_keeps_the_good_items_and_rejects_each_bad_one_with_its_reason(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    enrolled = await enrolled_person(victim_support, pid, org)
    presumed = await enrolled_person(victim_support, pid, org, identified=False)
    not_enrolled = await person(victim_support, org)
    earlier = await batch(victim_support, pid, org, [item(enrolled, "prev-1")])
    assert earlier.json()["created"] == 1
    items: list[Any] = [
        item(enrolled, "good-1", amount_vnd=300_000),
        item(enrolled, "good-1", amount_vnd=300_000),
        item(enrolled, "prev-1"),
        item(str(uuid.uuid4()), "unknown-person"),
        item(not_enrolled, "not-enrolled"),
        item(enrolled, "wrong-type", type="loan"),
        item(enrolled, "too-early", delivered_on=(START - timedelta(days=1)).isoformat()),
        item(presumed, "not-entitled", type="schooling"),
        {k: v for k, v in item(enrolled, "no-type").items() if k != "type"},
        item(enrolled, "bad-date", delivered_on="2026-13-40"),
        item(enrolled, "good-2", type="schooling", amount_vnd=1_500_000),
    ]
    response = await batch(victim_support, pid, org, items)
    assert response.status_code == 207, response.text
    body = response.json()
    results = body["results"]
    assert [(r["index"], r["external_id"], r["status"]) for r in results] == [
        (0, "good-1", "created"),
        (1, "good-1", "duplicate"),
        (2, "prev-1", "duplicate"),
        (3, "unknown-person", "rejected"),
        (4, "not-enrolled", "rejected"),
        (5, "wrong-type", "rejected"),
        (6, "too-early", "rejected"),
        (7, "not-entitled", "rejected"),
        (8, "no-type", "rejected"),
        (9, "bad-date", "rejected"),
        (10, "good-2", "created"),
    ]
    assert (body["created"], body["duplicate"], body["rejected"]) == (2, 2, 7)
    assert results[1]["support_id"] == results[0]["support_id"]
    assert results[2]["support_id"] == earlier.json()["results"][0]["support_id"]
    fields = [r["errors"][0]["field"] for r in results[3:10]]
    assert fields == [
        "victim_id",
        "victim_id",
        "type",
        "delivered_on",
        "type",
        "type",
        "delivered_on",
    ]
    assert "Art. 37" in results[7]["errors"][0]["message"]
    stored = await supports_of(victim_support, enrolled)
    assert sorted((s["type"], s["amount_vnd"]) for s in stored) == [
        ("medical", 200_000),
        ("medical", 300_000),
        ("schooling", 1_500_000),
    ]
    assert {s["provider_org"] for s in stored} == {org}
    assert {s["program_id"] for s in stored} == {pid}
    assert await supports_of(victim_support, presumed) == []
    assert await supports_of(victim_support, not_enrolled) == []


async def test_a_batch_moves_an_identified_person_to_supported(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    await batch(victim_support, pid, org, [item(vid, "s-1")])
    assert (await read(victim_support, vid))["status"] == "supported"


async def test_resending_a_batch_adds_nothing(victim_support: httpx.AsyncClient) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    items = [item(vid, f"r-{i}", amount_vnd=1000 * (i + 1)) for i in range(3)]
    first = (await batch(victim_support, pid, org, items)).json()
    again = (await batch(victim_support, pid, org, items)).json()
    assert (first["created"], first["duplicate"]) == (3, 0)
    assert (again["created"], again["duplicate"], again["rejected"]) == (0, 3, 0)
    assert [r["support_id"] for r in again["results"]] == [
        r["support_id"] for r in first["results"]
    ]
    assert len(await supports_of(victim_support, vid)) == 3


async def test_the_same_batch_sent_twice_at_once_is_created_once(
    victim_support: httpx.AsyncClient,
) -> None:
    """A client retrying before the first answer came: both answers account for every item,
    each delivery exists once, and neither request fails."""
    org = new_org()
    pid = await new_program(victim_support, org)
    vids = [await enrolled_person(victim_support, pid, org) for _ in range(2)]
    items = [item(vids[i % 2], f"c-{i}", amount_vnd=1000 * (i + 1)) for i in range(40)]
    first, second = await asyncio.gather(
        batch(victim_support, pid, org, items), batch(victim_support, pid, org, items)
    )
    assert first.status_code == second.status_code == 207, (first.text, second.text)
    a, b = first.json(), second.json()
    assert a["rejected"] == b["rejected"] == 0
    assert a["created"] + b["created"] == 40 and a["duplicate"] + b["duplicate"] == 40
    ids = {r["external_id"]: r["support_id"] for r in a["results"]}
    assert ids == {r["external_id"]: r["support_id"] for r in b["results"]}
    stored = [s for vid in vids for s in await supports_of(victim_support, vid)]
    assert len(stored) == 40


async def test_an_external_id_taken_meanwhile_by_another_batch_is_a_conflict_not_a_failure(
    victim_support: httpx.AsyncClient,
) -> None:
    """Two batches for different people reusing one external_id at the same time (a client's
    numbering mistake): one delivery is created, the other batch reports a conflict naming the
    person, and keeps its other items."""
    org = new_org()
    pid = await new_program(victim_support, org)
    a, b = [await enrolled_person(victim_support, pid, org) for _ in range(2)]
    for attempt in range(5):
        shared = f"shared-{attempt}"
        first, second = await asyncio.gather(
            batch(victim_support, pid, org, [item(a, shared)]),
            batch(victim_support, pid, org, [item(b, shared), item(b, f"own-{attempt}")]),
        )
        assert first.status_code == second.status_code == 207, (first.text, second.text)
        results = [*first.json()["results"], *second.json()["results"]]
        shared_results = sorted(
            (r for r in results if r["external_id"] == shared), key=lambda r: r["status"]
        )
        assert [r["status"] for r in shared_results] == ["conflict", "created"]
        assert [e["field"] for e in shared_results[0]["errors"]] == ["victim_id"]
        own = [r for r in results if r["external_id"] == f"own-{attempt}"]
        assert [r["status"] for r in own] == ["created"]
    stored = [s for vid in (a, b) for s in await supports_of(victim_support, vid)]
    assert len(stored) == 10


async def test_the_same_external_id_in_another_program_is_a_new_delivery(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    first, second = await new_program(victim_support, org), await new_program(victim_support, org)
    vid = await person(victim_support, org)
    for pid in (first, second):
        assert (await enroll(victim_support, pid, org, vid)).status_code == 201
        assert (await batch(victim_support, pid, org, [item(vid, "same")])).json()["created"] == 1
    assert len(await supports_of(victim_support, vid)) == 2


async def test_a_batch_of_more_than_a_thousand_items_is_refused_whole(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await batch(victim_support, pid, org, [item(vid, f"k-{i}") for i in range(1001)])
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert await supports_of(victim_support, vid) == []


async def test_a_batch_of_a_thousand_items_is_taken(victim_support: httpx.AsyncClient) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await batch(
        victim_support, pid, org, [item(vid, f"k-{i}", amount_vnd=1) for i in range(1000)]
    )
    assert response.json()["created"] == 1000
    report = (await victim_support.get(f"/v1/programs/{pid}/report", headers=ngo(org))).json()
    assert report["totals"] == {"deliveries": 1000, "people": 1, "amount_vnd": 1000}


async def test_an_item_that_is_not_an_object_does_not_block_the_good_ones(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await batch(victim_support, pid, org, [item(vid, "ok-1"), None, "oops"])
    assert response.status_code == 207
    assert [r["status"] for r in response.json()["results"]] == ["created", "rejected", "rejected"]


async def test_another_ngo_cannot_post_deliveries_to_the_program(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await batch(victim_support, pid, new_org(), [item(vid, "x-1")])
    assert response.status_code == 404
    assert await supports_of(victim_support, vid) == []


# Revocation of consent


async def test_after_revocation_the_person_cannot_be_enrolled(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await person(victim_support, org)
    await consent(victim_support, vid, org, granted=False)
    response = await enroll(victim_support, pid, org, vid)
    assert response.status_code == 422


async def test_after_revocation_deliveries_for_the_person_are_rejected(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    revoked = await enrolled_person(victim_support, pid, org)
    still = await enrolled_person(victim_support, pid, org)
    await consent(victim_support, revoked, org, granted=False)
    body = (
        await batch(victim_support, pid, org, [item(revoked, "rv-1"), item(still, "rv-2")])
    ).json()
    assert [r["status"] for r in body["results"]] == ["rejected", "created"]
    assert "consent" in body["results"][0]["errors"][0]["message"]
    assert await supports_of(victim_support, revoked) == []


async def test_after_revocation_the_ngo_no_longer_sees_the_person(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    seen = (await victim_support.get(f"/v1/programs/{pid}", headers=ngo(org))).json()
    assert seen["enrollments"][0]["person"]["status"] == "identified"
    await consent(victim_support, vid, org, granted=False)
    seen = (await victim_support.get(f"/v1/programs/{pid}", headers=ngo(org))).json()
    assert seen["enrollments"][0]["person"] is None
    assert seen["enrollments"][0]["consent_active"] is False
    assert seen["enrollments"][0]["victim_ref"].startswith("v-")


async def test_consent_granted_again_restores_the_ngos_view(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    await consent(victim_support, vid, org, granted=False)
    await consent(victim_support, vid, org, granted=True)
    seen = (await victim_support.get(f"/v1/programs/{pid}", headers=ngo(org))).json()
    assert seen["enrollments"][0]["consent_active"] is True


async def test_an_admin_sees_enrollments_without_personal_data(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    await enrolled_person(victim_support, pid, org)
    seen = (await victim_support.get(f"/v1/programs/{pid}", headers=admin())).json()
    assert seen["enrollments"][0]["person"] is None


async def test_an_ngo_reading_a_persons_data_is_audited(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    before = await scalar(
        db, "SELECT count(*) FROM victim_support.audit_log WHERE record_id = :id", id=vid
    )
    seen = (await victim_support.get(f"/v1/programs/{pid}", headers=ngo(org))).json()
    assert seen["enrollments"][0]["person"]["full_name"]
    after = await scalar(
        db, "SELECT count(*) FROM victim_support.audit_log WHERE record_id = :id", id=vid
    )
    assert after == before + 1


# An NGO recording one support through its program


def ngo_support(pid: str | None, org: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "psychological",
        "amount_vnd": 400_000,
        "provided_on": TODAY.isoformat(),
        "provider_org": org,
        "program_id": pid,
    }
    body.update(overrides)
    return body


async def test_an_ngo_records_a_support_for_a_consenting_enrolled_person(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await victim_support.post(
        f"/v1/victims/{vid}/supports", headers=ngo(org), json=ngo_support(pid, org)
    )
    assert response.status_code == 201, response.text
    assert response.json()["provider_org"] == org
    assert response.json()["program_id"] == pid


async def test_an_ngo_cannot_record_a_support_under_another_organisation(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await victim_support.post(
        f"/v1/victims/{vid}/supports", headers=ngo(org), json=ngo_support(pid, "so-y-te")
    )
    assert response.status_code == 403
    assert await supports_of(victim_support, vid) == []


@pytest.mark.parametrize(
    ("situation", "code"),
    [
        ("not_enrolled", 404),
        ("consent_revoked", 404),
        ("no_program", 422),
        ("other_ngos_program", 404),
    ],
)
async def test_an_ngo_records_a_support_only_through_its_program_with_consent_and_enrollment(
    victim_support: httpx.AsyncClient, situation: str, code: int
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    if situation == "not_enrolled":
        vid = await person(victim_support, org)
    else:
        vid = await enrolled_person(victim_support, pid, org)
    if situation == "consent_revoked":
        await consent(victim_support, vid, org, granted=False)
    program_id: str | None = {
        "no_program": None,
        "other_ngos_program": await new_program(victim_support, new_org()),
    }.get(situation, pid)
    response = await victim_support.post(
        f"/v1/victims/{vid}/supports", headers=ngo(org), json=ngo_support(program_id, org)
    )
    assert response.status_code == code
    assert await supports_of(victim_support, vid) == []


async def test_an_ngo_support_the_law_does_not_entitle_is_refused_naming_the_rule(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org, identified=False)
    response = await victim_support.post(
        f"/v1/victims/{vid}/supports",
        headers=ngo(org),
        json=ngo_support(pid, org, type="schooling"),
    )
    assert response.status_code == 422
    assert response.json()["rule"] == "presumed_victim"


async def test_an_ngo_support_with_a_stale_if_match_is_refused(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    stale = (await read(victim_support, vid))["version"] - 1
    response = await victim_support.post(
        f"/v1/victims/{vid}/supports",
        headers={**ngo(org), "If-Match": str(stale)},
        json=ngo_support(pid, org),
    )
    assert response.status_code == 412


async def test_an_ngo_support_of_a_type_outside_its_program_is_refused(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    response = await victim_support.post(
        f"/v1/victims/{vid}/supports", headers=ngo(org), json=ngo_support(pid, org, type="loan")
    )
    assert response.status_code == 422


# Reports for donors


async def reported_program(client: httpx.AsyncClient, org: str, **overrides: Any) -> str:
    """Two people, deliveries in two months: medical (2 people, this month), schooling (1 person,
    an earlier month)."""
    pid = await new_program(client, org, **overrides)
    first = await enrolled_person(client, pid, org)
    second = await enrolled_person(client, pid, org)
    response = await batch(
        client,
        pid,
        org,
        [
            item(first, "m-1", amount_vnd=100_000),
            item(first, "m-2", amount_vnd=50_000),
            item(second, "m-3", amount_vnd=25_000),
            item(
                first,
                "s-1",
                type="schooling",
                amount_vnd=2_000_000,
                delivered_on=EARLIER.isoformat(),
            ),
        ],
    )
    assert response.json()["created"] == 4, response.text
    return pid


EXPECTED_ROWS = [
    {
        "support_type": "schooling",
        "month": month_of(EARLIER),
        "deliveries": 1,
        "people": 1,
        "amount_vnd": 2_000_000,
    },
    {
        "support_type": "medical",
        "month": month_of(TODAY),
        "deliveries": 3,
        "people": 2,
        "amount_vnd": 175_000,
    },
]


async def test_the_report_counts_people_deliveries_and_amounts_by_type_and_month(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    response = await victim_support.get(f"/v1/programs/{pid}/report", headers=ngo(org))
    assert response.status_code == 200
    report = response.json()
    assert report["rows"] == EXPECTED_ROWS
    assert report["totals"] == {"deliveries": 4, "people": 2, "amount_vnd": 2_175_000}
    assert (report["org"], report["funder"]) == (org, "Synthetic Donor Fund")


async def test_the_report_holds_no_personal_data(victim_support: httpx.AsyncClient) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    response = await victim_support.get(f"/v1/programs/{pid}/report", headers=ngo(org))
    assert "victim" not in response.text
    assert "full_name" not in response.text


async def test_the_report_as_csv_names_the_program_and_period_on_each_row_and_ends_with_totals(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    response = await victim_support.get(f"/v1/programs/{pid}/report?format=csv", headers=ngo(org))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        *("program_id", "program", "org", "funder", "period_start", "period_end"),
        *("month", "support_type", "deliveries", "people", "amount_vnd"),
    ]
    program = [pid, "Safe Homecoming (synthetic)", org, "Synthetic Donor Fund"]
    program += [START.isoformat(), END.isoformat()]
    assert rows[1:-1] == [
        [
            *program,
            r["month"],
            r["support_type"],
            str(r["deliveries"]),
            str(r["people"]),
            str(r["amount_vnd"]),
        ]
        for r in EXPECTED_ROWS
    ]
    # Two people had supports; the first had both types: counted once in the total.
    assert rows[-1] == [*program, "total", "", "4", "2", "2175000"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", '=HYPERLINK("http://evil.example","x")'), ("funder", "@SUM(1+1)*cmd")],
    ids=["name", "funder"],
)
async def test_a_formula_like_text_is_written_as_text_in_xlsx(
    victim_support: httpx.AsyncClient, field: str, value: str
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org, **{field: value})
    response = await victim_support.get(f"/v1/programs/{pid}/report?format=xlsx", headers=ngo(org))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    cell = sheet.cell(row=3 if field == "name" else 5, column=2)
    assert cell.data_type == "s"
    assert not str(cell.value).startswith(("=", "@"))
    assert value in str(cell.value)


@pytest.mark.parametrize("field", ["name", "funder"])
async def test_a_formula_like_text_is_written_as_text_in_csv(
    victim_support: httpx.AsyncClient, field: str
) -> None:
    org = new_org()
    value = '=HYPERLINK("http://evil.example","x")'
    pid = await new_program(victim_support, org, **{field: value})
    response = await victim_support.get(f"/v1/programs/{pid}/report?format=csv", headers=ngo(org))
    (total,) = list(csv.DictReader(io.StringIO(response.text)))
    assert total["program" if field == "name" else "funder"] == "'" + value


async def test_an_empty_report_has_no_rows_and_zero_totals(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    report = (await victim_support.get(f"/v1/programs/{pid}/report", headers=ngo(org))).json()
    assert report["rows"] == []
    assert report["totals"] == {"deliveries": 0, "people": 0, "amount_vnd": 0}


@pytest.mark.parametrize("reader", ["supervisor", "admin"])
async def test_supervisors_and_admins_read_the_report(
    victim_support: httpx.AsyncClient, reader: str
) -> None:
    org = new_org()
    pid = await reported_program(victim_support, org)
    headers = supervisor() if reader == "supervisor" else admin()
    response = await victim_support.get(f"/v1/programs/{pid}/report", headers=headers)
    assert response.status_code == 200
    assert response.json()["rows"] == EXPECTED_ROWS


async def test_another_ngo_does_not_find_the_report(victim_support: httpx.AsyncClient) -> None:
    pid = await new_program(victim_support, new_org())
    response = await victim_support.get(f"/v1/programs/{pid}/report", headers=ngo(new_org()))
    assert response.status_code == 404


async def test_a_social_worker_cannot_read_a_report(victim_support: httpx.AsyncClient) -> None:
    pid = await new_program(victim_support, new_org())
    response = await victim_support.get(f"/v1/programs/{pid}/report", headers=worker())
    assert response.status_code == 403


@pytest.mark.parametrize("fmt", ["pdf", "xls", "<script>"])
async def test_an_unknown_report_format_is_refused(
    victim_support: httpx.AsyncClient, fmt: str
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    response = await victim_support.get(
        f"/v1/programs/{pid}/report", params={"format": fmt}, headers=ngo(org)
    )
    assert response.status_code == 422
