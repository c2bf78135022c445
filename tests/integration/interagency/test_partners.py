"""The partner registry: secrets shown once, URL checks, subscriptions, rotation, disabling."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from testkit.interagency import partner_event, person_found, post_signed
from tests.integration.interagency.conftest import Register
from tests.integration.interagency.support import (
    Receiver,
    forget_partner,
    fresh_partner_code,
)
from tests.support import partner_counts

pytestmark = pytest.mark.integration


async def test_registration_returns_both_secrets_once(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register
) -> None:
    partner = await register()
    for secret in (partner.outbound_secret, partner.inbound_secret):
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert partner.outbound_secret != partner.inbound_secret
    assert partner.record["status"] == "enabled"

    listed = (await interagency.get("/v1/partners", headers=admin, params={"limit": 200})).json()
    mine = [p for p in listed["items"] if p["code"] == partner.code]
    assert len(mine) == 1
    assert "outbound_secret" not in mine[0] and "inbound_secret" not in mine[0]
    one = (await interagency.get(f"/v1/partners/{partner.code}", headers=admin)).json()
    assert set(one) == set(mine[0])


async def test_secrets_are_stored_encrypted(register: Register, db: AsyncEngine) -> None:
    partner = await register()
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT outbound_secret, inbound_secret FROM interagency.partners"
                    " WHERE code = :c"
                ),
                {"c": partner.code},
            )
        ).one()
    assert partner.outbound_secret not in row.outbound_secret
    assert row.outbound_secret.startswith("v1.") and row.inbound_secret.startswith("v1.")


async def test_border_provinces_hear_of_missing_persons_by_default(register: Register) -> None:
    border = await register()
    inland = await register(border_countries=[])
    chosen = await register(alert_types=["situation_bulletin"])
    assert border.record["alert_types"] == ["missing_person"]
    assert inland.record["alert_types"] == []
    assert chosen.record["alert_types"] == ["situation_bulletin"]


async def test_a_registered_code_cannot_be_registered_again(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register, receiver: Receiver
) -> None:
    partner = await register()
    again = await interagency.post(
        "/v1/partners",
        json={"code": partner.code, "name": "again", "webhook_url": receiver.url(partner.code)},
        headers=admin,
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "00"),
        ("code", "00256"),
        ("webhook_url", "http://169.254.169.254/latest/meta-data"),
        ("webhook_url", "ftp://example.org/hook"),
        ("webhook_url", "https://user:pw@example.org/hook"),
        ("border_countries", ["TH"]),
        ("alert_types", ["gossip"]),
    ],
)
async def test_invalid_registrations_are_422(
    interagency: httpx.AsyncClient, admin: dict[str, str], db: AsyncEngine, field: str, value: Any
) -> None:
    code = fresh_partner_code()
    body = {"code": code, "name": "x", "webhook_url": "http://127.0.0.1:9/h", field: value}
    response = await interagency.post("/v1/partners", json=body, headers=admin)
    await forget_partner(db, code)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["status"] == 422
    assert any(e["field"].split(".")[0] == field for e in problem["errors"])


async def test_only_admins_manage_partners(interagency: httpx.AsyncClient, auth: Any) -> None:
    assert (await interagency.get("/v1/partners")).status_code == 401
    for role in ("intake_officer", "supervisor", "investigator"):
        response = await interagency.get("/v1/partners", headers=auth(role, "01"))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"


async def test_an_idempotent_registration_is_not_replayed_with_its_secrets(
    interagency: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver, db: AsyncEngine
) -> None:
    """The secrets are shown once and never stored (issue 13, Medium 5): the same key again is a
    409, never a second partner and never the secrets again."""
    code = fresh_partner_code()
    body = {"code": code, "name": "Idempotent", "webhook_url": receiver.url(code)}
    headers = {**admin, "Idempotency-Key": f"register-{code}"}
    first = await interagency.post("/v1/partners", json=body, headers=headers)
    second = await interagency.post("/v1/partners", json=body, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 409
    assert "secret shown once" in second.json()["detail"]
    assert first.json()["outbound_secret"] not in second.text
    await forget_partner(db, code)


async def test_rotation_keeps_the_old_inbound_secret_valid_during_the_overlap(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register
) -> None:
    partner = await register()
    rotated = await interagency.post(
        f"/v1/partners/{partner.code}/rotate-secret",
        json={"direction": "inbound"},
        headers=admin,
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["inbound_secret"]
    assert new_secret.startswith("whsec_") and new_secret != partner.inbound_secret
    assert rotated.json()["outbound_secret"] is None
    assert rotated.headers["cache-control"] == "no-store"

    for secret in (partner.inbound_secret, new_secret, [partner.inbound_secret, new_secret]):
        response = await post_signed(
            interagency, partner.code, secret, partner_event(partner.code, person_found())
        )
        assert response.status_code == 202, response.text
    read = (await interagency.get(f"/v1/partners/{partner.code}", headers=admin)).json()
    assert read["inbound_previous_valid_until"] is not None
    assert read["outbound_previous_valid_until"] is None


async def test_after_the_overlap_only_the_new_inbound_secret_is_valid(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register, db: AsyncEngine
) -> None:
    partner = await register()
    rotated = await interagency.post(
        f"/v1/partners/{partner.code}/rotate-secret", json={"direction": "both"}, headers=admin
    )
    new_secret = rotated.json()["inbound_secret"]
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE interagency.partners SET inbound_previous_until = now() - interval '1 s'"
                " WHERE code = :c"
            ),
            {"c": partner.code},
        )
    body = partner_event(partner.code, person_found())
    old = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert old.status_code == 401
    new = await post_signed(interagency, partner.code, new_secret, body)
    assert new.status_code == 202


async def test_a_stale_if_match_on_rotation_is_412(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register
) -> None:
    partner = await register()
    response = await interagency.post(
        f"/v1/partners/{partner.code}/rotate-secret",
        json={"direction": "outbound"},
        headers={**admin, "If-Match": "7"},
    )
    assert response.status_code == 412


async def test_a_disabled_partner_is_refused_and_can_be_enabled_again(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register
) -> None:
    partner = await register()
    before = await partner_counts(interagency, partner.code)
    disabled = await interagency.post(
        f"/v1/partners/{partner.code}/disable", json={"reason": "maintenance"}, headers=admin
    )
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["disabled_reason"] == "maintenance"
    after = await partner_counts(interagency, partner.code)
    assert after["disabled_admin"] - before["disabled_admin"] == 1
    assert after["disabled_gone"] == before["disabled_gone"]
    body = partner_event(partner.code, person_found())
    refused = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert refused.status_code == 401

    enabled = await interagency.post(f"/v1/partners/{partner.code}/enable", headers=admin)
    assert enabled.json()["status"] == "enabled"
    accepted = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert accepted.status_code == 202


async def test_an_update_rechecks_the_url(
    interagency: httpx.AsyncClient, admin: dict[str, str], register: Register
) -> None:
    partner = await register()
    response = await interagency.patch(
        f"/v1/partners/{partner.code}",
        json={"webhook_url": "http://[fe80::1]/hook"},
        headers=admin,
    )
    assert response.status_code == 422
    updated = await interagency.patch(
        f"/v1/partners/{partner.code}",
        json={"alert_types": ["missing_person", "suspect_alert"]},
        headers={**admin, "If-Match": "1"},
    )
    assert updated.status_code == 200
    assert updated.json()["alert_types"] == ["missing_person", "suspect_alert"]
    assert updated.json()["version"] == 2
