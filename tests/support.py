"""Helpers for integration tests (imported by the tests; fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from libs.common.auth import issue_dev_token
from libs.common.crypto import FieldCipher
from libs.common.jurisdiction import wards_of
from libs.common.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay, consumers) and an HTTP client talking to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 30.0, interval: float = 0.1
) -> T:
    """Poll ``probe`` until it returns a truthy value; fail with the last value on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: T = await probe()
    while not last:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout}s (last value: {last!r})")
        await asyncio.sleep(interval)
        last = await probe()
    return last


def bearer(
    settings: ServiceSettings, role: str, *jurisdiction: str, org: str | None = None
) -> dict[str, str]:
    token = issue_dev_token(settings, roles=[role], jurisdiction=jurisdiction, org=org)
    return {"Authorization": f"Bearer {token}"}


def kafka_ctl(action: str) -> None:
    """Stop or start the local broker with the project's own script (fault injection)."""
    subprocess.run([str(ROOT / "deploy/local/kafka.sh"), action], check=True, timeout=180)


def outbox_event(schema: str, stored: Any) -> dict[str, Any]:
    """An outbox row's ``event`` as read with raw SQL: decrypted (it is encrypted at rest)."""
    if isinstance(stored, dict):
        return stored
    text = str(stored)
    if text.startswith("{"):
        return dict(json.loads(text))
    cipher = FieldCipher.from_spec(ServiceSettings().field_keys.get_secret_value())
    return dict(json.loads(cipher.decrypt(text, f"{schema}.outbox.event")))


async def scraped(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """A counter's value as a Prometheus scraper reads it from ``GET /metrics``."""
    text = (await client.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


# Wards the fixtures and the demo data name on purpose; no test is handed one as its own.
NAMED_WARDS = frozenset({"00256", "00277", "00283", "26506"})
# A Hanoi ward that many tests write to: for a test whose assertions hold whatever else a ward
# holds (a rollup against its recount, a ward in a province's list). Hanoi's ~120 fresh wards run
# short over a whole test session.
SHARED_HANOI_WARD = "00283"
_unused_wards: dict[str, Iterator[str]] = {}


def fresh_ward(province: str = "01") -> str:
    """A ward of ``province`` that nothing else in this test session uses, whichever service's
    tests ask: a token limited to it sees exactly what the test made there."""
    if province not in _unused_wards:
        _unused_wards[province] = iter(
            [w for w in reversed(wards_of(province)) if w not in NAMED_WARDS]
        )
    ward = next(_unused_wards[province], None)
    if ward is None:  # the whole suite draws from one pool per province: Hà Nội's is used up
        raise AssertionError(
            f"every ward of province {province} is taken by an earlier test of this session:"
            " give this test a ward of another province (fresh_ward('79'), '48', '92', ...)"
        )
    return ward


async def partner_counts(client: httpx.AsyncClient, code: str) -> dict[str, float]:
    """A partner's counters, as scraped: deliveries by outcome, and disablings by reason.
    Tests take differences: partner codes come back from test to test within one process."""
    labels = {"partner": code, "service": "interagency"}
    deliveries = "ctip_webhook_deliveries_total"
    disabled = "ctip_partners_disabled_total"
    return {
        **{o: await scraped(client, deliveries, **labels, outcome=o) for o in OUTCOMES},
        **{f"disabled_{r}": await scraped(client, disabled, **labels, reason=r) for r in REASONS},
    }


OUTCOMES = ("delivered", "failed", "gone")
REASONS = ("admin", "gone")
