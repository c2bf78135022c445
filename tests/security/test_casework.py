"""Findings of the security review in casework: tips squatted by a hand-opened case, and the
timeline's legal facts (reasons, venue) stored in clear."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.crypto import FieldCipher
from libs.common.jurisdiction import wards_of
from libs.common.settings import ServiceSettings
from tests.integration.casework.conftest import (  # noqa: F401
    auth,
    casework,
    casework_app,
    casework_settings,
)
from tests.integration.casework.support import (
    HAI_BA_TRUNG,
    HANOI,
    INVESTIGATOR,
    Auth,
    Casework,
    known_tip,
)
from tests.integration.migrating import rows_after_migration
from tests.support import fresh_ward

pytestmark = [pytest.mark.integration, pytest.mark.security]

QUASI_IDENTIFIERS = ("age", "sex", "hometown_ward_code", "nationality")
PARTIES_REVISION = "c3d4e5f6a7b8"

HCMC_WARD = "26734"


async def _cases_for(client: httpx.AsyncClient, auth: Auth, tip_id: str) -> list[object]:
    response = await client.get(
        "/v1/cases", params={"tip_id": tip_id}, headers=auth(INVESTIGATOR, HANOI)
    )
    assert response.status_code == 200
    return list(response.json()["items"])


async def _open(
    client: httpx.AsyncClient, auth: Auth, tip_id: str, ward: str = HAI_BA_TRUNG
) -> httpx.Response:
    return await client.post(
        "/v1/cases",
        json={"title": "Vụ án giả lập", "ward_code": ward, "summary": "x", "tip_id": tip_id},
        headers=auth(INVESTIGATOR, HANOI),
    )


async def test_a_case_cannot_squat_a_tip_casework_does_not_know(
    casework: httpx.AsyncClient, auth: Auth
) -> None:
    tip_id = str(uuid4())
    response = await _open(casework, auth, tip_id)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "tip_id",
            "message": "no tip known to casework in your jurisdiction",
            "code": "tip_id.unknown",
        }
    ]
    assert await _cases_for(casework, auth, tip_id) == []


async def test_a_case_cannot_squat_another_provinces_tip_and_learns_nothing_of_it(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    tip_id = await known_tip(db, HCMC_WARD, "79")
    response = await _open(casework, auth, tip_id)
    unknown = await _open(casework, auth, str(uuid4()))
    assert response.status_code == 422
    assert response.json()["errors"] == unknown.json()["errors"]
    assert response.json()["detail"] == unknown.json()["detail"]
    assert await _cases_for(casework, auth, tip_id) == []


async def test_a_case_for_a_known_tip_opens_only_in_the_tips_ward(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    tip_id = await known_tip(db, HAI_BA_TRUNG, HANOI)
    elsewhere = await _open(casework, auth, tip_id, ward=fresh_ward())
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"] == [
        {
            "field": "ward_code",
            "message": "must be the ward of the tip",
            "code": "ward_code.not_the_tips",
        }
    ]
    opened = await _open(casework, auth, tip_id)
    assert opened.status_code == 201, opened.text
    (case,) = await _cases_for(casework, auth, tip_id)
    assert isinstance(case, dict) and case["tip_id"] == tip_id


async def test_timeline_facts_and_trial_venue_are_encrypted_at_rest(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    cw = Casework(casework, auth)
    venue = "Nhà văn hoá tổ dân phố 7 (synthetic venue)"
    ground = "Người tố giác Trần Thị Giả Lập rút đơn (synthetic)"
    declined = await cw.open()
    await cw.step(declined["id"], "decline", legal_ground=ground)
    tried = await cw.case_in("indicted")
    await cw.step(tried["id"], "schedule_trial", venue=venue)
    async with db.connect() as conn:
        stored = (
            await conn.execute(
                text(
                    "SELECT details FROM casework.case_events WHERE case_id IN (:a, :b)"
                    " UNION ALL SELECT trial_venue FROM casework.cases WHERE id = :b"
                ),
                {"a": UUID(declined["id"]), "b": UUID(tried["id"])},
            )
        ).scalars()
        dump = "\n".join(str(v) for v in stored)
    assert dump, "no timeline rows stored"
    for secret in (venue, ground, "Giả Lập", "synthetic"):
        assert secret not in dump
    assert (await cw.get(tried["id"]))["facts"]["trial_venue"] == venue
    timeline = (await cw.get(declined["id"]))["timeline"]
    (decline,) = [e for e in timeline if e["action"] == "decline"]
    assert decline["details"]["legal_ground"] == ground


async def test_a_partys_age_sex_hometown_and_nationality_are_encrypted_at_rest(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    cw = Casework(casework, auth)
    case = await cw.open()
    hometown = wards_of("11")[3]
    person = {"age": 16, "sex": "female", "hometown_ward_code": hometown, "nationality": "LA"}
    party = await cw.add_person(case["id"], role="victim", full_name="Nạn Nhân Giả", **person)
    async with db.connect() as conn:
        stored = dict(
            (
                await conn.execute(
                    text("SELECT to_jsonb(p) FROM casework.parties p WHERE id = :id"),
                    {"id": UUID(party["id"])},
                )
            ).scalar_one()
        )
    assert "birth_year" not in stored
    assert {c: str(stored[c])[:3] for c in QUASI_IDENTIFIERS} == dict.fromkeys(
        QUASI_IDENTIFIERS, "v1."
    )
    (shown,) = [p for p in (await cw.get(case["id"]))["persons"] if p["id"] == party["id"]]
    assert {c: shown[c] for c in QUASI_IDENTIFIERS} == person


def test_the_migration_encrypts_the_parties_written_in_clear_before_it() -> None:
    now = datetime.now(UTC)
    case_id = uuid4()
    hometown = wards_of("11")[4]
    common = {"case_id": case_id, "role": "victim", "added_at": now, "added_by": "sw"}
    written = [
        {**common, "id": uuid4(), "birth_year": 2010, "age": 16, "sex": "female",
         "hometown_ward_code": hometown, "nationality": "LA"},
        {**common, "id": uuid4(), "birth_year": None, "age": None, "sex": None,
         "hometown_ward_code": None, "nationality": None},
    ]  # fmt: skip
    case = {
        "id": case_id, "title": "v1.x", "status": "open", "ward_code": HAI_BA_TRUNG,
        "province_code": HANOI, "exploitation_types": [], "opened_at": now, "opened_by": "i",
        "stage_entered_at": now, "defendants": "[]", "sentences": "[]", "version": 1,
    }  # fmt: skip
    after = rows_after_migration(
        "casework", PARTIES_REVISION, "parties", written, before=[("cases", [case])]
    )
    stored = {row["id"]: row for row in after}
    cipher = FieldCipher.from_spec(ServiceSettings().field_keys.get_secret_value())
    for original in written:
        row = stored[str(original["id"])]
        assert "birth_year" not in row
        for column in QUASI_IDENTIFIERS:
            if original[column] is None:
                assert row[column] is None
                continue
            plain = cipher.decrypt(row[column], f"casework.parties.{column}")
            assert plain == str(original[column])
