"""Intake's findings of the security review (issue 13), one pinned behaviour per test.

* High 1: receipt codes travel in request bodies, never in URLs or logs.
* Medium 7: receipt rate limits shared through PostgreSQL, IPv6 keyed by /64, a right code never
  refused because of other clients.
* Medium 4: tips without a ward go to the configured triage province only.
* Medium 8: a missing-person report from the public is alerted only once an officer publishes it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake import service
from services.intake.settings import IntakeSettings
from tests.integration.intake.conftest import Auth, auth, intake_settings  # noqa: F401 (fixtures)
from tests.integration.intake.support import (
    CLASSIFICATION,
    HAI_BA_TRUNG,
    VUNG_TAU,
    add_message,
    clients,
    file_tip,
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


# Medium 7: receipt limits shared in PostgreSQL, IPv6 by /64, right codes always through ----------


@pytest.fixture
def limited(settings_for: Callable[..., Any]) -> IntakeSettings:
    """3 wrong codes a client, 10 for everyone before wrong answers slow down (at most 0.5 s)."""
    settings: IntakeSettings = settings_for(
        IntakeSettings,
        receipt_failures_per_client=3,
        receipt_failures_global=10,
        receipt_slowdown_max_seconds=0.5,
        run_relay=False,
        run_consumers=False,
    )
    return settings


class Sleeps:
    """Stands in for ``asyncio.sleep`` in the limits: records the delays asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def record_sleeps(client: httpx.AsyncClient) -> Sleeps:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    sleeps = Sleeps()
    transport.app.state.intake_limits.sleep = sleeps  # type: ignore[attr-defined]
    return sleeps


async def test_under_a_guessing_flood_a_right_code_from_a_new_client_gets_through(
    limited: IntakeSettings,
) -> None:
    addresses = [fresh_address() for _ in range(12)]
    async with clients(limited, *addresses, fresh_address()) as (*guessers, reporter):
        code = (await reporter.post("/v1/tips", json=tip_body())).json()["receipt_code"]
        sleeps = record_sleeps(reporter)
        for n, guesser in enumerate(guessers):
            for guess in range(3):
                assert (await lookup(guesser, f"{n:08d}{guess:08d}")).status_code == 404
        flood_delays = list(sleeps.delays)
        sleeps.delays.clear()
        found = await lookup(reporter, code)
        written = await add_message(reporter, code, "still here")
        right_code_delays = list(sleeps.delays)
        wrong = await lookup(reporter, "9" * 16)
    assert (found.status_code, written.status_code) == (200, 201)
    assert right_code_delays == []
    # Beyond 10 failures in the window (all tests of the session share the global count), each
    # wrong answer waits, longer as failures grow, and never longer than the bound.
    assert flood_delays == sorted(flood_delays)
    assert flood_delays[0] < flood_delays[-1] == 0.5
    assert wrong.status_code == 404
    assert sleeps.delays == [0.5]


async def test_a_client_that_keeps_failing_is_still_refused_even_with_the_right_code(
    limited: IntakeSettings,
) -> None:
    async with clients(limited, fresh_address()) as (guesser,):
        code = (await guesser.post("/v1/tips", json=tip_body())).json()["receipt_code"]
        for guess in range(3):
            assert (await lookup(guesser, f"{guess:016d}")).status_code == 404
        refused = await lookup(guesser, code)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= limited.receipt_window_seconds + 1


async def test_two_app_instances_share_one_budget(limited: IntakeSettings) -> None:
    address = fresh_address()
    async with (
        clients(limited, address) as (first,),
        clients(limited, address) as (second,),
    ):
        for guess in range(2):
            assert (await lookup(first, f"{guess:016d}")).status_code == 404
        assert (await lookup(second, "0000000000000002")).status_code == 404
        assert (await lookup(first, "0000000000000003")).status_code == 429
        assert (await lookup(second, "0000000000000003")).status_code == 429


async def test_two_ipv6_addresses_in_one_slash_64_share_a_budget(limited: IntakeSettings) -> None:
    net = f"2001:db8:{secrets.randbelow(1 << 16):x}:{secrets.randbelow(1 << 16):x}"
    other_net = f"2001:db8:{secrets.randbelow(1 << 16):x}:ffff"
    async with clients(limited, f"{net}::1", f"{net}:1:2:3:4", f"{other_net}::1") as (
        one,
        same_net,
        elsewhere,
    ):
        for guess in range(3):
            assert (await lookup(one, f"{guess:016d}")).status_code == 404
        assert (await lookup(same_net, "0000000000000004")).status_code == 429
        assert (await lookup(elsewhere, "0000000000000004")).status_code == 404


async def test_the_limits_table_holds_no_address_and_forgets_expired_windows(
    limited: IntakeSettings, db: AsyncEngine
) -> None:
    address = fresh_address()
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO intake.rate_limits (bucket, client, hits, expires_at)"
                " VALUES ('receipt', 'expired-window', 9, now() - interval '1 second')"
            )
        )
    async with clients(limited, address) as (guesser,):
        assert (await lookup(guesser, "0000000000000005")).status_code == 404
    async with db.connect() as conn:
        rows = (await conn.execute(text("SELECT r::text AS row FROM intake.rate_limits r"))).all()
    assert rows
    assert not any(address in row.row for row in rows)
    assert not any("expired-window" in row.row for row in rows)


# Medium 4: unlocated tips go to the triage province only ----------------------------------------


async def test_an_unlocated_tip_and_its_reporter_are_hidden_from_officers_outside_triage(
    intake: httpx.AsyncClient, auth: Auth
) -> None:
    tip = await file_tip(intake, incident_ward_code=None, reporter={"phone": "0912 345 678"})
    for outsider in (auth("intake_officer", "79"), auth("intake_officer", HAI_BA_TRUNG)):
        read = await intake.get(f"/v1/tips/{tip['id']}", headers=outsider)
        listed = (await intake.get("/v1/tips", params={"limit": 200}, headers=outsider)).json()
        acted = await intake.post(
            f"/v1/tips/{tip['id']}/classification", json=CLASSIFICATION, headers=outsider
        )
        assert read.status_code == 404
        assert "0912" not in read.text
        assert tip["id"] not in [t["id"] for t in listed["items"]]
        assert acted.status_code == 403


async def test_an_unlocated_tip_is_in_the_triage_provinces_queue(
    intake: httpx.AsyncClient, auth: Auth
) -> None:
    tip = await file_tip(intake, incident_ward_code=None, reporter={"phone": "0912 345 678"})
    triage = auth("intake_officer", "01")
    read = await intake.get(f"/v1/tips/{tip['id']}", headers=triage)
    assert read.status_code == 200
    assert read.json()["reporter"]["phone"] is not None
    listed = (await intake.get("/v1/tips", params={"limit": 200}, headers=triage)).json()
    assert tip["id"] in [t["id"] for t in listed["items"]]


async def test_triage_places_a_tip_in_its_province_and_it_leaves_the_queue(
    intake: httpx.AsyncClient, auth: Auth
) -> None:
    tip = await file_tip(intake, incident_ward_code=None)
    triage, there = auth("intake_officer", "01"), auth("intake_officer", "79")
    placed = await intake.post(
        f"/v1/tips/{tip['id']}/classification",
        json={**CLASSIFICATION, "incident_ward_code": VUNG_TAU},
        headers=triage,
    )
    assert placed.status_code == 200, placed.text
    assert (await intake.get(f"/v1/tips/{tip['id']}", headers=there)).status_code == 200
    assert (await intake.get(f"/v1/tips/{tip['id']}", headers=triage)).status_code == 404


async def test_figures_count_unlocated_tips_in_the_triage_province_only(
    intake: httpx.AsyncClient, auth: Auth
) -> None:
    async def received(jurisdiction: str) -> int:
        kpis = await intake.get("/v1/kpis", headers=auth("supervisor", jurisdiction))
        count: int = kpis.json()["tips_received"]
        return count

    before = {p: await received(p) for p in ("01", "79")}
    await file_tip(intake, incident_ward_code=None)
    after = {p: await received(p) for p in ("01", "79")}
    assert (after["01"] - before["01"], after["79"] - before["79"]) == (1, 0)


def test_production_refuses_to_start_without_a_triage_province() -> None:
    settings = IntakeSettings(environment="production", triage_province="")
    with pytest.raises(RuntimeError, match="CTIP_INTAKE_TRIAGE_PROVINCE"):
        settings.check_production()


def test_the_triage_province_must_be_a_province_code() -> None:
    with pytest.raises(ValidationError, match="triage_province"):
        IntakeSettings(triage_province=HAI_BA_TRUNG)
    assert IntakeSettings(triage_province="79").triage_province == "79"
    assert IntakeSettings(environment="test").triage_province == "01"
