"""NGO delivery batches written set-based (one statement per table per batch): per-item answers
as the contract gives them, idempotency by ``external_id`` within a batch, across batches and
between batches racing, and exactly one support, one timeline entry and one event per delivery
created (none for a duplicate, a conflict or a rejection)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.victim_support.support import (
    new_org,
    read,
    scalar,
)
from tests.integration.victim_support.test_programs import (
    batch,
    enroll,
    enrolled_person,
    item,
    new_program,
    person,
)

pytestmark = pytest.mark.integration


async def written(db: AsyncEngine, pid: str, vid: str) -> dict[str, Any]:
    """What the batches wrote for one person in one program: supports, timeline entries and
    events (with the status each carries), and the person's status and version."""
    async with db.connect() as conn:
        supports = (
            await conn.execute(
                text(
                    "SELECT external_id FROM victim_support.supports "
                    "WHERE program_id = :p AND victim_id = :v ORDER BY external_id"
                ),
                {"p": pid, "v": vid},
            )
        ).scalars()
        steps = (
            await conn.execute(
                text(
                    "SELECT from_status, to_status, details->>'amount_vnd' "
                    "FROM victim_support.victim_events WHERE victim_id = :v AND action = 'support' "
                    "AND details->>'program_id' = :p ORDER BY at, id"
                ),
                {"p": pid, "v": vid},
            )
        ).all()
        events = await conn.execute(
            text(
                "SELECT count(*) FROM victim_support.outbox "
                "WHERE key = :v AND type = 'vn.ctip.victim_support.victim.supported.v1'"
            ),
            {"v": vid},
        )
        person = (
            await conn.execute(
                text("SELECT status, version FROM victim_support.victims WHERE id = :v"),
                {"v": vid},
            )
        ).one()
        return {
            "supports": list(supports),
            "steps": [tuple(s) for s in steps],
            "events": events.scalar_one(),
            "status": person.status,
            "version": person.version,
        }


async def test_a_mixed_batch_answers_item_by_item_and_writes_one_row_per_table_per_delivery(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    other_org = new_org()
    other_pid = await new_program(victim_support, other_org)
    a = await enrolled_person(victim_support, pid, org)
    presumed = await enrolled_person(victim_support, pid, org, identified=False)
    # Named by the NGO's own reference given at enrollment.
    far = await person(victim_support, org)
    assert (await enroll(victim_support, pid, org, far, "far-ref")).status_code == 201
    # Enrolled in another organisation's program only (out of this NGO's reach).
    elsewhere = await enrolled_person(victim_support, other_pid, other_org)
    before = {v: await written(db, pid, v) for v in (a, presumed, far)}
    audit_before = await scalar(db, "SELECT count(*) FROM victim_support.audit_log")
    earlier = await batch(victim_support, pid, org, [item(a, "prev-1")])
    assert earlier.json()["created"] == 1
    items: list[Any] = [
        item(a, "n-1", amount_vnd=1),
        item(a, "n-1", amount_vnd=1),  # the same delivery twice in one batch
        item(a, "n-1", amount_vnd=2),  # the same external_id, other content
        item(a, "prev-1"),  # recorded by an earlier batch
        item(a, "prev-1", type="schooling"),
        {
            "external_id": "far-1",
            "person_external_id": "far-ref",
            "type": "medical",
            "amount_vnd": 3,
            "delivered_on": item(a, "x")["delivered_on"],
        },
        item(elsewhere, "elsewhere-1"),
        item(str(uuid.uuid4()), "nobody-1"),
        item(presumed, "presumed-1", type="schooling"),  # not entitled while presumed
        item(presumed, "presumed-2", type="medical", amount_vnd=4),
        {"external_id": "bad-amount", "victim_id": a, "type": "medical", "amount_vnd": -1},
        "not an object",
        item(a, "n-2", amount_vnd=5),
    ]
    response = await batch(victim_support, pid, org, items)
    assert response.status_code == 207, response.text
    body = response.json()
    results = body["results"]
    assert [(r["index"], r["external_id"], r["status"]) for r in results] == [
        (0, "n-1", "created"),
        (1, "n-1", "duplicate"),
        (2, "n-1", "conflict"),
        (3, "prev-1", "duplicate"),
        (4, "prev-1", "conflict"),
        (5, "far-1", "created"),
        (6, "elsewhere-1", "rejected"),
        (7, "nobody-1", "rejected"),
        (8, "presumed-1", "rejected"),
        (9, "presumed-2", "created"),
        (10, "bad-amount", "rejected"),
        (11, None, "rejected"),
        (12, "n-2", "created"),
    ]
    assert (body["created"], body["duplicate"], body["conflict"], body["rejected"]) == (4, 2, 2, 5)
    assert results[1]["support_id"] == results[2]["support_id"] == results[0]["support_id"]
    assert results[3]["support_id"] == earlier.json()["results"][0]["support_id"]
    assert [e["field"] for e in results[2]["errors"]] == ["amount_vnd"]
    assert [e["field"] for e in results[4]["errors"]] == ["type"]
    assert {r["version"] for r in results if r["support_id"]} == {1}
    assert [results[i]["errors"][0]["field"] for i in (6, 7, 8, 10)] == [
        "victim_id",
        "victim_id",
        "type",
        "amount_vnd",
    ]
    assert "Art. 37" in results[8]["errors"][0]["message"]

    after = {v: await written(db, pid, v) for v in (a, presumed, far)}
    assert after[a]["supports"] == ["n-1", "n-2", "prev-1"]
    # One step and one event per delivery created; the person moved once per delivery.
    assert after[a]["steps"] == [
        ("identified", "supported", "200000"),
        ("supported", "supported", "1"),
        ("supported", "supported", "5"),
    ]
    assert after[a]["events"] - before[a]["events"] == 3
    assert (after[a]["status"], after[a]["version"]) == ("supported", before[a]["version"] + 3)
    assert after[presumed]["steps"] == [("under_verification", "under_verification", "4")]
    assert after[presumed]["events"] - before[presumed]["events"] == 1
    assert after[presumed]["version"] == before[presumed]["version"] + 1
    assert after[far]["supports"] == ["far-1"]
    assert after[far]["steps"] == [("identified", "supported", "3")]
    assert after[far]["events"] - before[far]["events"] == 1
    nothing = await written(db, pid, elsewhere)
    assert (nothing["supports"], nothing["steps"]) == ([], [])
    # As before: a batch writes no audit entry (it reads no personal data back).
    assert await scalar(db, "SELECT count(*) FROM victim_support.audit_log") == audit_before
    # The person's record shows what the timeline says.
    assert (await read(victim_support, a))["status"] == "supported"


async def test_a_batch_sent_again_writes_nothing_more(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await new_program(victim_support, org)
    people = [await enrolled_person(victim_support, pid, org) for _ in range(3)]
    items = [item(people[i % 3], f"r-{i}", amount_vnd=i + 1) for i in range(9)]
    first = (await batch(victim_support, pid, org, items)).json()
    once = {v: await written(db, pid, v) for v in people}
    again = (await batch(victim_support, pid, org, items)).json()
    assert (first["created"], again["created"], again["duplicate"]) == (9, 0, 9)
    assert [r["support_id"] for r in again["results"]] == [
        r["support_id"] for r in first["results"]
    ]
    assert {v: await written(db, pid, v) for v in people} == once
    assert all(len(w["steps"]) == w["events"] == 3 for w in once.values())


async def test_batches_racing_on_the_same_external_ids_write_each_delivery_once(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """Four batches at once, each for a person of its own, all reusing the same ten
    ``external_id``s (a client's numbering mistake) beside one of their own: each shared
    external_id is one support whichever batch won it; the others answer ``conflict`` naming
    the person, keep their own item, and wrote no step or event for what they lost."""
    org = new_org()
    pid = await new_program(victim_support, org)
    people = [await enrolled_person(victim_support, pid, org) for _ in range(4)]
    shared = [f"shared-{i}" for i in range(10)]
    responses = await asyncio.gather(
        *(
            batch(
                victim_support,
                pid,
                org,
                [*(item(vid, e) for e in shared), item(vid, f"own-{n}")],
            )
            for n, vid in enumerate(people)
        )
    )
    assert [r.status_code for r in responses] == [207] * 4, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    for body in bodies:
        assert body["results"][-1]["status"] == "created", body
        assert body["rejected"] == 0 and body["duplicate"] == 0
        for result in body["results"][:-1]:
            if result["status"] == "conflict":
                assert [e["field"] for e in result["errors"]] == ["victim_id"]
    created = [
        (n, r["external_id"], r["support_id"])
        for n, body in enumerate(bodies)
        for r in body["results"][:-1]
        if r["status"] == "created"
    ]
    assert sorted(e for _, e, _ in created) == shared
    winners = {e: s for _, e, s in created}
    for body in bodies:
        for r in body["results"][:-1]:
            assert r["support_id"] == winners[r["external_id"]]
    count = await scalar(
        db, "SELECT count(*) FROM victim_support.supports WHERE program_id = :p", p=pid
    )
    assert count == 14
    for n, vid in enumerate(people):
        mine = sum(1 for m, _, _ in created if m == n) + 1
        w = await written(db, pid, vid)
        assert len(w["supports"]) == len(w["steps"]) == w["events"] == mine


async def test_batches_naming_shared_external_ids_in_opposite_orders_both_answer(
    victim_support: httpx.AsyncClient,
) -> None:
    """Each batch holds the external_ids it inserted until it commits: were they inserted in
    the order the items came, two batches in opposite orders would each wait for the other
    (a deadlock, one of them failing). They are inserted in one order, so one waits."""
    org = new_org()
    pid = await new_program(victim_support, org)
    a, b = [await enrolled_person(victim_support, pid, org) for _ in range(2)]
    for attempt in range(5):
        shared = [f"o{attempt}-{i:03d}" for i in range(400)]
        first, second = await asyncio.gather(
            batch(victim_support, pid, org, [item(a, e) for e in shared]),
            batch(victim_support, pid, org, [item(b, e) for e in reversed(shared)]),
        )
        assert (first.status_code, second.status_code) == (207, 207), (first.text, second.text)
        assert first.json()["created"] + second.json()["created"] == len(shared)
        assert first.json()["conflict"] + second.json()["conflict"] == len(shared)
