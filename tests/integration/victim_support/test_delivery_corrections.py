"""An NGO's deliveries name the person by the reference the NGO gave at enrollment, an
``external_id`` sent again with other content is a conflict naming the fields (never dropped in
silence), and a delivery is corrected with ``PUT .../deliveries/{external_id}`` under
``If-Match``: audited, on the person's timeline, emitted, and followed by the donor figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.victim_support.support import (
    PROBLEM_JSON,
    TODAY,
    consent,
    new_org,
    ngo,
    read,
    scalar,
)
from tests.integration.victim_support.test_programs import (
    EARLIER,
    START,
    batch,
    enroll,
    enrolled_person,
    item,
    new_program,
    person,
    supports_of,
)
from tests.support import outbox_event

pytestmark = pytest.mark.integration


def by_reference(reference: str, external_id: str, **overrides: Any) -> dict[str, Any]:
    """A delivery naming the person by the NGO's own enrollment reference."""
    body = {k: v for k, v in item("unused", external_id).items() if k != "victim_id"}
    return {**body, "person_external_id": reference, **overrides}


async def enrolled_as(
    client: httpx.AsyncClient, pid: str, org: str, reference: str, *, identified: bool = True
) -> str:
    vid = await person(client, org, identified=identified)
    response = await enroll(client, pid, org, vid, reference)
    assert response.status_code == 201, response.text
    return vid


async def put(
    client: httpx.AsyncClient,
    pid: str,
    org: str,
    external_id: str,
    body: dict[str, Any],
    if_match: str | None = None,
) -> httpx.Response:
    headers = ngo(org) | ({"If-Match": if_match} if if_match is not None else {})
    return await client.put(
        f"/v1/programs/{pid}/deliveries/{external_id}", headers=headers, json=body
    )


def correction(**overrides: Any) -> dict[str, Any]:
    body = {"type": "medical", "amount_vnd": 250_000, "delivered_on": TODAY.isoformat()}
    return {**body, **overrides}


async def delivered(client: httpx.AsyncClient, pid: str, org: str, *items: Any) -> list[Any]:
    response = await batch(client, pid, org, list(items))
    assert response.status_code == 207, response.text
    results: list[Any] = response.json()["results"]
    return results


# The person named by the NGO's own reference


async def test_a_delivery_names_the_person_by_the_reference_given_at_enrollment(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_as(victim_support, pid, org, "HS-0001")
    (result,) = await delivered(victim_support, pid, org, by_reference("HS-0001", "d-1"))
    assert result["status"] == "created", result
    assert result["version"] == 1
    stored = await supports_of(victim_support, vid)
    assert [(s["id"], s["type"], s["amount_vnd"]) for s in stored] == [
        (result["support_id"], "medical", 200_000)
    ]


async def test_an_unknown_reference_is_rejected_naming_it(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid, other = await new_program(victim_support, org), await new_program(victim_support, org)
    await enrolled_as(victim_support, other, org, "HS-elsewhere")  # another program's reference
    results = await delivered(
        victim_support,
        pid,
        org,
        by_reference("HS-nobody", "d-1"),
        by_reference("HS-elsewhere", "d-2"),
    )
    assert [(r["status"], r["errors"]) for r in results] == [
        (
            "rejected",
            [
                {
                    "field": "person_external_id",
                    "message": "no enrollment of this program has this external_id",
                }
            ],
        )
    ] * 2


async def test_a_withdrawn_consent_is_named_against_the_reference(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_as(victim_support, pid, org, "HS-0002")
    await consent(victim_support, vid, org, granted=False)
    (result,) = await delivered(victim_support, pid, org, by_reference("HS-0002", "d-1"))
    assert result["status"] == "rejected"
    assert result["errors"] == [
        {
            "field": "person_external_id",
            "message": "consent to share with this organisation withdrawn",
        }
    ]


@pytest.mark.parametrize("person_fields", [{}, {"person_external_id": "HS-1"}])
async def test_an_item_naming_its_person_not_exactly_once_is_rejected_alone(
    victim_support: httpx.AsyncClient, person_fields: dict[str, str]
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_as(victim_support, pid, org, "HS-1")
    odd = {k: v for k, v in item(vid, "odd").items() if k != "victim_id"}
    if person_fields:
        odd |= {"victim_id": vid, **person_fields}
    results = await delivered(victim_support, pid, org, odd, item(vid, "fine"))
    assert [r["status"] for r in results] == ["rejected", "created"]
    assert results[0]["errors"] == [
        {
            "field": "item",
            "message": "Value error, name the person by exactly one of victim_id and "
            "person_external_id",
        }
    ]


# The same external_id again


async def test_the_same_delivery_named_either_way_is_a_duplicate(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_as(victim_support, pid, org, "HS-3")
    (first,) = await delivered(victim_support, pid, org, item(vid, "d-1"))
    (again,) = await delivered(victim_support, pid, org, by_reference("HS-3", "d-1"))
    assert (again["status"], again["support_id"], again["version"]) == (
        "duplicate",
        first["support_id"],
        1,
    )
    assert again["errors"] == []


async def test_an_external_id_sent_again_with_other_content_is_a_conflict_naming_the_fields(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    (first,) = await delivered(victim_support, pid, org, item(vid, "d-1"))
    changed = item(vid, "d-1", amount_vnd=250_000, delivered_on=EARLIER.isoformat())
    response = await batch(victim_support, pid, org, [changed, item(vid, "d-2")])
    body = response.json()
    assert (body["created"], body["duplicate"], body["conflict"], body["rejected"]) == (1, 0, 1, 0)
    conflict = body["results"][0]
    assert (conflict["status"], conflict["support_id"], conflict["version"]) == (
        "conflict",
        first["support_id"],
        1,
    )
    differs = "differs from the delivery recorded under this external_id"
    assert conflict["errors"] == [
        {"field": "amount_vnd", "message": differs},
        {"field": "delivered_on", "message": differs},
    ]
    stored = {s["id"]: s for s in await supports_of(victim_support, vid)}
    assert stored[first["support_id"]]["amount_vnd"] == 200_000  # nothing was overwritten


async def test_a_conflict_within_one_batch_names_the_fields(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    results = await delivered(
        victim_support, pid, org, item(vid, "d-1"), item(vid, "d-1", type="psychological")
    )
    assert [r["status"] for r in results] == ["created", "conflict"]
    assert [e["field"] for e in results[1]["errors"]] == ["type"]
    assert len(await supports_of(victim_support, vid)) == 1


# Correcting a delivery


async def test_a_delivery_is_corrected_under_its_version_and_the_report_follows(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_as(victim_support, pid, org, "HS-4")
    (first,) = await delivered(victim_support, pid, org, item(vid, "d-1"))
    response = await put(victim_support, pid, org, "d-1", correction(), if_match="1")
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert corrected == {
        "support_id": first["support_id"],
        "program_id": pid,
        "external_id": "d-1",
        "victim_ref": corrected["victim_ref"],
        "person_external_id": "HS-4",
        "type": "medical",
        "amount_vnd": 250_000,
        "delivered_on": TODAY.isoformat(),
        "version": 2,
    }
    assert corrected["victim_ref"].startswith("v-")
    assert [s["amount_vnd"] for s in await supports_of(victim_support, vid)] == [250_000]
    report = (await victim_support.get(f"/v1/programs/{pid}/report", headers=ngo(org))).json()
    assert report["totals"] == {"deliveries": 1, "people": 1, "amount_vnd": 250_000}
    assert [r["amount_vnd"] for r in report["rows"]] == [250_000]
    # What the NGO sends next: the corrected delivery is a duplicate, the old one a conflict.
    again = await delivered(
        victim_support, pid, org, item(vid, "d-1", amount_vnd=250_000), item(vid, "d-1")
    )
    assert [(r["status"], r["version"]) for r in again] == [("duplicate", 2), ("conflict", 2)]


async def test_a_correction_is_audited_on_the_timeline_and_emitted(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    (first,) = await delivered(victim_support, pid, org, item(vid, "d-1"))
    response = await put(
        victim_support, pid, org, "d-1", correction(type="psychological", amount_vnd=200_000)
    )
    assert response.status_code == 200, response.text
    change = {"before": {"type": "medical"}, "after": {"type": "psychological"}}
    async with db.connect() as conn:
        audit = (
            await conn.execute(
                text(
                    "SELECT action, actor, details FROM victim_support.audit_log"
                    " WHERE record_type = 'support' AND record_id = :id"
                ),
                {"id": first["support_id"]},
            )
        ).all()
        events = (
            await conn.execute(
                text(
                    "SELECT event FROM victim_support.outbox WHERE key = :k AND type ="
                    " 'vn.ctip.victim_support.victim.support_corrected.v1'"
                ),
                {"k": vid},
            )
        ).scalars()
        payloads = [outbox_event("victim_support", e)["data"] for e in events]
    assert [(a, d["external_id"], d["before"], d["after"]) for a, _, d in audit] == [
        ("correct", "d-1", change["before"], change["after"])
    ]
    assert [(p["action"], p["details"]["before"], p["details"]["after"]) for p in payloads] == [
        ("support_corrected", change["before"], change["after"])
    ]
    assert payloads[0]["details"]["support_id"] == first["support_id"]
    timeline = (await read(victim_support, vid))["timeline"]
    assert timeline[-1]["action"] == "support_corrected"
    assert timeline[-1]["details"]["after"] == {"type": "psychological"}


async def test_the_same_correction_again_changes_nothing(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    await delivered(victim_support, pid, org, item(vid, "d-1"))
    first = await put(victim_support, pid, org, "d-1", correction(), if_match="1")
    again = await put(victim_support, pid, org, "d-1", correction())
    assert (first.json()["version"], again.json()["version"]) == (2, 2)
    events = await scalar(
        db,
        "SELECT count(*) FROM victim_support.outbox WHERE key = :k AND type ="
        " 'vn.ctip.victim_support.victim.support_corrected.v1'",
        k=vid,
    )
    assert events == 1


async def test_a_correction_of_an_older_version_is_refused(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    await delivered(victim_support, pid, org, item(vid, "d-1"))
    assert (await put(victim_support, pid, org, "d-1", correction(), "1")).status_code == 200
    stale = await put(victim_support, pid, org, "d-1", correction(amount_vnd=1), if_match="1")
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith(PROBLEM_JSON)
    assert stale.json()["current_version"] == 2
    assert [s["amount_vnd"] for s in await supports_of(victim_support, vid)] == [250_000]


@pytest.mark.parametrize(
    ("overrides", "field", "message", "code"),
    [
        ({"type": "loan"}, "type", "not a support type of this program", "type.not_in_program"),
        (
            {"delivered_on": (START - timedelta(days=1)).isoformat()},
            "delivered_on",
            "outside the program's period",
            "date.outside_program",
        ),
    ],
    ids=["type_outside_the_program", "date_outside_the_period"],
)
async def test_a_correction_the_program_does_not_allow_is_refused(
    victim_support: httpx.AsyncClient,
    overrides: dict[str, Any],
    field: str,
    message: str,
    code: str,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    await delivered(victim_support, pid, org, item(vid, "d-1"))
    response = await put(victim_support, pid, org, "d-1", correction(**overrides))
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": field, "message": message, "code": code}]
    assert [s["type"] for s in await supports_of(victim_support, vid)] == ["medical"]


async def test_a_correction_to_a_type_the_law_does_not_entitle_is_refused_naming_the_rule(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    presumed = await enrolled_person(victim_support, pid, org, identified=False)
    await delivered(victim_support, pid, org, item(presumed, "d-1"))
    response = await put(victim_support, pid, org, "d-1", correction(type="schooling"))
    assert response.status_code == 422, response.text
    assert "Art. 37" in response.json()["detail"]


async def test_a_correction_after_the_consent_was_withdrawn_is_refused(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    await delivered(victim_support, pid, org, item(vid, "d-1"))
    await consent(victim_support, vid, org, granted=False)
    response = await put(victim_support, pid, org, "d-1", correction())
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "the person's consent to share with your organisation is withdrawn"
    )


async def test_an_unknown_delivery_or_another_ngos_program_is_not_found(
    victim_support: httpx.AsyncClient,
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    vid = await enrolled_person(victim_support, pid, org)
    await delivered(victim_support, pid, org, item(vid, "d-1"))
    unknown = await put(victim_support, pid, org, "d-404", correction())
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no delivery of this program has this external_id"
    intruder = await put(victim_support, pid, new_org(), "d-1", correction(amount_vnd=1))
    assert intruder.status_code == 404
    assert [s["amount_vnd"] for s in await supports_of(victim_support, vid)] == [200_000]
