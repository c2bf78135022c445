"""Faults under a steady stream of requests (20 a second for 20 seconds), then the count: every
acknowledged request has its effects downstream exactly once, and nothing was dead-lettered.

* the Kafka broker is killed with SIGKILL and started again with ``kafka.sh start``;
* casework's worker (relay and consumers, its own process) is killed with SIGKILL mid-stream,
  twice, and started again;
* PostgreSQL is restarted (``postgres.sh restart``): requests fail while it is down, and that
  is fine as long as none was acknowledged without being kept;
* the partner's endpoint answers 503 for 15 s and then is not there at all for 15 s.

Everything runs on the suite's own stack (``conftest.py``); the checks are over the whole of it,
so each test also re-checks what the ones before it left behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.faults.conftest import PARTNER, REPORTS, System
from tests.faults.load import Census, Ledger, Stream, census, dead_letters

pytestmark = pytest.mark.faults

RATE, SECONDS = 20.0, 20.0
CONVERGE_SECONDS = 150.0


async def at(seconds: float, action: Callable[[], Awaitable[Any]]) -> None:
    await asyncio.sleep(seconds)
    await action()


async def settle(system: System, timeout: float = CONVERGE_SECONDS) -> Census:
    """Wait until every effect is downstream (or the time is up), then count once more."""
    deadline = time.monotonic() + timeout
    found = await census(system.engine, system.partner, PARTNER)
    while not found.converged and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        try:
            found = await census(system.engine, system.partner, PARTNER)
        except Exception:  # noqa: S112 - the database may still be coming back
            continue
    return found


async def check(system: System, ledger: Ledger, fault: str, took: float) -> None:
    found = await settle(system)
    dlt = await dead_letters(system.stack.kafka_bootstrap, system.prefix)
    tips = {
        str(r[0]): r[1]
        for r in await _rows(system, "SELECT id, verification_outcome FROM intake.tips")
    }
    missing = {str(r[0]) for r in await _rows(system, "SELECT id FROM intake.missing_persons")}
    report = {
        "fault": fault,
        "stream_seconds": round(took, 1),
        **ledger.summary(),
        **found.counts,
        "dlt_topics_read": len(dlt),
        "dead_letters": {t: len(v) for t, v in dlt.items() if v},
        "problems": {k: len(v) for k, v in found.problems.items() if v},
    }
    REPORTS.append(report)

    assert ledger.tips, "the stream got nothing through"
    assert ledger.tips <= set(tips), "an acknowledged tip was not kept"
    assert {t for t in ledger.substantiated if tips[t] != "substantiated"} == set()
    assert ledger.missing <= missing, "an acknowledged missing-person report was not kept"
    assert {k: v[:5] for k, v in found.problems.items() if v} == {}
    assert dlt, "no .dlt topic of this run was found: the DLT check would prove nothing"
    assert {t: v[:5] for t, v in dlt.items() if v} == {}


async def _rows(system: System, sql: str) -> list[Any]:
    from sqlalchemy import text

    async with system.engine.connect() as conn:
        return list(await conn.execute(text(sql)))


async def stream_with(system: System, *faults: Awaitable[Any]) -> tuple[Ledger, float]:
    ledger = Ledger()
    started = time.monotonic()
    stream = Stream(system.intake_url, system.officer, ledger)
    await asyncio.gather(stream.run(rate=RATE, seconds=SECONDS), *faults)
    return ledger, time.monotonic() - started


async def test_kill_9_of_the_kafka_broker_loses_and_doubles_nothing(system: System) -> None:
    stack = system.stack

    async def kill() -> None:
        stack.kill_kafka()

    async def restart() -> None:
        await asyncio.to_thread(stack.script, "kafka.sh", "start")

    ledger, took = await stream_with(system, at(4, kill), at(10, restart))
    await check(system, ledger, "kafka kill -9", took)


async def test_kill_9_of_caseworks_worker_mid_batch_loses_and_doubles_nothing(
    system: System,
) -> None:
    worker = system.casework

    async def kill_and_restart(after: float) -> None:
        await asyncio.sleep(after)
        await asyncio.to_thread(worker.kill)
        await asyncio.sleep(2)
        worker.start()

    ledger, took = await stream_with(system, kill_and_restart(5), kill_and_restart(13))
    assert worker.kills == 2
    await check(system, ledger, "casework worker kill -9 (x2)", took)


@pytest.fixture(scope="module")
async def postgres_restart(system: System) -> tuple[Ledger, float]:
    """The stream through one PostgreSQL restart, run once for the tests that examine it, by
    whichever of them comes first: neither depends on the other having run."""

    async def restart() -> None:
        await asyncio.to_thread(system.stack.script, "postgres.sh", "restart")

    return await stream_with(system, at(6, restart))


async def test_a_postgres_restart_acknowledges_only_what_it_kept(
    system: System, postgres_restart: tuple[Ledger, float]
) -> None:
    ledger, took = postgres_restart
    assert ledger.failed, "the restart should have refused some requests"
    await check(system, ledger, "postgres restart", took)


async def test_a_partner_down_for_30_seconds_gets_every_alert_once_it_is_back(
    system: System,
) -> None:
    partner = system.partner

    async def outage() -> None:
        await asyncio.sleep(1)
        partner.answer = 503
        await asyncio.sleep(15)
        await partner.stop()
        await asyncio.sleep(15)
        partner.answer = 200
        await partner.start()

    ledger, took = await stream_with(system, outage())
    refused = [h for h in partner.hits if h.status == 503]
    assert refused, "the partner was asked while it answered 503"
    await check(system, ledger, "partner 503 then down, 30 s", took)


def test_requests_refused_while_postgres_restarts_are_503_not_500(
    postgres_restart: tuple[Ledger, float],
) -> None:
    ledger, _ = postgres_restart
    assert any(k.endswith(":503") for k in ledger.failed), ledger.failed
    assert sorted(k for k in ledger.failed if k.endswith(":500")) == []
