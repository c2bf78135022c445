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
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.context import Context
from libs.common.crypto import BlindIndex
from libs.common.events import CloudEvent
from libs.common.platform import platform_of
from libs.common.settings import DEV_INDEX_KEY
from libs.contracts.intake import MissingPersonPublished, MissingPersonReported
from services.intake import receipts
from services.intake.settings import IntakeSettings
from services.interagency.models import metadata as interagency_metadata
from testkit.intake import resident_key
from tests.integration.intake.conftest import (  # noqa: F401 (fixtures)
    Auth,
    auth,
    intake_settings,
    officer,
)
from tests.integration.intake.support import (
    CLASSIFICATION,
    HAI_BA_TRUNG,
    VUNG_TAU,
    add_message,
    clients,
    file_tip,
    fresh_address,
    lookup,
    outbox_events,
    outbox_types,
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
        code = (await file_tip(reporter))["receipt_code"]
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
        code = (await file_tip(reporter))["receipt_code"]
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
        code = (await file_tip(reporter))["receipt_code"]
        await lookup(reporter, code)
        await add_message(reporter, code, "more", resident_key())
        await lookup(reporter, code[::-1])

        async def broken(*args: Any) -> None:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(receipts, "receipt_view", broken)
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
        codes = [(await file_tip(c))["receipt_code"] for c in (first, second)]
        key = resident_key()
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
        code = (await file_tip(reporter))["receipt_code"]
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


async def test_wrong_codes_refusals_and_the_slowdown_are_metrics(limited: IntakeSettings) -> None:
    async with clients(limited, fresh_address()) as (guesser,):
        for guess in range(4):
            await lookup(guesser, f"{guess:016d}")
        metrics = (await guesser.get("/metrics", follow_redirects=True)).text
    for name in (
        "ctip_intake_receipt_failures_total",
        "ctip_intake_receipt_refused_total",
        "ctip_intake_receipt_slowdown_seconds",
    ):
        assert name in metrics


async def test_a_client_that_keeps_failing_is_still_refused_even_with_the_right_code(
    limited: IntakeSettings,
) -> None:
    async with clients(limited, fresh_address()) as (guesser,):
        code = (await file_tip(guesser))["receipt_code"]
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


async def test_the_slash_64s_of_one_ipv6_site_share_a_wider_budget(
    settings_for: Callable[..., Any],
) -> None:
    """A site's /48 holds 65,536 /64s: without a budget of its own, one site would get 65,536
    client budgets."""
    settings: IntakeSettings = settings_for(
        IntakeSettings,
        receipt_failures_per_client=3,
        receipt_failures_per_ipv6_site=4,
        run_relay=False,
        run_consumers=False,
    )
    site = f"2001:db8:{secrets.randbelow(1 << 16):x}"
    async with clients(settings, f"{site}:1::1", f"{site}:2::1", f"{site}:3::1") as (a, b, c):
        for n, client in enumerate((a, a, b, b)):
            assert (await lookup(client, f"{n:016d}")).status_code == 404
        refused = await lookup(c, "0000000000000009")
    assert refused.status_code == 429


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


# Medium 8: a report from the public reaches partners only once an officer publishes it ---------


def missing_report(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": "Giàng Thị Dợ",
        "sex": "female",
        "age": 17,
        "last_seen_at": "2026-10-05T18:00:00+07:00",
        "last_seen_ward_code": HAI_BA_TRUNG,
        "phone": "0912 777 001",
        "distinguishing_marks": "scar on the left hand (synthetic)",
        "circumstances": "left with a cousin (synthetic)",
        "reporter": {"name": "Synthetic Uncle", "phone": "0987 777 002"},
    }
    body.update(overrides)
    return body


async def report_missing(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/missing-persons",
        json=missing_report(**overrides),
        headers={**resident_key(), **(headers or {})},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def review(
    client: httpx.AsyncClient,
    mp_id: str,
    headers: dict[str, str],
    decision: str,
    reason: str | None = None,
    if_match: int | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    extra = {"If-Match": str(if_match)} if if_match is not None else {}
    return await client.post(
        f"/v1/missing-persons/{mp_id}/review", json=body, headers={**headers, **extra}
    )


MP = "vn.ctip.intake.missing_person."


async def test_a_public_report_is_not_published_until_an_officer_reviews_it(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    created = await report_missing(intake)
    assert created["publication"] == "pending"
    assert await outbox_types(db, created["id"]) == [MP + "reported.v1"]
    record = (await intake.get(f"/v1/missing-persons/{created['id']}", headers=officer)).json()
    assert record["publication"] == "pending"

    published = await review(intake, created["id"], officer, "publish", if_match=1)
    assert published.status_code == 200, published.text
    assert (published.json()["publication"], published.json()["version"]) == ("published", 2)
    events = await outbox_events(db, created["id"])
    assert [t for t, _ in events] == [MP + "reported.v1", MP + "published.v1"]
    data = events[-1][1]
    assert data["full_name"] == "Giàng Thị Dợ"
    assert data["distinguishing_marks"] == "scar on the left hand (synthetic)"
    for private in ("Synthetic Uncle", "cousin", "777", "phone"):
        assert private not in str(data)


async def test_a_held_report_says_why_emits_held_and_is_never_published(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    created = await report_missing(intake)
    reason = "the caller's story does not hold; checking with the ward police"
    held = await review(intake, created["id"], officer, "hold", reason)
    assert held.status_code == 200, held.text
    assert held.json()["publication"] == "held"
    events = await outbox_events(db, created["id"])
    assert [t for t, _ in events] == [MP + "reported.v1", MP + "held.v1"]
    assert "police" not in str(events[-1][1])
    record = (await intake.get(f"/v1/missing-persons/{created['id']}", headers=officer)).json()
    assert (record["publication"], record["review_reason"]) == ("held", reason)


async def test_a_hold_needs_a_reason(intake: httpx.AsyncClient, officer: dict[str, str]) -> None:
    created = await report_missing(intake)
    response = await review(intake, created["id"], officer, "hold")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]


async def test_a_held_report_can_be_published_later_but_a_published_one_not_again(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    created = await report_missing(intake)
    assert (await review(intake, created["id"], officer, "hold", "checking")).status_code == 200
    assert (await review(intake, created["id"], officer, "publish")).status_code == 200
    again = await review(intake, created["id"], officer, "publish")
    held = await review(intake, created["id"], officer, "hold", "too late")
    assert (again.status_code, held.status_code) == (409, 409)
    assert "already published" in again.json()["detail"]
    assert (await outbox_types(db, created["id"])).count(MP + "published.v1") == 1


async def test_publishing_a_resolved_report_is_409(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    created = await report_missing(intake)
    resolved = await intake.post(
        f"/v1/missing-persons/{created['id']}/resolution",
        json={"outcome": "found_safe"},
        headers=officer,
    )
    assert resolved.status_code == 200
    response = await review(intake, created["id"], officer, "publish")
    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]
    assert MP + "published.v1" not in await outbox_types(db, created["id"])


async def test_a_stale_review_is_412(intake: httpx.AsyncClient, officer: dict[str, str]) -> None:
    created = await report_missing(intake)
    response = await review(intake, created["id"], officer, "publish", if_match=7)
    assert response.status_code == 412


@pytest.mark.parametrize(
    ("caller", "status"),
    [((), 401), (("investigator", "01"), 403), (("intake_officer", "79"), 403)],
    ids=["anonymous", "investigator", "other-province"],
)
async def test_only_an_intake_officer_of_the_place_reviews(
    intake: httpx.AsyncClient, auth: Auth, caller: tuple[str, ...], status: int
) -> None:
    created = await report_missing(intake)
    response = await review(intake, created["id"], auth(*caller) if caller else {}, "publish")
    assert response.status_code == status


async def test_the_review_is_audited(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    created = await report_missing(intake)
    await review(intake, created["id"], officer, "hold", "checking the caller")
    async with db.connect() as conn:
        actions = (
            await conn.execute(
                text(
                    "SELECT action FROM intake.audit_log"
                    " WHERE record_type = 'missing_person' AND record_id = :id"
                ),
                {"id": created["id"]},
            )
        ).scalars()
        assert list(actions) == ["review.hold"]


async def test_an_officer_filing_with_a_token_may_publish_at_once(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    created = await report_missing(intake, officer, publish=True)
    assert created["publication"] == "published"
    assert await outbox_types(db, created["id"]) == [MP + "reported.v1", MP + "published.v1"]


@pytest.mark.parametrize("caller", [(), ("investigator", "01"), ("intake_officer", "79")], ids=str)
async def test_the_public_and_other_officers_cannot_publish_at_once(
    intake: httpx.AsyncClient, auth: Auth, db: AsyncEngine, caller: tuple[str, ...]
) -> None:
    response = await intake.post(
        "/v1/missing-persons",
        json=missing_report(publish=True),
        headers=(auth(*caller) if caller else resident_key()) | {"accept-language": "en"},
    )
    assert response.status_code == 403
    assert "publish" in response.json()["detail"]


async def test_interagency_alerts_partners_on_published_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Interagency keeps every reported case for matching, and queues the partner alert on
    ``.published`` alone (it alerted on ``.reported`` before)."""
    from services.interagency import consumers, missing_persons
    from services.interagency.settings import InteragencySettings

    queued: list[tuple[Any, dict[str, Any], Any]] = []
    kept: list[Any] = []

    async def upsert(session: Any, values: dict[str, Any], keys: list[int]) -> None:
        kept.append(values["missing_person_id"])

    async def partners(session: Any, alert_type: str) -> list[str]:
        return ["20"]

    async def queue(ctx: Any, kind: Any, data: dict[str, Any], to: Any, subject: Any) -> None:
        queued.append((kind, data, subject))

    monkeypatch.setattr(missing_persons.match_repository, "upsert_missing_person", upsert)
    monkeypatch.setattr(missing_persons.repository, "subscribed_partners", partners)
    monkeypatch.setattr(missing_persons, "queue_alert", queue)
    settings = InteragencySettings(environment="test")
    ctx = Context(
        session=None,  # type: ignore[arg-type]  (the repository is faked)
        principal=None,
        settings=settings,
        platform=platform_of(interagency_metadata),
        index=BlindIndex.from_b64(DEV_INDEX_KEY),
    )
    handlers = consumers.HANDLERS
    mp_id = uuid.uuid4()
    facts: dict[str, Any] = {
        "missing_person_id": mp_id,
        "full_name": "Giàng Thị Dợ",
        "sex": "female",
        "age": 17,
        "last_seen_at": datetime(2026, 10, 5, tzinfo=UTC),
        "last_seen_ward_code": HAI_BA_TRUNG,
        "province_code": "01",
    }
    event = CloudEvent(id=str(uuid.uuid4()), source="/ctip/intake", type="t", subject=str(mp_id))
    reported = MissingPersonReported(**facts, phone="+84912777001", reported_at=datetime.now(UTC))
    await handlers["intake.missing_person.reported"](ctx, event, reported)
    assert (kept, queued) == ([mp_id], [])

    published = MissingPersonPublished(**facts, published_at=datetime.now(UTC))
    await handlers["intake.missing_person.published"](ctx, event, published)
    ((kind, data, subject),) = queued
    assert (kind.value, subject, data["full_name"]) == ("missing_person", mp_id, "Giàng Thị Dợ")
    assert "phone" not in data
