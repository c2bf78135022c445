"""Matching partners' found persons with our missing persons: measured on a labelled synthetic
set, explained, decided once, and end to end from intake's report to intake's possible match."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.context import context_factory
from libs.common.crypto import BlindIndex, FieldCipher, configure_cipher
from libs.common.platform import platform_of
from libs.contracts.intake import MissingPersonReported, MissingPersonResolved
from services.interagency import matches, missing_persons
from services.interagency.access import Ctx
from services.interagency.alert_data import PersonFoundData
from services.interagency.app import create_app
from services.interagency.models import metadata
from services.interagency.settings import InteragencySettings
from testkit.intake import resident_key
from testkit.interagency import partner_event, person_found, post_signed
from testkit.names import labelled_set
from tests.integration.interagency.conftest import Register
from tests.integration.interagency.support import (
    Receiver,
    forget_partner,
    fresh_partner_code,
    matched,
)
from tests.support import eventually, running

pytestmark = pytest.mark.integration

HAI_BA_TRUNG = "00256"
ALLOWED = {
    "alert_type",
    "missing_person_id",
    "full_name",
    "sex",
    "date_of_birth",
    "age",
    "last_seen_at",
    "last_seen_ward_code",
    "hometown_ward_code",
    "distinguishing_marks",
    "id_number",
    "contact_agency",
}


def actor(settings: InteragencySettings, session: AsyncSession) -> Ctx:
    """The system's context, as interagency's consumers build it, on ``session``."""
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    return context_factory(settings, platform_of(metadata), index)(session)


def reported(**fields: Any) -> MissingPersonReported:
    values: dict[str, Any] = {
        "missing_person_id": uuid.uuid4(),
        "full_name": "Lò Thị Mai",
        "sex": "female",
        "last_seen_at": datetime(2026, 10, 1, tzinfo=UTC),
        "last_seen_ward_code": HAI_BA_TRUNG,
        "province_code": "01",
        "reported_at": datetime.now(UTC),
    }
    values.update(fields)
    return MissingPersonReported(**values)


@pytest.fixture
async def interagency(ia_settings: InteragencySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The API with its Kafka consumer: a partner's found person is matched from our own
    ``interagency.alert.received`` event, after the webhook was answered."""
    settings = ia_settings.model_copy(update={"run_consumers": True})
    async with running(create_app(settings)) as client:
        yield client


async def matches_of(
    client: httpx.AsyncClient, headers: dict[str, str], missing_person_id: uuid.UUID | str
) -> list[dict[str, Any]]:
    """The candidates of one missing person, once matching has found any (it runs after the
    partner's request, from our own event)."""

    async def listed() -> list[dict[str, Any]]:
        page = await client.get(
            "/v1/matches", params={"missing_person_id": str(missing_person_id)}, headers=headers
        )
        items: list[dict[str, Any]] = page.json()["items"]
        return items

    return await eventually(listed, timeout=60)


@pytest.fixture
async def read_model(
    db: AsyncEngine, ia_settings: InteragencySettings
) -> AsyncIterator[list[uuid.UUID]]:
    """Missing persons put in the read model by a test (as intake's events would), resolved at
    the end so that no later test matches them."""
    added: list[uuid.UUID] = []
    yield added
    async with AsyncSession(db) as session, session.begin():
        for mp_id in added:
            await missing_persons.missing_person_resolved(
                actor(ia_settings, session),
                MissingPersonResolved(
                    missing_person_id=mp_id, outcome="withdrawn", resolved_at=datetime.now(UTC)
                ),
            )


async def add_missing(
    db: AsyncEngine, settings: InteragencySettings, added: list[uuid.UUID], *reports: Any
) -> None:
    async with AsyncSession(db) as session, session.begin():
        for report in reports:
            await missing_persons.missing_person_reported(actor(settings, session), report)
            added.append(report.missing_person_id)


# The labelled set ---------------------------------------------------------------------------------


async def test_recall_and_precision_on_a_labelled_synthetic_set(
    db: AsyncEngine, ia_settings: InteragencySettings, read_model: list[uuid.UUID]
) -> None:
    people, found = labelled_set()
    ids = {p.key: uuid.uuid4() for p in people}
    await add_missing(
        db,
        ia_settings,
        read_model,
        *(
            reported(
                missing_person_id=ids[p.key],
                full_name=p.full_name,
                sex=p.sex,
                date_of_birth=p.date_of_birth,
                hometown_ward_code=p.hometown_ward_code,
            )
            for p in people
        ),
    )
    ours = {v: k for k, v in ids.items()}
    true_positives = false_positives = false_negatives = 0
    async with AsyncSession(db) as session, session.begin():
        for record in found:
            data = PersonFoundData(
                full_name=record.full_name,
                sex=record.sex,  # type: ignore[arg-type]
                date_of_birth=record.date_of_birth,
                age=record.age,
                found_at=datetime(2026, 11, 1, tzinfo=UTC),
                hometown_ward_code=record.hometown_ward_code,
            )
            ctx = actor(ia_settings, session)
            facts = matches.found_facts(data, ctx.index, datetime.now(UTC))
            candidates = await matches.scored_candidates(ctx, facts)
            keys = {
                ours[ref.missing_person_id]
                for ref, _ in candidates
                if ref.missing_person_id in ours
            }
            if record.truth is not None:
                if record.truth in keys:
                    true_positives += 1
                else:
                    false_negatives += 1
            false_positives += len(keys - {record.truth})
    recall = true_positives / (true_positives + false_negatives)
    precision = true_positives / (true_positives + false_positives)
    assert recall >= 0.95, (recall, false_negatives)
    assert precision >= 0.9, (precision, false_positives)


# Through the API ----------------------------------------------------------------------------------


async def test_an_exact_id_number_matches_whatever_the_spelling(
    interagency: httpx.AsyncClient,
    register: Register,
    db: AsyncEngine,
    ia_settings: InteragencySettings,
    read_model: list[uuid.UUID],
    officer: dict[str, str],
) -> None:
    id_number = "0" + "".join(secrets.choice("0123456789") for _ in range(11))
    report = reported(full_name="Hờ Thị Sua", id_number=id_number, age=19)
    await add_missing(db, ia_settings, read_model, report)
    partner = await register()
    body = partner_event(
        partner.code, person_found(full_name="Ho Sua", id_number=id_number, age=None)
    )
    response = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"alert_id"}  # silent about the match
    (match,) = await matches_of(interagency, officer, report.missing_person_id)
    assert match["score"] >= 0.98
    assert "id_number" in {r["field"] for r in match["reasons"]}
    assert id_number not in str(match)


async def test_a_resolved_missing_person_is_not_matched_any_more(
    interagency: httpx.AsyncClient,
    register: Register,
    db: AsyncEngine,
    ia_settings: InteragencySettings,
    read_model: list[uuid.UUID],
) -> None:
    report = reported(full_name="Mùa Thị Chía", date_of_birth=date(2008, 3, 3))
    await add_missing(db, ia_settings, read_model, report)
    async with AsyncSession(db) as session, session.begin():
        await missing_persons.missing_person_resolved(
            actor(ia_settings, session),
            MissingPersonResolved(
                missing_person_id=report.missing_person_id,
                outcome="found_safe",
                resolved_at=datetime.now(UTC),
            ),
        )
    partner = await register()
    body = partner_event(
        partner.code, person_found(full_name="Mua Thi Chia", age=None, date_of_birth="2008-03-03")
    )
    response = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert response.status_code == 202, response.text
    await eventually(lambda: matched(db, response.json()["alert_id"]), timeout=60)
    async with db.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM interagency.matches WHERE missing_person_id = :id"),
            {"id": report.missing_person_id},
        )
        assert found.scalar_one() == 0
        keys = (
            await conn.execute(
                text("SELECT count(*) FROM interagency.match_keys WHERE missing_person_id = :id"),
                {"id": report.missing_person_id},
            )
        ).scalar_one()
    assert keys == 0  # its blocking keys went with the resolution


async def test_matches_are_seen_and_decided_only_within_the_jurisdiction(
    interagency: httpx.AsyncClient,
    register: Register,
    db: AsyncEngine,
    ia_settings: InteragencySettings,
    read_model: list[uuid.UUID],
    officer: dict[str, str],
    auth: Any,
) -> None:
    report = reported(full_name="Thào Thị Dua", date_of_birth=date(2007, 7, 7))
    await add_missing(db, ia_settings, read_model, report)
    partner = await register()
    body = partner_event(
        partner.code, person_found(full_name="Thao Thi Dua", age=None, date_of_birth="2007-07-07")
    )
    accepted = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert accepted.status_code == 202, accepted.text
    params = {"missing_person_id": str(report.missing_person_id)}
    elsewhere = auth("intake_officer", "79")
    (match,) = await matches_of(interagency, officer, report.missing_person_id)
    assert (await interagency.get("/v1/matches", params=params, headers=elsewhere)).json()[
        "items"
    ] == []
    decision = f"/v1/matches/{match['id']}/decision"
    refused = await interagency.post(decision, json={"decision": "rejected"}, headers=elsewhere)
    assert refused.status_code == 403
    assert (
        await interagency.post(
            decision, json={"decision": "rejected"}, headers=auth("supervisor", "01")
        )
    ).status_code == 403
    rejected = await interagency.post(
        decision, json={"decision": "rejected"}, headers={**officer, "If-Match": "1"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    again = await interagency.post(decision, json={"decision": "confirmed"}, headers=officer)
    assert again.status_code == 409


# End to end ---------------------------------------------------------------------------------------


async def test_a_missing_person_reported_to_intake_is_alerted_matched_and_confirmed(
    intake: httpx.AsyncClient,
    ia_settings: InteragencySettings,
    receiver: Receiver,
    db: AsyncEngine,
    admin: dict[str, str],
    officer: dict[str, str],
) -> None:
    settings = ia_settings.model_copy(update={"run_consumers": True})
    code = fresh_partner_code()
    async with running(create_app(settings)) as interagency:
        created = await interagency.post(
            "/v1/partners",
            json={
                "code": code,
                "name": "Synthetic border province",
                "webhook_url": receiver.url(code),
                "border_countries": ["CN"],
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        partner = created.json()
        receiver.secrets[code] = [partner["outbound_secret"]]
        try:
            # 1. A family reports Sùng Thị Mỷ missing at intake (anonymously).
            filed = await intake.post(
                "/v1/missing-persons",
                json={
                    "full_name": "Sùng Thị Mỷ",
                    "sex": "female",
                    "date_of_birth": "2009-05-14",
                    "last_seen_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                    "last_seen_ward_code": HAI_BA_TRUNG,
                    "hometown_ward_code": HAI_BA_TRUNG,
                    "phone": "0912 555 014",
                    "circumstances": "left with a man promising factory work (synthetic)",
                    "reporter": {"name": "Synthetic Parent", "phone": "0987 000 111"},
                },
                headers=resident_key(),
            )
            assert filed.status_code == 201, filed.text
            mp_id = filed.json()["id"]
            # An officer publishes it: a report from the public is alerted only then.
            published = await intake.post(
                f"/v1/missing-persons/{mp_id}/review",
                json={"decision": "publish"},
                headers=officer,
            )
            assert published.status_code == 200, published.text

            # 2. Interagency alerts the border partner, with the allow-listed fields only.
            def alerted() -> Any:
                return [
                    r
                    for r in receiver.of(code, delivered_only=True)
                    if r.event["data"].get("missing_person_id") == mp_id
                ]

            async def probe() -> Any:
                return alerted()

            (alert,) = await eventually(probe, timeout=60)
            data = alert.event["data"]
            assert alert.verified_with == [partner["outbound_secret"]]
            assert data["alert_type"] == "missing_person"
            assert data["full_name"] == "Sùng Thị Mỷ"
            assert set(data) <= ALLOWED
            assert "Synthetic Parent" not in alert.body.decode()
            assert "factory" not in alert.body.decode()
            assert "0912" not in alert.body.decode()

            # 3. The partner finds her and posts a signed person_found without diacritics.
            found = person_found(full_name="Sung Thi My", age=17, hometown_ward_code=HAI_BA_TRUNG)
            response = await post_signed(
                interagency, code, partner["inbound_secret"], partner_event(code, found)
            )
            assert response.status_code == 202, response.text

            # 4. The match is listed in interagency and shows in intake's possible_matches.
            (match,) = await matches_of(interagency, officer, mp_id)
            assert match["partner_code"] == code and match["score"] >= 0.75
            assert {r["field"] for r in match["reasons"]} >= {"full_name", "sex"}

            async def possible_matches() -> Any:
                record = (await intake.get(f"/v1/missing-persons/{mp_id}", headers=officer)).json()
                return [m for m in record["possible_matches"] if m["match_id"] == match["id"]]

            (shown,) = await eventually(possible_matches, timeout=60)
            assert shown["status"] == "candidate" and shown["decided_at"] is None
            assert shown["found"]["full_name"] == "Sung Thi My"
            assert shown["score"] == match["score"]

            # 5. The officer confirms it, once.
            decision = f"/v1/matches/{match['id']}/decision"
            confirmed = await interagency.post(
                decision, json={"decision": "confirmed"}, headers=officer
            )
            assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
            assert (
                await interagency.post(decision, json={"decision": "rejected"}, headers=officer)
            ).status_code == 409
            kpis = (await interagency.get("/v1/kpis", headers=officer)).json()
            assert kpis["matches_confirmed"] >= 1

            # 6. Intake's report shows the decision on the possible match.
            async def decided() -> Any:
                (shown,) = await possible_matches()
                return shown if shown["status"] != "candidate" else None

            shown = await eventually(decided, timeout=60)
            assert shown["status"] == "confirmed"
            assert shown["decided_at"] == confirmed.json()["decided_at"].replace("+00:00", "Z")
        finally:
            await forget_partner(db, code)
