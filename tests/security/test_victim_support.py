"""Security review (issue 13), victim_support's findings, each pinned by a test that failed on the
code before its fix:

* High 2: a reception links to a person already received only within the receiving
  jurisdiction; a match elsewhere creates a record here, changes nothing there, says nothing in
  the answer, and tells the owning jurisdiction by an event; the two offices link their records by
  an explicit, audited proposal and decision.
* Low: an NGO's delivery batch (and single support) checks consent and enrollment before it
  locks a person, so an NGO cannot lock (slow or block) people it may not touch.
* Low: birth year, age, sex, hometown ward and the minor flag are not in clear at rest.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import issue_dev_token
from libs.common.crypto import FieldCipher
from libs.common.jurisdiction import wards_of
from services.victim_support.app import create_app
from services.victim_support.settings import VictimSupportSettings
from tests.integration.migrating import rows_after_migration
from tests.integration.victim_support.support import (
    OTHER_PROVINCE,
    OTHER_PROVINCE_WARD,
    PROGRAMS_WARD,
    RECEPTION_WARD,
    SETTINGS,
    TODAY,
    consent,
    identify,
    new_org,
    ngo,
    receive,
    synthetic_id_number,
    synthetic_name,
)
from tests.integration.victim_support.test_reception import handled, produce, victim_linked
from tests.support import eventually, fresh_ward, running

pytestmark = [pytest.mark.integration, pytest.mark.security]


@pytest.fixture
async def victim_support(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings_for(VictimSupportSettings))) as client:
        yield client


# NGO delivery batches: consent before the lock

ANSWER_WITHIN_SECONDS = 20  # far beyond a batch of two items; a batch that waits never answers


async def _program(client: httpx.AsyncClient, org: str) -> str:
    response = await client.post(
        "/v1/programs",
        headers=ngo(org),
        json={
            "name": "Lock probe (synthetic)",
            "org": org,
            "support_types": ["medical"],
            "period": {"start": f"{TODAY.year - 1}-01-01", "end": f"{TODAY.year + 1}-12-31"},
        },
    )
    assert response.status_code == 201, response.text
    pid: str = response.json()["id"]
    return pid


async def _enrolled(client: httpx.AsyncClient, pid: str, org: str) -> str:
    vid: str = (await receive(client, PROGRAMS_WARD))["id"]
    await identify(client, vid)
    await consent(client, vid, org)
    response = await client.post(
        f"/v1/programs/{pid}/enrollments",
        headers=ngo(org),
        json={"victim_id": vid, "external_id": f"e-{uuid.uuid4().hex[:8]}"},
    )
    assert response.status_code == 201, response.text
    return vid


def _delivery(vid: str) -> dict[str, Any]:
    return {
        "external_id": f"d-{uuid.uuid4().hex[:10]}",
        "victim_id": vid,
        "type": "medical",
        "amount_vnd": 100_000,
        "delivered_on": TODAY.isoformat(),
    }


async def _while_locked(db: AsyncEngine, victim_id: str, call: Any) -> httpx.Response:
    """Run ``call`` while another transaction holds the person's row lock (a social worker's
    action in progress), and give its answer, or fail if it waits for the lock."""
    async with db.connect() as conn:
        await conn.begin()
        await conn.execute(
            text("SELECT 1 FROM victim_support.victims WHERE id = :id FOR UPDATE"),
            {"id": victim_id},
        )
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN_SECONDS)
            assert task in done, "the NGO's request waited for a lock on a person it may not touch"
        finally:
            await conn.rollback()
        response: httpx.Response = await task
    return response


async def test_a_batch_naming_a_person_without_consent_does_not_wait_for_that_persons_lock(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await _program(victim_support, org)
    served = await _enrolled(victim_support, pid, org)
    stranger: str = (await receive(victim_support, PROGRAMS_WARD))["id"]
    response = await _while_locked(
        db,
        stranger,
        victim_support.post(
            f"/v1/programs/{pid}/deliveries:batch",
            headers=ngo(org),
            json={"items": [_delivery(stranger), _delivery(served)]},
        ),
    )
    assert response.status_code == 207, response.text
    refused, created = response.json()["results"]
    assert refused["status"] == "rejected"
    assert refused["errors"] == [{"field": "victim_id", "message": "not enrolled in this program"}]
    assert created["status"] == "created"


async def test_an_ngo_support_for_a_person_without_consent_does_not_wait_for_the_lock(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await _program(victim_support, org)
    stranger: str = (await receive(victim_support, PROGRAMS_WARD))["id"]
    response = await _while_locked(
        db,
        stranger,
        victim_support.post(
            f"/v1/victims/{stranger}/supports",
            headers=ngo(org),
            json={
                "type": "medical",
                "provided_on": TODAY.isoformat(),
                "provider_org": org,
                "program_id": pid,
            },
        ),
    )
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "no consenting person enrolled in this program with this id"


# High 2: a reception links only within its jurisdiction; two offices link by proposal and decision

HERE = "01"


def _worker(jurisdiction: str, sub: str) -> dict[str, str]:
    token = issue_dev_token(SETTINGS, roles=["social_worker"], jurisdiction=[jurisdiction], sub=sub)
    return {"Authorization": f"Bearer {token}"}


THERE_WORKER = _worker(OTHER_PROVINCE, "sw-there")
HERE_WORKER = _worker(HERE, "sw-here")


async def _read(client: httpx.AsyncClient, vid: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/v1/victims/{vid}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _received_there(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    return await receive(
        client,
        OTHER_PROVINCE_WARD,
        headers=THERE_WORKER,
        needs=["medical"],
        person={"full_name": synthetic_name(), "id_number": number},
    )


def _unchanged(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("version", "case_ids", "needs", "status", "timeline")}


async def _outbox(db: AsyncEngine, key: str) -> list[str]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT type FROM victim_support.outbox WHERE key = :k ORDER BY seq"), {"k": key}
        )
        return [r[0] for r in rows.all()]


async def test_a_reception_matching_a_person_of_another_province_is_a_new_record_here(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    number = synthetic_id_number()
    there = await _received_there(victim_support, number)
    before = await _read(victim_support, there["id"], THERE_WORKER)
    case_id = str(uuid.uuid4())
    fresh = await receive(victim_support, RECEPTION_WARD, headers=HERE_WORKER)
    here = await receive(
        victim_support,
        RECEPTION_WARD,
        headers=HERE_WORKER,
        case_id=case_id,
        needs=["interpreter"],
        person={"full_name": synthetic_name(), "id_number": number},
    )
    # Nothing of the other province's record in the answer: the shape of any new reception.
    assert here["id"] != there["id"]
    assert here.keys() == fresh.keys()
    assert (here["status"], here["version"], here["province_code"]) == (
        "under_verification",
        1,
        HERE,
    )
    assert here["case_ids"] == [case_id]
    assert [
        e["action"] for e in (await _read(victim_support, here["id"], HERE_WORKER))["timeline"]
    ] == ["receive"]
    # Nothing changed there.
    after = await _read(victim_support, there["id"], THERE_WORKER)
    assert _unchanged(after) == _unchanged(before)
    # The owning jurisdiction is told, by an event about its own record.
    assert "vn.ctip.victim_support.victim.possible_duplicate.v1" in await _outbox(db, there["id"])


async def test_a_case_in_one_province_does_not_link_a_person_received_in_another(
    victim_support: httpx.AsyncClient, settings_for: Callable[..., Any], db: AsyncEngine
) -> None:
    number = synthetic_id_number()
    there = await _received_there(victim_support, number)
    before = await _read(victim_support, there["id"], THERE_WORKER)
    ward = fresh_ward()
    case_id = uuid.uuid4()
    event = victim_linked(case_id, uuid.uuid4(), ward, full_name=synthetic_name(), id_number=number)
    await produce(settings_for(VictimSupportSettings), event)
    await eventually(lambda: handled(db, event.id))
    assert _unchanged(await _read(victim_support, there["id"], THERE_WORKER)) == _unchanged(before)
    page = (await victim_support.get("/v1/victims", headers=_worker(ward, "sw-ward"))).json()
    assert [v["case_ids"] for v in page["items"]] == [[str(case_id)]]
    assert "vn.ctip.victim_support.victim.possible_duplicate.v1" in await _outbox(db, there["id"])


async def _links(
    client: httpx.AsyncClient, headers: dict[str, str], vid: str
) -> list[dict[str, Any]]:
    response = await client.get("/v1/victim-links", headers=headers, params={"victim_id": vid})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_only_the_owning_office_is_shown_the_possible_duplicate(
    victim_support: httpx.AsyncClient,
) -> None:
    number = synthetic_id_number()
    there = await _received_there(victim_support, number)
    here = await receive(
        victim_support,
        RECEPTION_WARD,
        headers=HERE_WORKER,
        person={"full_name": synthetic_name(), "id_number": number},
    )
    [suggested] = await _links(victim_support, THERE_WORKER, there["id"])
    assert (suggested["status"], suggested["victim_id"], suggested["other_victim_id"]) == (
        "suggested",
        there["id"],
        here["id"],
    )
    assert suggested["other_province_code"] == HERE
    assert await _links(victim_support, HERE_WORKER, here["id"]) == []


async def test_two_offices_link_their_records_by_a_proposal_and_the_other_sides_decision(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    number = synthetic_id_number()
    there = await _received_there(victim_support, number)
    here = await receive(
        victim_support,
        RECEPTION_WARD,
        headers=HERE_WORKER,
        person={"full_name": synthetic_name(), "id_number": number},
    )
    proposed = await victim_support.post(
        f"/v1/victims/{there['id']}/links",
        headers={**THERE_WORKER, "X-Purpose": "same person received twice"},
        json={"other_victim_id": here["id"]},
    )
    assert proposed.status_code == 201, proposed.text
    link = proposed.json()
    assert link["status"] == "proposed"
    decide = f"/v1/victim-links/{link['id']}/decision"
    # The proposing side cannot decide: the record it would link is not in its jurisdiction.
    response = await victim_support.post(decide, headers=THERE_WORKER, json={"decision": "confirm"})
    assert response.status_code == 404
    # Now the receiving side sees it, and decides.
    assert [x["status"] for x in await _links(victim_support, HERE_WORKER, here["id"])] == [
        "proposed"
    ]
    response = await victim_support.post(decide, headers=HERE_WORKER, json={"decision": "confirm"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    for vid, headers in ((there["id"], THERE_WORKER), (here["id"], HERE_WORKER)):
        last = (await _read(victim_support, vid, headers))["timeline"][-1]
        assert last["action"] == "record_linked"
        assert last["details"]["link_id"] == link["id"]
    async with db.connect() as conn:
        actions = (
            await conn.execute(
                text(
                    "SELECT action FROM victim_support.audit_log WHERE record_id IN (:a, :b)"
                    " AND action LIKE '%link%' ORDER BY seq"
                ),
                {"a": there["id"], "b": here["id"]},
            )
        ).scalars()
        assert list(actions) == ["propose_link", "decide_link"]
    response = await victim_support.post(decide, headers=HERE_WORKER, json={"decision": "reject"})
    assert response.status_code == 409


async def test_a_proposal_answers_alike_whether_or_not_the_other_record_exists(
    victim_support: httpx.AsyncClient,
) -> None:
    there = await _received_there(victim_support, synthetic_id_number())
    here = await receive(victim_support, RECEPTION_WARD, headers=HERE_WORKER)
    answers = []
    for other in (there["id"], str(uuid.uuid4())):
        response = await victim_support.post(
            f"/v1/victims/{here['id']}/links", headers=HERE_WORKER, json={"other_victim_id": other}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        answers.append(
            {
                k: v
                for k, v in body.items()
                if k not in ("id", "other_victim_id", "created_at", "proposed_at")
            }
        )
    assert answers[0] == answers[1]


async def test_a_link_is_decided_by_another_person_than_the_one_who_proposed_it(
    victim_support: httpx.AsyncClient,
) -> None:
    both = _worker(HERE, "sw-both")
    first = await receive(victim_support, RECEPTION_WARD, headers=both)
    second = await receive(victim_support, fresh_ward(), headers=both)
    link = (
        await victim_support.post(
            f"/v1/victims/{first['id']}/links", headers=both, json={"other_victim_id": second["id"]}
        )
    ).json()
    response = await victim_support.post(
        f"/v1/victim-links/{link['id']}/decision", headers=both, json={"decision": "confirm"}
    )
    assert response.status_code == 403
    assert (
        response.json()["detail"]
        == "a link is decided by someone other than the person who proposed it"
    )


# Low: birth year, age, sex, hometown ward, minor flag and nationality are not in clear at rest

QUASI_IDENTIFIERS = ("age", "sex", "hometown_ward_code", "is_minor", "nationality")


async def _stored(db: AsyncEngine, vid: str) -> dict[str, Any]:
    async with db.connect() as conn:
        row = await conn.execute(
            text("SELECT to_jsonb(t) FROM victim_support.victims t WHERE id = :id"), {"id": vid}
        )
        stored: dict[str, Any] = row.scalar_one()
    return stored


async def test_a_persons_age_sex_hometown_minor_flag_and_nationality_are_encrypted_at_rest(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    hometown = wards_of("04")[0]
    victim = await receive(
        victim_support,
        RECEPTION_WARD,
        headers=HERE_WORKER,
        is_minor=True,
        nationality="LA",
        person={
            "full_name": synthetic_name(),
            "age": 16,
            "sex": "female",
            "hometown_ward_code": hometown,
        },
    )
    stored = await _stored(db, victim["id"])
    assert stored.get("birth_year") is None
    assert {c: str(stored[c])[:3] for c in QUASI_IDENTIFIERS} == dict.fromkeys(
        QUASI_IDENTIFIERS, "v1."
    )
    # Still the person's, for those who may read them.
    record = await _read(victim_support, victim["id"], HERE_WORKER)
    assert (record["is_minor"], record["nationality"]) == (True, "LA")
    assert (record["person"]["age"], record["person"]["sex"]) == (16, "female")
    assert record["person"]["hometown_ward_code"] == hometown


ENCRYPTING_REVISION = "8e4a6f0b2c17"


def test_the_migration_encrypts_the_rows_written_in_clear_before_it() -> None:
    now = datetime.now(UTC)
    common = {
        "status": "under_verification",
        "source": "rescued",
        "ward_code": RECEPTION_WARD,
        "province_code": HERE,
        "received_at": now,
        "verification_due_at": now,
        "needs": [],
        "exploitation_types": [],
        "case_ids": [],
        "created_by": "sw",
        "version": 1,
        "updated_at": now,
    }
    hometown = wards_of("04")[0]
    written = [
        {**common, "id": uuid.uuid4(), "birth_year": 2010, "age": 16, "sex": "female",
         "hometown_ward_code": hometown, "nationality": "LA", "is_minor": True},
        {**common, "id": uuid.uuid4(), "birth_year": None, "age": None, "sex": None,
         "hometown_ward_code": None, "nationality": "VN", "is_minor": None},
    ]  # fmt: skip
    after = rows_after_migration("victim_support", ENCRYPTING_REVISION, "victims", written)
    stored = {row["id"]: row for row in after}
    cipher = FieldCipher.from_spec(SETTINGS.field_keys.get_secret_value())
    for original in written:
        row = stored[str(original["id"])]
        assert "birth_year" not in row
        for column in QUASI_IDENTIFIERS:
            if original[column] is None:
                assert row[column] is None
                continue
            sealed = row[column]
            assert sealed.startswith("v1.")
            plain = cipher.decrypt(sealed, f"victim_support.victims.{column}")
            expected = original[column]
            assert plain == (str(expected).lower() if isinstance(expected, bool) else str(expected))


async def test_a_suggestion_is_not_decided_by_either_office_until_one_proposes(
    victim_support: httpx.AsyncClient,
) -> None:
    number = synthetic_id_number()
    there = await _received_there(victim_support, number)
    await receive(
        victim_support,
        RECEPTION_WARD,
        headers=HERE_WORKER,
        person={"full_name": synthetic_name(), "id_number": number},
    )
    [suggested] = await _links(victim_support, THERE_WORKER, there["id"])
    for headers in (HERE_WORKER, THERE_WORKER):
        response = await victim_support.post(
            f"/v1/victim-links/{suggested['id']}/decision",
            headers=headers,
            json={"decision": "confirm"},
        )
        assert response.status_code == 404
        assert response.json()["detail"] == "no such link"


async def test_a_rejected_link_changes_neither_record_and_may_be_proposed_again(
    victim_support: httpx.AsyncClient,
) -> None:
    number = synthetic_id_number()
    there = await _received_there(victim_support, number)
    here = await receive(
        victim_support,
        RECEPTION_WARD,
        headers=HERE_WORKER,
        person={"full_name": synthetic_name(), "id_number": number},
    )
    propose = f"/v1/victims/{there['id']}/links"
    link = (
        await victim_support.post(
            propose, headers=THERE_WORKER, json={"other_victim_id": here["id"]}
        )
    ).json()
    response = await victim_support.post(
        f"/v1/victim-links/{link['id']}/decision", headers=HERE_WORKER, json={"decision": "reject"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["other_province_code"] is None
    for vid, headers in ((there["id"], THERE_WORKER), (here["id"], HERE_WORKER)):
        actions = [e["action"] for e in (await _read(victim_support, vid, headers))["timeline"]]
        assert actions == ["receive"]
    again = await victim_support.post(
        propose, headers=THERE_WORKER, json={"other_victim_id": here["id"]}
    )
    assert again.status_code == 201, again.text
    assert (again.json()["id"], again.json()["status"]) == (link["id"], "proposed")
