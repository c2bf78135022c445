"""``POST /v1/deliveries/replay``: failed deliveries sent again in bulk after an outage, narrowed
by partner, alert type and when they failed, at most ``limit`` (oldest failure first); a second
call replays nothing twice; disabled partners' deliveries are left and counted; admins only;
audited; bad filters are RFC 9457 problems."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.interagency.conftest import Register
from tests.integration.interagency.support import Receiver
from tests.integration.interagency.test_deliveries import send_bulletin, status_is
from tests.support import eventually

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
TYPES = ["situation_bulletin", "suspect_alert"]


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


async def fail(db: AsyncEngine, alert_id: str, failed_at: datetime) -> None:
    """The alert's deliveries as the schedule leaves them when exhausted: failed, at that time."""
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE interagency.deliveries SET status = 'failed', failed_at = :at,"
                " attempts = 4 WHERE alert_id = :a"
            ),
            {"at": failed_at, "a": alert_id},
        )


async def suspect_alert(client: httpx.AsyncClient, headers: dict[str, str], code: str) -> str:
    response = await client.post(
        "/v1/alerts",
        json={
            "data": {"alert_type": "suspect_alert", "full_name": "Synthetic Broker"},
            "partner_codes": [code],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def delivery_ids(db: AsyncEngine, alert_id: str, code: str) -> str:
    async with db.connect() as conn:
        row = await conn.execute(
            text("SELECT id FROM interagency.deliveries WHERE alert_id = :a AND partner_code = :c"),
            {"a": alert_id, "c": code},
        )
        return str(row.scalar_one())


async def replay(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/v1/deliveries/replay", json=body, headers=headers)


async def test_filters_limit_and_a_second_call_replaying_nothing(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    admin: dict[str, str],
    auth: Any,
    register: Register,
    receiver: Receiver,
    db: AsyncEngine,
) -> None:
    one = await register(alert_types=TYPES)
    two = await register(alert_types=TYPES)
    await receiver.stop()  # the outage
    b1, b2, b3 = [
        await send_bulletin(interagency, officer, one.code, two.code, title=f"Bulletin {i}")
        for i in (1, 2, 3)
    ]
    s1 = await suspect_alert(interagency, auth("investigator", "01"), one.code)
    for alert_id, hours in ((b1, 3), (b2, 2), (b3, 1), (s1, 1)):
        await fail(db, alert_id, ago(hours))
    await receiver.start()  # the partners are back

    # By alert type (and partner, so no other test's deliveries are taken).
    by_type = await replay(interagency, admin, partner_code=one.code, alert_type="suspect_alert")
    assert by_type.status_code == 200, by_type.text
    assert by_type.json() == {
        "requeued": 1,
        "ids": [await delivery_ids(db, s1, one.code)],
        "left_at_disabled_partners": 0,
        "more_may_match": False,
    }
    # By when they failed: [2.5 h ago, 1.5 h ago) at partner two is bulletin 2 alone.
    window = {"failed_from": ago(2.5).isoformat(), "failed_to": ago(1.5).isoformat()}
    by_time = (await replay(interagency, admin, partner_code=two.code, **window)).json()
    assert by_time["ids"] == [await delivery_ids(db, b2, two.code)]
    assert by_time["more_may_match"] is False
    # A limit takes the oldest failure first and says that more match.
    limited = (await replay(interagency, admin, partner_code=one.code, limit=1)).json()
    assert limited["ids"] == [await delivery_ids(db, b1, one.code)]
    assert limited["requeued"] == 1 and limited["more_may_match"] is True

    for alert_id, code in ((s1, one.code), (b2, two.code), (b1, one.code)):
        await eventually(status_is(interagency, officer, alert_id, code, "delivered"))
    # Again: nothing already replayed is taken a second time.
    again = (await replay(interagency, admin, partner_code=two.code, **window)).json()
    assert again == {
        "requeued": 0,
        "ids": [],
        "left_at_disabled_partners": 0,
        "more_may_match": False,
    }
    assert (await replay(interagency, admin, partner_code=one.code, limit=1)).json()["ids"] == [
        await delivery_ids(db, b2, one.code)
    ]
    await eventually(status_is(interagency, officer, b2, one.code, "delivered"))
    delivered = Counter(r.webhook_id for r in receiver.received if r.answered == 200)
    assert len(delivered) == 4 and set(delivered.values()) == {1}
    left = {(b3, one.code), (b1, two.code), (b3, two.code)}
    for alert_id, code in left:
        record = await interagency.get(f"/v1/alerts/{alert_id}", headers=officer)
        (d,) = [d for d in record.json()["deliveries"] if d["partner_code"] == code]
        assert d["status"] == "failed" and d["replays"] == 0


async def test_a_disabled_partners_deliveries_are_left_and_counted_and_the_call_audited(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    admin: dict[str, str],
    register: Register,
    receiver: Receiver,
    db: AsyncEngine,
) -> None:
    started = datetime.now(UTC)
    partner = await register(alert_types=TYPES)
    await receiver.stop()
    alerts = [
        await send_bulletin(interagency, officer, partner.code, title=f"Bulletin {i}")
        for i in range(3)
    ]
    for alert_id in alerts:
        await fail(db, alert_id, ago(1))
    disabled = await interagency.post(f"/v1/partners/{partner.code}/disable", headers=admin)
    assert disabled.status_code == 200
    await receiver.start()

    answer = (await replay(interagency, admin, partner_code=partner.code)).json()
    assert answer == {
        "requeued": 0,
        "ids": [],
        "left_at_disabled_partners": 3,
        "more_may_match": False,
    }
    enabled = await interagency.post(f"/v1/partners/{partner.code}/enable", headers=admin)
    assert enabled.status_code == 200
    answer = (await replay(interagency, admin, partner_code=partner.code)).json()
    assert answer["requeued"] == 3 and answer["left_at_disabled_partners"] == 0
    for alert_id in alerts:
        await eventually(status_is(interagency, officer, alert_id, partner.code, "delivered"))

    async with db.connect() as conn:
        audit = (
            await conn.execute(
                text(
                    "SELECT action, record_type, record_id, purpose, details"
                    " FROM interagency.audit_log WHERE action = 'delivery.replay_bulk'"
                    " AND record_id = :c AND at >= :t ORDER BY seq"
                ),
                {"c": partner.code, "t": started},
            )
        ).all()
    assert [(a, t, p) for a, t, _, p, _ in audit] == [
        ("delivery.replay_bulk", "delivery", "delivery recovery"),
        ("delivery.replay_bulk", "delivery", "delivery recovery"),
    ]
    first, second = (row[4] for row in audit)
    assert first["filters"] == {"partner_code": partner.code, "status": "failed", "limit": 1000}
    assert (first["requeued"], first["ids"], first["left_at_disabled_partners"]) == (0, [], 3)
    assert second["requeued"] == 3 and sorted(second["ids"]) == sorted(answer["ids"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"status": "delivered"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"partner_code": "ab"}, "partner_code"),
        ({"partner_code": "00"}, "partner_code"),
        ({"alert_type": "gossip"}, "alert_type"),
        ({"failed_from": "2026-12-01T00:00:00"}, "failed_from"),  # no offset
        ({"failed_to": "yesterday"}, "failed_to"),
        (
            {"failed_from": "2026-12-02T00:00:00Z", "failed_to": "2026-12-01T00:00:00Z"},
            "failed_to",
        ),
        ({"failed_from": "2026-12-01T00:00:00Z", "failed_to": "2026-12-01T00:00:00Z"}, "failed_to"),
        ({"ids": ["x"]}, "ids"),
    ],
)
async def test_bad_filters_are_problems_naming_the_field(
    interagency: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await replay(interagency, admin, **body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert field in {e["field"] for e in problem["errors"]}, problem


@pytest.mark.parametrize(
    ("role", "jurisdiction", "status"),
    [
        ("intake_officer", "01", 403),
        ("investigator", "01", 403),
        ("supervisor", "01", 403),
        ("auditor", "01", 403),
        (None, None, 401),
    ],
)
async def test_only_an_administrator_replays(
    interagency: httpx.AsyncClient,
    auth: Any,
    role: str | None,
    jurisdiction: str | None,
    status: int,
) -> None:
    headers = auth(role, jurisdiction) if role else {}
    response = await replay(interagency, headers, failed_to="2000-01-01T00:00:00Z")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
