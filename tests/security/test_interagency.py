"""Issue 13, interagency: finding 3 (alerts readable across provinces) and the two Low findings
on partners' webhooks (a known partner told apart from an unknown one, ``matches`` in the 202;
no way to revoke a rotated secret at once).

Each test was written to fail on the code before the fix. They run on the integration fixtures of
interagency (the app in-process, a real partner receiver, registered partners).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from libs.common.jurisdiction import wards_of
from libs.common.migrations import upgrade
from libs.common.webhooks import generate_secret
from libs.contracts.intake import MissingPersonPublished
from services.interagency import missing_persons, webhooks
from services.interagency.app import create_app
from services.interagency.settings import InteragencySettings
from testkit.interagency import partner_event, person_found, post_signed
from tests.integration.conftest import TEST_DB_URL, _admin, drop_database
from tests.integration.interagency.conftest import (  # noqa: F401  (fixtures)
    PartnerHandle,
    Register,
    admin,
    auth,
    ia_settings,
    receiver,
    register,
)
from tests.integration.interagency.support import (
    forget_partner,
    fresh_partner_code,
    matched,
)
from tests.integration.interagency.test_matching import (  # noqa: F401  (fixtures)
    actor,
    add_missing,
    interagency,
    read_model,
    reported,
)
from tests.support import eventually, running

pytestmark = [pytest.mark.integration, pytest.mark.security]

Auth = Callable[..., dict[str, str]]
HANOI_WARD = "00256"  # a ward of Hà Nội (01)
FAR = "79"  # Thành phố Hồ Chí Minh
FAR_WARD = wards_of(FAR)[0]
OWNERS_REVISION = "36651c1f4388"  # alerts owned by a jurisdiction
OWNERS_REVISION_PARENT = "2c267e88f022"


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


async def _signed(
    client: httpx.AsyncClient, partner: PartnerHandle, data: dict[str, Any], secret: str = ""
) -> httpx.Response:
    body = partner_event(partner.code, data)
    return await post_signed(client, partner.code, secret or partner.inbound_secret, body)


async def _alert_status(client: httpx.AsyncClient, headers: dict[str, str], alert_id: str) -> int:
    return (await client.get(f"/v1/alerts/{alert_id}", headers=headers)).status_code


async def _listed(client: httpx.AsyncClient, headers: dict[str, str], alert_id: str) -> bool:
    page = (await client.get("/v1/alerts", params={"limit": 200}, headers=headers)).json()
    return alert_id in {a["id"] for a in page["items"]}


# Low: inbound webhooks answer a known and an unknown partner alike --------------------------------


async def test_an_unknown_partner_and_a_wrong_signature_get_the_same_401(
    interagency: httpx.AsyncClient, register: Register, admin: dict[str, str]
) -> None:
    """The problem names no difference between "no such partner", "disabled" and "not signed by
    it": a caller cannot probe which provinces are our partners."""
    known, disabled = await register(), await register()
    await interagency.post(f"/v1/partners/{disabled.code}/disable", headers=admin)
    stranger = generate_secret()
    wrong = _problem(await _signed(interagency, known, person_found(), stranger), 401)
    off = _problem(
        await _signed(interagency, disabled, person_found(), disabled.inbound_secret), 401
    )
    unknown_code = next(c for c in ("96", "95", "94", "93") if c not in (known.code, disabled.code))
    body = partner_event(unknown_code, person_found())
    unknown = _problem(await post_signed(interagency, unknown_code, stranger, body), 401)
    not_a_province = _problem(await post_signed(interagency, "nope", stranger, body), 401)
    answers = [
        {k: p[k] for k in ("type", "title", "status", "detail")}
        for p in (wrong, off, unknown, not_a_province)
    ]
    assert answers[0]["detail"] == "invalid webhook signature: no matching signature"
    assert all(a == answers[0] for a in answers), answers


async def test_an_unknown_partner_is_verified_against_a_dummy_secret_like_a_known_one(
    interagency: httpx.AsyncClient, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same work (two HMAC-SHA256, constant-time compares) whether or not the partner
    exists, so the time taken does not tell either (timings themselves belong in bench/)."""
    calls: list[int] = []
    real_verify = webhooks.verify

    def spy(keys: Any, *args: Any, **kwargs: Any) -> Any:
        keys = list(keys)
        calls.append(len(keys))
        return real_verify(keys, *args, **kwargs)

    monkeypatch.setattr(webhooks, "verify", spy)
    known = await register()
    stranger = generate_secret()
    _problem(await _signed(interagency, known, person_found(), stranger), 401)
    body = partner_event("96", person_found())
    _problem(await post_signed(interagency, "96", stranger, body), 401)
    assert calls == [2, 2]


async def test_the_202_does_not_say_whether_the_person_matched(
    interagency: httpx.AsyncClient,
    register: Register,
    db: AsyncEngine,
    ia_settings: InteragencySettings,
    read_model: list[uuid.UUID],
) -> None:
    report = reported(full_name="Giàng Thị Synthetic", date_of_birth=date(2008, 5, 5))
    await add_missing(db, ia_settings, read_model, report)
    partner = await register()
    matching = person_found(full_name="Giang Thi Synthetic", age=None, date_of_birth="2008-05-05")
    other = person_found(full_name="Vàng A Synthetic", sex="male", age=40)
    answers = [(await _signed(interagency, partner, data)).json() for data in (matching, other)]
    assert [set(a) for a in answers] == [{"alert_id"}] * 2, answers
    for answer in answers:  # matched after the answer, from our own event: not in its timing
        await eventually(partial(matched, db, answer["alert_id"]), timeout=60)
    async with db.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM interagency.matches WHERE missing_person_id = :id"),
            {"id": report.missing_person_id},
        )
    assert found.scalar_one() == 1  # it did match: only the answer is silent about it


async def test_matching_is_no_part_of_the_partners_request(
    db: AsyncEngine,
    ia_settings: InteragencySettings,
    read_model: list[uuid.UUID],
    admin: dict[str, str],
) -> None:
    """The answer's timing cannot tell a match either: the request stores the alert and its
    event, and matching runs later in our consumer. Without a consumer (none runs in this test),
    no match is made."""
    assert ia_settings.run_consumers is False
    report = reported(full_name="Hầu Thị Synthetic", date_of_birth=date(2009, 9, 9))
    await add_missing(db, ia_settings, read_model, report)
    code = fresh_partner_code()
    found = person_found(full_name="Hau Thi Synthetic", age=None, date_of_birth="2009-09-09")
    try:
        async with running(create_app(ia_settings)) as client:
            created = await client.post(
                "/v1/partners",
                json={"code": code, "name": "Synthetic", "webhook_url": "http://127.0.0.1:9/h"},
                headers=admin,
            )
            assert created.status_code == 201, created.text
            body = partner_event(code, found)
            secret = created.json()["inbound_secret"]
            accepted = await post_signed(client, code, secret, body)
        assert accepted.status_code == 202, accepted.text
        async with db.connect() as conn:
            made = await conn.execute(
                text("SELECT count(*) FROM interagency.matches WHERE missing_person_id = :id"),
                {"id": report.missing_person_id},
            )
        assert made.scalar_one() == 0
    finally:
        await forget_partner(db, code)


# Low: revoke a rotated partner secret at once -----------------------------------------------------


async def test_revoking_the_previous_inbound_secret_refuses_it_at_once(
    interagency: httpx.AsyncClient, register: Register, admin: dict[str, str], db: AsyncEngine
) -> None:
    partner = await register()
    rotated = await interagency.post(
        f"/v1/partners/{partner.code}/rotate-secret", json={"direction": "inbound"}, headers=admin
    )
    new_secret = rotated.json()["inbound_secret"]
    old = await _signed(interagency, partner, person_found(), partner.inbound_secret)
    assert old.status_code == 202, old.text

    revoked = await interagency.post(f"/v1/partners/{partner.code}/revoke-secret", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["inbound_previous_valid_until"] is None

    refused = await _signed(interagency, partner, person_found(), partner.inbound_secret)
    _problem(refused, 401)
    assert (await _signed(interagency, partner, person_found(), new_secret)).status_code == 202
    async with db.connect() as conn:
        stored = (
            await conn.execute(
                text(
                    "SELECT inbound_previous, inbound_previous_until FROM interagency.partners"
                    " WHERE code = :c"
                ),
                {"c": partner.code},
            )
        ).one()
    assert tuple(stored) == (None, None)


async def test_revoking_twice_changes_nothing_more_and_each_call_is_audited(
    interagency: httpx.AsyncClient, register: Register, admin: dict[str, str], db: AsyncEngine
) -> None:
    partner = await register()
    await interagency.post(f"/v1/partners/{partner.code}/rotate-secret", headers=admin)
    path = f"/v1/partners/{partner.code}/revoke-secret"
    first = await interagency.post(path, headers=admin)
    second = await interagency.post(path, headers=admin)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["outbound_previous_valid_until"] is None
    async with db.connect() as conn:
        audited = await conn.execute(
            text(
                "SELECT action FROM interagency.audit_log"
                " WHERE record_type = 'partner' AND record_id = :c AND action = :a"
            ),
            {"c": partner.code, "a": "partner.revoke_secret"},
        )
    assert len(audited.all()) == 2


async def test_revoking_is_for_admins_and_known_partners(
    interagency: httpx.AsyncClient, register: Register, admin: dict[str, str], auth: Auth
) -> None:
    partner = await register()
    path = f"/v1/partners/{partner.code}/revoke-secret"
    assert (await interagency.post(path, headers=auth("intake_officer", "01"))).status_code == 403
    missing = await interagency.post("/v1/partners/96/revoke-secret", headers=admin)
    assert _problem(missing, 404)["detail"] == "no such partner"


# Finding 3: every alert has an owning jurisdiction, and every read is scoped by it ---------------


async def _send(
    client: httpx.AsyncClient, headers: dict[str, str], data: dict[str, Any], codes: list[str]
) -> str:
    response = await client.post(
        "/v1/alerts", json={"data": data, "partner_codes": codes}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_an_outbound_suspect_alert_is_read_only_in_the_senders_jurisdiction(
    interagency: httpx.AsyncClient, register: Register, auth: Auth
) -> None:
    partner = await register(alert_types=["suspect_alert"])
    sender = auth("investigator", HANOI_WARD)
    data = {
        "alert_type": "suspect_alert",
        "full_name": "Synthetic Broker",
        "phones": ["0912000333"],
    }
    alert_id = await _send(interagency, sender, data, [partner.code])
    for reader in (sender, auth("investigator", "01"), auth("supervisor", "01")):
        assert await _alert_status(interagency, reader, alert_id) == 200
        assert await _listed(interagency, reader, alert_id)
    for outsider in (
        auth("investigator", FAR),
        auth("social_worker", FAR),
        auth("supervisor", FAR),
        auth("investigator", wards_of("01")[1]),  # another ward of the same province
    ):
        assert await _alert_status(interagency, outsider, alert_id) == 404
        assert not await _listed(interagency, outsider, alert_id)


async def test_an_outbound_victim_handover_is_read_only_in_the_senders_jurisdiction(
    interagency: httpx.AsyncClient, register: Register, auth: Auth
) -> None:
    home = await register(border_countries=[])
    sender = auth("social_worker", "01")
    data = {
        "alert_type": "victim_handover",
        "full_name": "Lò Thị Synthetic",
        "sex": "female",
        "age": 17,
        "handover_at": "2026-11-30T09:00:00+07:00",
        "receiving_province_code": home.code,
        "needs": ["medical"],
    }
    alert_id = await _send(interagency, sender, data, [home.code])
    assert await _alert_status(interagency, sender, alert_id) == 200
    assert await _alert_status(interagency, auth("social_worker", FAR), alert_id) == 404
    assert not await _listed(interagency, auth("intake_officer", FAR), alert_id)


async def test_an_unmatched_person_found_belongs_to_the_province_of_the_hometown(
    interagency: httpx.AsyncClient, register: Register, auth: Auth
) -> None:
    partner = await register()
    far_ward = wards_of(FAR)[0]
    accepted = await _signed(
        interagency,
        partner,
        person_found(full_name="Synthetic Nobody", hometown_ward_code=far_ward),
    )
    alert_id = accepted.json()["alert_id"]
    assert await _alert_status(interagency, auth("intake_officer", FAR), alert_id) == 200
    assert await _alert_status(interagency, auth("social_worker", far_ward), alert_id) == 200
    assert await _alert_status(interagency, auth("intake_officer", "01"), alert_id) == 404
    assert not await _listed(interagency, auth("investigator", "01"), alert_id)


async def test_a_person_found_without_a_hometown_belongs_to_the_interagency_desk(
    interagency: httpx.AsyncClient, register: Register, auth: Auth, ia_settings: Any
) -> None:
    partner = await register()
    accepted = await _signed(interagency, partner, person_found(full_name="Synthetic Unplaced"))
    alert_id = accepted.json()["alert_id"]
    desk = ia_settings.alert_desk_province
    outside = FAR if desk != FAR else "01"
    assert await _alert_status(interagency, auth("intake_officer", desk), alert_id) == 200
    assert await _alert_status(interagency, auth("intake_officer", outside), alert_id) == 404


async def test_an_inbound_victim_handover_belongs_to_the_receiving_province(
    interagency: httpx.AsyncClient, register: Register, auth: Auth
) -> None:
    partner = await register()
    data = {
        "alert_type": "victim_handover",
        "full_name": "Lò Thị Synthetic",
        "sex": "female",
        "age": 16,
        "handover_at": datetime.now(UTC).isoformat(),
        "receiving_province_code": FAR,
        "hometown_ward_code": HANOI_WARD,
        "needs": ["medical"],
    }
    alert_id = (await _signed(interagency, partner, data)).json()["alert_id"]
    assert await _alert_status(interagency, auth("social_worker", FAR), alert_id) == 200
    assert await _alert_status(interagency, auth("social_worker", "01"), alert_id) == 404


async def test_supervisors_lose_needs_hometown_and_contacts_in_alert_views(
    interagency: httpx.AsyncClient, register: Register, auth: Auth
) -> None:
    partner = await register()
    data = {
        "alert_type": "victim_handover",
        "full_name": "Lò Thị Synthetic",
        "sex": "female",
        "age": 16,
        "phone": "0912000444",
        "handover_at": datetime.now(UTC).isoformat(),
        "receiving_province_code": "01",
        "hometown_ward_code": HANOI_WARD,
        "needs": ["medical", "psychological"],
        "contact_agency": "Synthetic border post, tel. 0212 000 555",
    }
    alert_id = (await _signed(interagency, partner, data)).json()["alert_id"]
    full = await interagency.get(f"/v1/alerts/{alert_id}", headers=auth("social_worker", "01"))
    assert full.json()["data"]["needs"] == ["medical", "psychological"]
    seen = await interagency.get(f"/v1/alerts/{alert_id}", headers=auth("supervisor", "01"))
    shown = seen.json()["data"]
    assert shown["full_name"] == "Lò Thị Synthetic"
    for hidden in ("needs", "hometown_ward_code", "contact_agency", "phone", "found_place"):
        assert hidden not in shown, shown


def test_the_migration_gives_older_alerts_an_owner_and_leaves_bulletins_to_everyone(
    stack: None,
) -> None:
    """Alerts stored before owners existed: our missing-person alerts go to the report's area,
    everything else but bulletins to the interagency desk (never left readable everywhere)."""
    name = f"ctip_test_{uuid.uuid4().hex[:12]}"
    url = TEST_DB_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(TEST_DB_URL, f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        asyncio.run(_admin(url, "CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        upgrade("interagency", url, OWNERS_REVISION_PARENT)
        mp, ids = uuid.uuid4(), {kind: uuid.uuid4() for kind in ("mp", "suspect", "found", "bull")}
        asyncio.run(
            _admin(
                url,
                "INSERT INTO interagency.missing_person_refs (missing_person_id, status,"
                " full_name, sex, last_seen_ward_code, province_code, reported_at)"
                f" VALUES ('{mp}', 'open', 'v1.x', 'female', '{FAR_WARD}', '{FAR}', now())",
                *(
                    "INSERT INTO interagency.alerts (id, direction, alert_type, partner_code,"
                    " subject_id, data, created_by, created_at)"
                    f" VALUES ('{ids[kind]}', '{direction}', '{alert_type}', {partner},"
                    f" {subject}, 'v1.x', 'someone', now())"
                    for kind, direction, alert_type, partner, subject in (
                        ("mp", "out", "missing_person", "NULL", f"'{mp}'"),
                        ("suspect", "out", "suspect_alert", "NULL", "NULL"),
                        ("found", "in", "person_found", "'96'", "NULL"),
                        ("bull", "out", "situation_bulletin", "NULL", "NULL"),
                    )
                ),
            )
        )
        upgrade("interagency", url, OWNERS_REVISION)
        owners = asyncio.run(_owners(url))
    finally:
        asyncio.run(drop_database(name))
    desk = InteragencySettings().alert_desk_province
    assert owners == {
        ids["mp"]: (FAR_WARD, FAR),
        ids["suspect"]: (None, desk),
        ids["found"]: (None, desk),
        ids["bull"]: (None, None),
    }


async def _owners(url: str) -> dict[uuid.UUID, tuple[str | None, str | None]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT id, owner_ward_code, owner_province_code FROM interagency.alerts")
            )
            return {row.id: (row.owner_ward_code, row.owner_province_code) for row in rows}
    finally:
        await engine.dispose()


async def test_our_missing_person_alert_belongs_to_the_area_of_the_report(
    interagency: httpx.AsyncClient,
    register: Register,
    auth: Auth,
    db: AsyncEngine,
    ia_settings: InteragencySettings,
    read_model: list[uuid.UUID],
) -> None:
    """A guard more than a regression test: the scope before the fix hid these already (by
    ``subject_id``); the owner taken from the report must keep doing so."""
    await register()  # a border province: subscribed to missing persons
    report = reported(
        full_name="Sùng Thị Synthetic", last_seen_ward_code=FAR_WARD, province_code=FAR
    )
    await add_missing(db, ia_settings, read_model, report)
    published = MissingPersonPublished(
        **report.model_dump(include=set(MissingPersonPublished.model_fields)),
        published_at=datetime.now(UTC),
    )
    async with AsyncSession(db) as session, session.begin():
        await missing_persons.missing_person_published(actor(ia_settings, session), published)
    params = {"subject_id": str(report.missing_person_id), "direction": "out"}

    async def listed(headers: dict[str, str]) -> list[str]:
        page = (await interagency.get("/v1/alerts", params=params, headers=headers)).json()
        return [a["id"] for a in page["items"]]

    (alert_id,) = await listed(auth("intake_officer", FAR_WARD))
    assert await _alert_status(interagency, auth("intake_officer", FAR), alert_id) == 200
    assert await listed(auth("intake_officer", "01")) == []
    assert await _alert_status(interagency, auth("intake_officer", "01"), alert_id) == 404
