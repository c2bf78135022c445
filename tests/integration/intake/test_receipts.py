"""The reporter's side: a receipt code shows the status and the messages meant for the reporter,
lets them add information, is never stored in clear, and cannot be guessed at leisure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.settings import IntakeSettings
from testkit.intake import resident_key
from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import (
    add_message,
    classify,
    clients,
    file_tip,
    fresh_address,
    lookup,
    tip_body,
    verify,
)
from tests.support import bearer

pytestmark = pytest.mark.integration

MISSING = {
    "full_name": "Lò Thị Mai",
    "sex": "female",
    "age": 16,
    "last_seen_at": "2026-01-05T18:00:00+07:00",
    "last_seen_ward_code": "00256",
    "reporter": {"name": "Lò Văn Páo", "phone": "0987 654 321"},
}


@pytest.fixture
async def filed(intake: httpx.AsyncClient) -> dict[str, Any]:
    """An anonymous tip, filed without a token as a member of the public would."""
    return await file_tip(intake, reporter={"name": "Hà Thị Lan", "phone": "0912 000 111"})


async def test_a_receipt_shows_the_status_and_no_messages_at_first(
    intake: httpx.AsyncClient, filed: dict[str, Any]
) -> None:
    response = await lookup(intake, filed["receipt_code"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "kind": "tip",
        "status": "received",
        "received_at": response.json()["received_at"],
        "messages": [],
    }


async def test_a_receipt_follows_the_status_of_the_tip(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    await classify(intake, officer, filed["id"])
    assert (await lookup(intake, filed["receipt_code"])).json()["status"] == "triaged"


async def test_a_receipt_shows_the_officers_question_but_never_officer_notes(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    await classify(intake, officer, filed["id"], notes="NOTE: reporter may be the broker")
    await verify(intake, officer, filed["id"], "unsubstantiated", notes="NOTE: no evidence")
    asked = await intake.post(
        f"/v1/tips/{filed['id']}/messages",
        json={"body": "Which village did the van leave from?"},
        headers=officer,
    )
    assert asked.status_code == 201
    assert asked.json()["direction"] == "to_reporter"
    response = await lookup(intake, filed["receipt_code"])
    view = response.json()
    assert view["status"] == "closed"
    assert [(m["direction"], m["body"]) for m in view["messages"]] == [
        ("to_reporter", "Which village did the van leave from?")
    ]
    assert "NOTE" not in response.text
    assert "author" not in view["messages"][0]


async def test_the_reporters_information_reaches_the_officer(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    response = await add_message(
        intake, filed["receipt_code"], "The van left from Bản Phố at 5 in the morning."
    )
    assert response.status_code == 201
    assert response.json()["direction"] == "from_reporter"
    record = (await intake.get(f"/v1/tips/{filed['id']}", headers=officer)).json()
    assert [(m["direction"], m["body"]) for m in record["messages"]] == [
        ("from_reporter", "The van left from Bản Phố at 5 in the morning.")
    ]
    receipt = (await lookup(intake, filed["receipt_code"])).json()
    assert [m["direction"] for m in receipt["messages"]] == ["from_reporter"]


async def test_a_conversation_reads_in_order_on_both_sides(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    code = filed["receipt_code"]
    await intake.post(f"/v1/tips/{filed['id']}/messages", json={"body": "Q1"}, headers=officer)
    await add_message(intake, code, "A1")
    await intake.post(f"/v1/tips/{filed['id']}/messages", json={"body": "Q2"}, headers=officer)
    receipt = (await lookup(intake, code)).json()
    record = (await intake.get(f"/v1/tips/{filed['id']}", headers=officer)).json()
    assert [m["body"] for m in receipt["messages"]] == ["Q1", "A1", "Q2"]
    assert [m["body"] for m in record["messages"]] == ["Q1", "A1", "Q2"]


async def test_a_receipt_shows_only_its_own_tip(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    other = await file_tip(intake)
    await intake.post(f"/v1/tips/{other['id']}/messages", json={"body": "other"}, headers=officer)
    assert (await lookup(intake, filed["receipt_code"])).json()["messages"] == []


async def test_a_reporter_message_to_a_closed_tip_is_409(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    await classify(intake, officer, filed["id"])
    await verify(intake, officer, filed["id"], "referred")
    response = await add_message(intake, filed["receipt_code"], "any news?")
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ((), 401),
        (("supervisor", "01"), 403),
        (("investigator", "01"), 403),
        (("intake_officer", "79"), 403),
    ],
)
async def test_an_officer_message_needs_an_intake_officer_of_the_place(
    intake: httpx.AsyncClient,
    auth: Auth,
    filed: dict[str, Any],
    caller: tuple[str, ...],
    status: int,
) -> None:
    response = await intake.post(
        f"/v1/tips/{filed['id']}/messages",
        json={"body": "hello"},
        headers=auth(*caller) if caller else {},
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    "code",
    ["0000000000000000", "123456789012345", "12345678901234567", "abcdefghijklmnop", "1234-5678"],
    ids=["wrong", "short", "long", "letters", "dashed"],
)
async def test_a_wrong_or_malformed_code_is_404(limited: IntakeSettings, code: str) -> None:
    async with clients(limited, fresh_address()) as (guesser,):
        response = await lookup(guesser, code)
        posted = await add_message(guesser, code, "hello")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert posted.status_code == 404


async def test_the_receipt_code_is_stored_nowhere_in_clear(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    response = await intake.post("/v1/tips", json=tip_body(), headers=resident_key())
    code = response.json()["receipt_code"]
    await add_message(intake, code, "more facts", resident_key())
    async with db.connect() as conn:
        for table in ("receipts", "idempotency_keys", "outbox", "messages", "tips", "audit_log"):
            hits = (
                await conn.execute(
                    text(f"SELECT count(*) FROM intake.{table} t WHERE t::text LIKE :code"),
                    {"code": f"%{code}%"},
                )
            ).scalar_one()
            assert hits == 0, table


async def test_a_missing_person_receipt_shows_its_status_and_takes_messages(
    intake: httpx.AsyncClient,
) -> None:
    created = (
        await intake.post("/v1/missing-persons", json=MISSING, headers=resident_key())
    ).json()
    code = created["receipt_code"]
    assert len(code) == 16 and code.isdigit()
    view = (await lookup(intake, code)).json()
    assert (view["kind"], view["status"], view["messages"]) == ("missing_person", "open", [])
    posted = await add_message(intake, code, "she called")
    assert posted.status_code == 201
    view = (await lookup(intake, code)).json()
    assert [m["body"] for m in view["messages"]] == ["she called"]


async def test_the_reporters_information_on_a_missing_person_reaches_the_officer(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    created = (
        await intake.post("/v1/missing-persons", json=MISSING, headers=resident_key())
    ).json()
    await add_message(intake, created["receipt_code"], "seen at Lào Cai")
    record = (await intake.get(f"/v1/missing-persons/{created['id']}", headers=officer)).json()
    assert [m["body"] for m in record.get("messages", [])] == ["seen at Lào Cai"]


# Guessing and flooding ---------------------------------------------------------------------------


@pytest.fixture
def limited(settings_for: Callable[..., Any]) -> IntakeSettings:
    settings: IntakeSettings = settings_for(
        IntakeSettings,
        receipt_failures_per_client=3,
        anonymous_filings_per_hour=2,
        run_relay=False,
        run_consumers=False,
    )
    return settings


async def test_after_n_wrong_codes_a_client_gets_429_with_retry_after(
    limited: IntakeSettings,
) -> None:
    async with clients(limited, fresh_address()) as (guesser,):
        for guess in range(3):
            assert (await lookup(guesser, f"{guess:016d}")).status_code == 404
        refused = await lookup(guesser, "0000000000000009")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= limited.receipt_window_seconds + 1


async def test_a_blocked_client_is_refused_even_with_the_right_code(
    limited: IntakeSettings,
) -> None:
    async with clients(limited, fresh_address()) as (guesser,):
        code = (await file_tip(guesser))["receipt_code"]
        for guess in range(3):
            await lookup(guesser, f"{guess:016d}")
        assert (await lookup(guesser, code)).status_code == 429
        posted = await add_message(guesser, code, "hi")
    assert posted.status_code == 429


async def test_a_resident_who_mistyped_a_few_times_still_finds_their_report(
    settings_for: Callable[..., Any],
) -> None:
    """The default budget (10 a quarter of an hour): seven typos, then the right code."""
    settings = settings_for(IntakeSettings, run_relay=False, run_consumers=False)
    async with clients(settings, fresh_address()) as (reporter,):
        code = (await file_tip(reporter))["receipt_code"]
        for typo in range(7):
            assert (await lookup(reporter, f"{typo:016d}")).status_code == 404
        assert (await lookup(reporter, code)).status_code == 200


@pytest.fixture
def dripping(settings_for: Callable[..., Any]) -> IntakeSettings:
    """3 wrong codes in 6 seconds: once refused, one more every 2 seconds."""
    settings: IntakeSettings = settings_for(
        IntakeSettings,
        receipt_failures_per_client=3,
        receipt_window_seconds=6,
        run_relay=False,
        run_consumers=False,
    )
    return settings


async def test_a_refused_resident_waits_one_interval_not_the_window_then_finds_the_report(
    dripping: IntakeSettings,
) -> None:
    async with clients(dripping, fresh_address()) as (reporter,):
        code = (await file_tip(reporter))["receipt_code"]
        for typo in range(3):
            await lookup(reporter, f"{typo:016d}")
        refused = await lookup(reporter, code)
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 2  # one interval (6 s / 3), not the rest of the window
        await asyncio.sleep(wait + 0.2)
        assert (await lookup(reporter, code)).status_code == 200


async def test_a_guesser_gets_one_code_per_interval_once_the_bucket_is_empty(
    dripping: IntakeSettings,
) -> None:
    """Brute force stays throttled: after the burst, one guess drips in per interval and the
    next one at once is refused again."""
    async with clients(dripping, fresh_address()) as (guesser,):
        for guess in range(3):
            assert (await lookup(guesser, f"{guess:016d}")).status_code == 404
        assert (await lookup(guesser, "0000000000000003")).status_code == 429
        await asyncio.sleep(2.2)
        assert (await lookup(guesser, "0000000000000004")).status_code == 404
        again = await lookup(guesser, "0000000000000005")
        assert again.status_code == 429
        assert 1 <= int(again.headers["retry-after"]) <= 2


async def test_malformed_codes_count_as_wrong_guesses(limited: IntakeSettings) -> None:
    async with clients(limited, fresh_address()) as (guesser,):
        for code in ("1", "abc", "12345"):
            assert (await lookup(guesser, code)).status_code == 404
        assert (await lookup(guesser, "0000000000000001")).status_code == 429


async def test_wrong_codes_of_one_client_do_not_block_another(limited: IntakeSettings) -> None:
    async with clients(limited, fresh_address(), fresh_address()) as (guesser, reporter):
        code = (await file_tip(reporter))["receipt_code"]
        for guess in range(4):
            await lookup(guesser, f"{guess:016d}")
        assert (await lookup(guesser, code)).status_code == 429
        assert (await lookup(reporter, code)).status_code == 200
        assert (await lookup(reporter, "0000000000000042")).status_code == 404


async def test_right_codes_do_not_use_up_the_budget(limited: IntakeSettings) -> None:
    async with clients(limited, fresh_address()) as (reporter,):
        code = (await file_tip(reporter))["receipt_code"]
        for _ in range(5):
            assert (await lookup(reporter, code)).status_code == 200


async def test_anonymous_filings_beyond_the_hourly_limit_are_429(
    limited: IntakeSettings,
) -> None:
    async with clients(limited, fresh_address(), fresh_address()) as (flooder, neighbour):
        assert (
            await flooder.post("/v1/tips", json=tip_body(), headers=resident_key())
        ).status_code == 201
        assert (
            await flooder.post("/v1/missing-persons", json=MISSING, headers=resident_key())
        ).status_code == 201
        refused = await flooder.post("/v1/tips", json=tip_body(), headers=resident_key())
        assert (
            await neighbour.post("/v1/tips", json=tip_body(), headers=resident_key())
        ).status_code == 201
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


async def test_officers_filing_are_not_limited(limited: IntakeSettings) -> None:
    headers = bearer(limited, "intake_officer", "01")
    async with clients(limited, fresh_address()) as (desk,):
        for _ in range(4):
            assert (
                await desk.post("/v1/tips", json=tip_body(), headers=headers)
            ).status_code == 201
