"""Intake's findings of the security review (issue 13), one pinned behaviour per test.

* High 1: receipt codes travel in request bodies, never in URLs or logs.
* Medium 7: receipt rate limits shared through PostgreSQL, IPv6 keyed by /64, a right code never
  refused because of other clients.
* Medium 4: tips without a ward go to the configured triage province only.
* Medium 8: a missing-person report from the public is alerted only once an officer publishes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake import service
from services.intake.settings import IntakeSettings
from tests.integration.intake.support import (
    add_message,
    clients,
    fresh_address,
    lookup,
    tip_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.security]


@pytest.fixture
def quiet(settings_for: Callable[..., Any]) -> IntakeSettings:
    """Intake without relay or consumers: these tests look at HTTP, logs and tables only."""
    settings: IntakeSettings = settings_for(IntakeSettings, run_relay=False, run_consumers=False)
    return settings


# High 1: the receipt code leaves the URL ----------------------------------------------------------


async def test_a_receipt_is_looked_up_and_written_to_with_the_code_in_the_body(
    quiet: IntakeSettings,
) -> None:
    async with clients(quiet, fresh_address()) as (reporter,):
        code = (await reporter.post("/v1/tips", json=tip_body())).json()["receipt_code"]
        added = await add_message(reporter, code, "The van was white.")
        view = await lookup(reporter, code)
    assert added.status_code == 201, added.text
    assert view.status_code == 200, view.text
    assert view.headers["cache-control"] == "no-store"
    assert [m["body"] for m in view.json()["messages"]] == ["The van was white."]


async def test_the_old_receipt_paths_with_the_code_in_the_url_are_gone(
    quiet: IntakeSettings,
) -> None:
    async with clients(quiet, fresh_address()) as (reporter,):
        code = (await reporter.post("/v1/tips", json=tip_body())).json()["receipt_code"]
        read = await reporter.get(f"/v1/receipts/{code}")
        written = await reporter.post(f"/v1/receipts/{code}/messages", json={"body": "hello"})
    assert (read.status_code, written.status_code) == (404, 404)


async def test_a_wrong_code_in_the_body_is_a_404_problem(quiet: IntakeSettings) -> None:
    async with clients(quiet, fresh_address()) as (guesser,):
        read = await lookup(guesser, "0000000000000000")
        written = await add_message(guesser, "0000000000000000", "hello")
    assert (read.status_code, written.status_code) == (404, 404)
    assert read.headers["content-type"] == "application/problem+json"
    assert read.json()["instance"] == "/v1/receipts/lookup"


async def test_no_log_line_holds_a_receipt_code_even_on_a_500(
    quiet: IntakeSettings,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service's JSON log lines (stdout) and anything else logged, through a 500 too."""
    caplog.set_level(logging.DEBUG)
    async with clients(quiet, fresh_address(), raise_app_exceptions=False) as (reporter,):
        code = (await reporter.post("/v1/tips", json=tip_body())).json()["receipt_code"]
        await lookup(reporter, code)
        await add_message(reporter, code, "more", {"Idempotency-Key": "log-check-1"})
        await lookup(reporter, code[::-1])

        async def broken(*args: Any) -> None:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(service, "receipt_view", broken)
        crashed = await lookup(reporter, code)
    logged = caplog.text + "".join(capfd.readouterr())
    assert crashed.status_code == 500
    assert code not in crashed.text
    assert "unhandled error" in logged
    assert code not in logged
    assert code[::-1] not in logged


async def test_the_message_idempotency_scope_is_per_receipt_and_holds_no_code(
    quiet: IntakeSettings, db: AsyncEngine
) -> None:
    """Two reporters who happen to send the same Idempotency-Key and text each get their own
    message: the scope is the receipt's keyed hash, so one never replays the other's."""
    async with clients(quiet, fresh_address(), fresh_address()) as (first, second):
        codes = [
            (await c.post("/v1/tips", json=tip_body())).json()["receipt_code"]
            for c in (first, second)
        ]
        key = {"Idempotency-Key": "same-key-by-chance"}
        one = await add_message(first, codes[0], "same words", key)
        two = await add_message(second, codes[1], "same words", key)
        again = await add_message(first, codes[0], "same words", key)
        views = [
            (await lookup(c, code)).json() for c, code in ((first, codes[0]), (second, codes[1]))
        ]
    assert (one.status_code, two.status_code, again.status_code) == (201, 201, 201)
    assert one.json()["id"] != two.json()["id"]
    assert again.json()["id"] == one.json()["id"]
    assert [len(v["messages"]) for v in views] == [1, 1]
    async with db.connect() as conn:
        for table in ("idempotency_keys", "receipts", "messages", "outbox"):
            for code in codes:
                hits = (
                    await conn.execute(
                        text(f"SELECT count(*) FROM intake.{table} t WHERE t::text LIKE :code"),
                        {"code": f"%{code}%"},
                    )
                ).scalar_one()
                assert hits == 0, table
