"""A partner's circuit breaker against a real HTTP partner that fails, then recovers: it opens
after 5 failures in a row, then lets a single probe through once its time is up, doubles the wait
on each failed probe (1, 2, 4, 4 s here: ``CIRCUIT_OPEN``, capped at ``CIRCUIT_MAX_OPEN``), and
closes on the first success. Deliveries that wait behind an open circuit are not attempted: no
attempt is spent, none fails, and each reaches the partner exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.integration.interagency.conftest import CIRCUIT_MAX_OPEN, CIRCUIT_OPEN, Register
from tests.integration.interagency.support import Receiver, Script
from tests.integration.interagency.test_deliveries import send_bulletin, status_is
from tests.support import eventually, scraped

pytestmark = pytest.mark.integration

THRESHOLD = 5
FAILED_PROBES = 4  # waits of 1, 2, 4 and 4 s (the cap) before the probe that succeeds
ALERTS = 10


async def partner(client: httpx.AsyncClient, admin: dict[str, str], code: str) -> dict[str, Any]:
    response = await client.get(f"/v1/partners/{code}", headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def deliveries_to(
    client: httpx.AsyncClient, admin: dict[str, str], code: str
) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/deliveries", params={"partner_code": code, "limit": 100}, headers=admin
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_the_circuit_opens_probes_once_doubles_and_closes(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    admin: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    handle = await register()
    code = handle.code
    assert (await partner(interagency, admin, code))["circuit"] == "closed"
    receiver.scripts[code] = Script(statuses=[503] * (THRESHOLD + FAILED_PROBES))
    alert_ids = [
        await send_bulletin(interagency, officer, code, title=f"Bulletin {i}")
        for i in range(ALERTS)
    ]

    # Five failures in a row: open, with the time of the probe, and the gauge says so.
    async def opened() -> dict[str, Any] | None:
        record = await partner(interagency, admin, code)
        return record if record["circuit"] != "closed" else None

    record = await eventually(opened, timeout=15)
    assert len(receiver.of(code)) >= THRESHOLD
    assert record["circuit"] in ("open", "half_open")
    assert record["circuit_open_until"] is not None

    async def gauge_open() -> bool:
        value = await scraped(interagency, "ctip_partner_circuit", partner=code)
        return value >= 1

    await eventually(gauge_open, timeout=10)

    for alert_id in alert_ids:
        await eventually(status_is(interagency, officer, alert_id, code, "delivered"), timeout=40)

    seen = receiver.of(code)
    answers = [r.answered for r in seen]
    assert answers[: THRESHOLD + FAILED_PROBES] == [503] * (THRESHOLD + FAILED_PROBES)
    assert answers[THRESHOLD + FAILED_PROBES :] == [200] * ALERTS
    # Each opening lets exactly one request through after it, and no sooner than its wait.
    gaps = [seen[i + 1].at - seen[i].at for i in range(THRESHOLD - 1, THRESHOLD + FAILED_PROBES)]
    waits = [min(CIRCUIT_OPEN * 2**n, CIRCUIT_MAX_OPEN) for n in range(FAILED_PROBES + 1)]
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]
    for gap, wait in zip(gaps, waits, strict=True):
        assert gap >= wait - 0.1, (gaps, waits)
    # Every delivery reached the partner exactly once; attempts are the requests made, none
    # more (waiting behind the open circuit spent none) and none failed.
    delivered = Counter(r.webhook_id for r in seen if r.answered == 200)
    assert len(delivered) == ALERTS and set(delivered.values()) == {1}
    listed = await deliveries_to(interagency, admin, code)
    assert {d["status"] for d in listed} == {"delivered"}
    assert sum(d["attempts"] for d in listed) == len(seen)

    closed = await partner(interagency, admin, code)
    assert closed["circuit"] == "closed" and closed["circuit_open_until"] is None

    async def gauge_closed() -> bool:
        return await scraped(interagency, "ctip_partner_circuit", partner=code) == 0

    await eventually(gauge_closed, timeout=10)


async def test_an_open_circuit_holds_back_only_its_own_partner(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    admin: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    down = await register()
    healthy = await register()
    receiver.scripts[down.code] = Script(statuses=[503] * 50)
    for i in range(THRESHOLD + 2):
        await send_bulletin(interagency, officer, down.code, title=f"Bulletin {i}")

    async def is_open() -> bool:
        return (await partner(interagency, admin, down.code))["circuit"] == "open"

    await eventually(is_open, timeout=15)
    alert_id = await send_bulletin(interagency, officer, healthy.code)
    await eventually(status_is(interagency, officer, alert_id, healthy.code, "delivered"))
    assert (await partner(interagency, admin, healthy.code))["circuit"] == "closed"
    assert [r.answered for r in receiver.of(healthy.code)] == [200]
    # The partner that is down: its deliveries wait (pending, not failed), and the attempts
    # recorded are exactly the requests it got, five and then one probe per opening.
    listed = await deliveries_to(interagency, admin, down.code)
    assert len(listed) == THRESHOLD + 2
    assert {d["status"] for d in listed} == {"pending"}
    attempts = sum(d["attempts"] for d in listed)
    assert THRESHOLD <= attempts <= len(receiver.of(down.code))
