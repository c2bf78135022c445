"""Requests the fuzzers and a reading of the code found to break the contract, one per test.

Each must answer a 4xx ``application/problem+json`` (never a 5xx, never another shape). Every one
of them was a 500 or a wrong answer once; they stay as regression guards, with near misses.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.webhooks import signed_headers
from tests.acl import builders as b
from tests.acl.test_access_matrix import (
    ADMIN,
    CW,
    FACTORIES,
    IA,
    IN,
    INV,
    IO,
    NGO_A,
    OR,
    SUP,
    SW,
    VS,
    Persona,
    World,
)
from tests.integration.interagency.support import forget_partner

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]


@asynccontextmanager
async def running_quietly(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan; a crash is the 500 a client would get, not a test exception."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="module")
async def world(settings_for: Callable[..., Any], database_url: str) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        settings: dict[str, Any] = {}
        clients: dict[str, httpx.AsyncClient] = {}
        for name, (factory, cls, overrides) in FACTORIES.items():
            settings[name] = settings_for(
                cls, log_level="CRITICAL", run_consumers=False, **overrides
            )
            clients[name] = await stack.enter_async_context(
                running_quietly(factory(settings[name]))
            )
        world = World(clients, settings)
        try:
            world.ids["partner_a"] = await world.partner()
            world.ids["tip"] = (await world.make(IN, "/v1/tips", IO, b.tip()))["id"]
            yield world
        finally:
            engine = create_async_engine(database_url)
            for code in world.partner_codes:
                await forget_partner(engine, code)
            await engine.dispose()


def assert_client_error(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)
    if response.status_code == 422:
        assert problem.get("errors"), problem


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


# The last day there is: the period's end + 1 day overflows ---------------------------------------

KPI_OVERFLOW = (
    "BUG: `period_to + timedelta(days=1)` overflows for to=9999-12-31 (OverflowError -> 500); "
    "fix: bound `to`/`from` (e.g. Query(le=date(9000, 1, 1))) or catch OverflowError -> 422"
)


@pytest.mark.parametrize(
    ("service", "persona"),
    [
        (IN, IO),
        (CW, INV),
        (VS, SW),
        (IA, SUP),
        pytest.param(OR, SUP),
    ],
)
async def test_kpis_up_to_the_last_representable_day(
    world: World, service: str, persona: Persona
) -> None:
    response = await world.call(service, "GET", "/v1/kpis?to=9999-12-31", persona)
    if response.status_code < 400:
        return
    assert_client_error(response)


# Cursors we never issued --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "2026-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "x",
    ],
)
async def test_a_forged_cursor_is_refused_or_ignored(world: World, moment: str) -> None:
    url = f"/v1/tips?cursor={cursor(moment, str(uuid.uuid4()))}"
    response = await world.call(IN, "GET", url, IO)
    if response.status_code != 200:
        assert_client_error(response)


# Times at the edges of the calendar ---------------------------------------------------------------


DAWN_OF_TIME = (
    "BUG: an RFC 3339 time in year 1 with a positive offset is year 0 in UTC; the validator "
    "accepts it and the INSERT fails in asyncpg (date value out of range) -> 500. Fix: in the "
    "validator convert with `value.astimezone(UTC)` inside try/except OverflowError -> "
    "ValueError, or bound the year (e.g. >= 1900)"
)


async def test_a_missing_person_last_seen_at_the_dawn_of_time(world: World) -> None:
    body = b.missing_person() | {"last_seen_at": "0001-01-01T00:00:00+01:00"}
    response = await world.call(IN, "POST", "/v1/missing-persons", IO, body)
    if response.status_code != 201:
        assert_client_error(response)


async def test_a_victim_received_at_the_dawn_of_time(world: World) -> None:
    body = b.victim() | {"received_at": "0001-01-01T00:00:00+01:00"}
    response = await world.call(VS, "POST", "/v1/victims", SW, body)
    if response.status_code != 201:
        assert_client_error(response)


# NUL characters: PostgreSQL text cannot hold them ------------------------------------------------

NUL = "Synthetic\x00name"


@pytest.mark.parametrize(
    ("service", "path", "persona", "body"),
    [
        (OR, "/v1/campaigns", ADMIN, lambda w: b.campaign() | {"name": NUL}),
        (OR, "/v1/activities", SW, lambda w: b.activity() | {"evidence_ref": NUL}),
        (OR, "/v1/commendations", SW, lambda w: b.commendation() | {"recipient_name": NUL}),
        (CW, "/v1/cases", INV, lambda w: b.case() | {"title": NUL}),
        (CW, "/v1/rings", INV, lambda w: b.ring() | {"name": NUL}),
        (VS, "/v1/programs", NGO_A, lambda w: b.program() | {"name": NUL}),
        (VS, "/v1/victims", SW, lambda w: b.victim() | {"person": {"full_name": NUL}}),
        (IN, "/v1/tips", IO, lambda w: b.tip() | {"description": NUL + " and more text"}),
        (IN, "/v1/missing-persons", IO, lambda w: b.missing_person() | {"full_name": NUL}),
        (IA, "/v1/bulletins", IO, lambda w: b.bulletin(w.ids["partner_a"]) | {"title": NUL}),
        (IA, "/v1/partners", ADMIN, lambda w: b.partner("02") | {"name": NUL}),
        (
            IA,
            "/v1/partners",
            ADMIN,
            lambda w: b.partner("02") | {"webhook_url": "http://exa\x00mple.org/hook"},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_a_nul_character_is_refused_not_a_500(
    world: World, service: str, path: str, persona: Persona, body: Callable[[World], Any]
) -> None:
    response = await world.call(service, "POST", path, persona, body(world))
    if response.status_code not in (200, 201):
        assert_client_error(response)


# Inbound webhooks: what a (signed) partner can send ----------------------------------------------


async def _post_signed(world: World, raw: bytes) -> httpx.Response:
    code = world.ids["partner_a"]
    headers = {"content-type": "application/cloudevents+json"}
    headers |= signed_headers(
        [world.secrets[code]], f"msg_{uuid.uuid4().hex}", int(time.time()), raw
    )
    return await world.clients[IA].post(f"/v1/inbound/{code}", content=raw, headers=headers)


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'"x"',
        b"null",
        b"{}",
        b"1e999999",
        b"[" * 50_000 + b"]" * 50_000,
    ],
    ids=["list", "string", "null", "empty", "huge-number", "deeply-nested"],
)
async def test_a_signed_but_malformed_alert_is_422(world: World, raw: bytes) -> None:
    response = await _post_signed(world, raw)
    assert_client_error(response)


# Lists of partners ------------------------------------------------------------------------------


EMPTY_ERRORS = (
    "BUG: `partner_codes: []` is a 422 with `errors: []` (services/interagency/service.py "
    "_recipients); fix: `Field(None, min_length=1)` on BulletinIn/OutboundAlertIn.partner_codes, "
    "or name the field in `errors`"
)


async def test_an_empty_partner_list_names_the_field(world: World) -> None:
    body = b.bulletin(world.ids["partner_a"]) | {"partner_codes": []}
    response = await world.call(IA, "POST", "/v1/bulletins", IO, body)
    assert_client_error(response)


async def test_an_empty_partner_list_of_an_alert_names_the_field(world: World) -> None:
    body = b.suspect_alert(world.ids["partner_a"]) | {"partner_codes": []}
    response = await world.call(IA, "POST", "/v1/alerts", IO, body)
    assert_client_error(response)


# Free-text path parameters reach SQL -------------------------------------------------------------


NUL_CODE = (
    "BUG: the partner `code` path parameter is a free `str`; a NUL reaches PostgreSQL "
    "(services/interagency/repository.py:42 get_partner) -> 500, on the public inbound path "
    "too (services/interagency/api.py:118-221). Fix: `Path(pattern=r'^\\d{2}$')` on `code` and "
    "`partner_code` (a province code), as the list filters already do"
)


@pytest.mark.parametrize(
    ("method", "path", "persona"),
    [
        ("GET", "/v1/partners/%00", ADMIN),
        ("PATCH", "/v1/partners/%00", ADMIN),
        ("POST", "/v1/partners/%00/disable", ADMIN),
        ("POST", "/v1/inbound/%00", None),
    ],
)
async def test_a_nul_in_a_partner_code_path_is_a_4xx(
    world: World, method: str, path: str, persona: Persona | None
) -> None:
    body = b.partner_update() if method == "PATCH" else {}
    headers = world.auth(persona) if persona else {}
    response = await world.clients[IA].request(method, path, json=body, headers=headers)
    assert_client_error(response)


# Offsets that push a time outside the calendar when it is converted to UTC -----------------------

DAWN = "0001-01-01T00:00:00+01:00"


ASTIMEZONE = (
    "BUG: `_aware` calls `value.astimezone(UTC)`, which raises OverflowError (not ValueError, "
    "so pydantic does not turn it into a 422) for year 1 with a positive offset -> 500 "
    "(services/interagency/schemas.py:84). Fix: catch OverflowError and raise ValueError"
)


async def test_a_handover_at_the_dawn_of_time_is_refused(world: World) -> None:
    body = {
        "data": {
            "alert_type": "victim_handover",
            "full_name": "Synthetic Person",
            "handover_at": DAWN,
            "receiving_province_code": world.ids["partner_a"],
        }
    }
    response = await world.call(IA, "POST", "/v1/alerts", IO, body)
    assert_client_error(response)


async def test_a_partner_found_person_at_the_dawn_of_time_is_refused(world: World) -> None:
    event = b.person_found_event(world.ids["partner_a"])
    event["data"]["found_at"] = DAWN
    response = await _post_signed(world, json.dumps(event).encode())
    assert_client_error(response)


async def test_a_trial_at_the_edge_of_its_window_is_fine(world: World) -> None:
    case = await world.make(CW, "/v1/cases", INV, b.case())
    body = {
        "action": "schedule_trial",
        "trial_type": "mobile",
        "scheduled_for": "2000-01-01T00:00:00+14:00",
        "venue": "Ward hall",
    }
    response = await world.call(CW, "POST", f"/v1/cases/{case['id']}/transitions", INV, body)
    assert_client_error(response)


# The OpenAPI documents the errors the services really send ---------------------------------------


@pytest.mark.parametrize("service", list(FACTORIES))
def test_the_openapi_documents_422_as_problem_json(service: str) -> None:
    factory, cls, overrides = FACTORIES[service]
    spec = factory(cls(**overrides)).openapi()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            documented = operation.get("responses", {}).get("422")
            if documented is not None:
                assert "application/problem+json" in documented.get("content", {}), (method, path)
