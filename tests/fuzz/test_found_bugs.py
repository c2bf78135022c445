"""Requests the fuzzers and a reading of the code found to break the contract, one per test.

Every one of them was a 500 or a wrong answer once. Each test pins the one answer the request
must get now (its status and the field or reason it names), so that a regression shows up here
and not as a 500 in production. A bug found and not yet fixed is pinned as a strict xfail with
its note as the reason: it fails the day the bug is fixed, which is the moment to turn it into a
plain test (and to drop its trigger from ``KNOWN_BUGS`` in ``test_schemathesis.py``).
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
    CLERK,
    CW,
    FACTORIES,
    IA,
    IN,
    INV,
    IO,
    NGO_A,
    OR,
    PROS,
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


def refused_fields(response: httpx.Response) -> list[str]:
    """The fields a 422 names, after checking it is a well-formed problem."""
    assert response.status_code == 422, f"{response.status_code}: {response.text[:300]}"
    assert_client_error(response)
    return [e["field"] for e in response.json()["errors"]]


def refusal(response: httpx.Response) -> list[tuple[str, str]]:
    """(field, message) of each error of a 422."""
    refused_fields(response)
    return [(e["field"], e["message"]) for e in response.json()["errors"]]


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


# The last day there is: the period's end + 1 day overflows ---------------------------------------


@pytest.mark.parametrize(
    ("service", "persona"),
    [(IN, IO), (CW, INV), (VS, SW), (IA, SUP), (OR, SUP)],
)
async def test_kpis_up_to_the_last_representable_day_are_refused_naming_to(
    world: World, service: str, persona: Persona
) -> None:
    """Was: ``period_to + timedelta(days=1)`` overflowed for to=9999-12-31 (OverflowError, 500).
    Periods are bounded to 2000-2100 (libs/common/figures.py)."""
    response = await world.call(service, "GET", "/v1/kpis?to=9999-12-31", persona)
    assert refusal(response) == [("to", "Input should be less than or equal to 2100-12-31")]


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
async def test_a_forged_cursor_is_refused(world: World, moment: str) -> None:
    """A cursor is ours or nothing: one we never issued is a 422, never a 500 from a time at the
    edge of the calendar, and never a page that starts wherever the client chose."""
    url = f"/v1/tips?cursor={cursor(moment, str(uuid.uuid4()))}"
    response = await world.call(IN, "GET", url, IO)
    assert refusal(response) == [("cursor", "not a cursor we issued")]


# Times at the edges of the calendar ---------------------------------------------------------------
#
# Was: an RFC 3339 time in year 1 with a positive offset is year 0 in UTC; the validator accepted
# it and the INSERT failed in asyncpg (date value out of range), a 500. Every time the services
# accept is now converted to UTC inside the years 1900-2100 (libs/common/schemas.py utc_moment),
# so the dawn of time is refused wherever a time is accepted, naming the field, as out of range:
# year 0 cannot even be converted (a time of 1899 in UTC is refused by its years, below).

DAWN = "0001-01-01T00:00:00+01:00"
OUT_OF_RANGE = "Value error, out of range"


async def test_a_missing_person_last_seen_at_the_dawn_of_time_is_refused(world: World) -> None:
    body = b.missing_person() | {"last_seen_at": DAWN}
    headers = world.auth(IO) | {"accept-language": "en"}
    response = await world.clients[IN].post("/v1/missing-persons", json=body, headers=headers)
    assert refusal(response) == [("last_seen_at", OUT_OF_RANGE)]


async def test_a_victim_received_at_the_dawn_of_time_is_refused(world: World) -> None:
    body = b.victim() | {"received_at": DAWN}
    response = await world.call(VS, "POST", "/v1/victims", SW, body)
    assert refusal(response) == [("received_at", OUT_OF_RANGE)]


# NUL characters: PostgreSQL text cannot hold them ------------------------------------------------

NUL = "Synthetic\x00name"


@pytest.mark.parametrize(
    ("service", "path", "persona", "body", "field"),
    [
        (OR, "/v1/campaigns", ADMIN, lambda w: b.campaign() | {"name": NUL}, "name"),
        (OR, "/v1/activities", SW, lambda w: b.activity() | {"evidence_ref": NUL}, "evidence_ref"),
        (
            OR,
            "/v1/commendations",
            SW,
            lambda w: b.commendation() | {"recipient_name": NUL},
            "recipient_name",
        ),
        (CW, "/v1/cases", INV, lambda w: b.case() | {"title": NUL}, "title"),
        (CW, "/v1/rings", INV, lambda w: b.ring() | {"name": NUL}, "name"),
        (VS, "/v1/programs", NGO_A, lambda w: b.program() | {"name": NUL}, "name"),
        (
            VS,
            "/v1/victims",
            SW,
            lambda w: b.victim() | {"person": {"full_name": NUL}},
            "person.full_name",
        ),
        (
            IN,
            "/v1/tips",
            IO,
            lambda w: b.tip() | {"description": NUL + " and more text"},
            "description",
        ),
        (
            IN,
            "/v1/missing-persons",
            IO,
            lambda w: b.missing_person() | {"full_name": NUL},
            "full_name",
        ),
        (
            IA,
            "/v1/bulletins",
            IO,
            lambda w: b.bulletin(w.ids["partner_a"]) | {"title": NUL},
            "title",
        ),
        (IA, "/v1/partners", ADMIN, lambda w: b.partner("02") | {"name": NUL}, "name"),
        (
            IA,
            "/v1/partners",
            ADMIN,
            lambda w: b.partner("02") | {"webhook_url": "http://exa\x00mple.org/hook"},
            "webhook_url",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_a_nul_character_is_refused_naming_where_it_is(
    world: World,
    service: str,
    path: str,
    persona: Persona,
    body: Callable[[World], Any],
    field: str,
) -> None:
    """Was: a NUL reached PostgreSQL, whose text cannot hold it, a 500; then a 422 against
    ``body``. Now against the field that holds it.

    In English, asked for: the public intake routes answer in Vietnamese by default.
    """
    headers = world.auth(persona) | {"accept-language": "en"}
    response = await world.clients[service].post(path, json=body(world), headers=headers)
    assert refusal(response) == [(field, "Value error, must not contain NUL characters")]


# Inbound webhooks: what a (signed) partner can send ----------------------------------------------


async def _post_signed(world: World, raw: bytes) -> httpx.Response:
    code = world.ids["partner_a"]
    headers = {"content-type": "application/cloudevents+json"}
    headers |= signed_headers(
        [world.secrets[code]], f"msg_{uuid.uuid4().hex}", int(time.time()), raw
    )
    return await world.clients[IA].post(f"/v1/inbound/{code}", content=raw, headers=headers)


NOT_AN_EVENT = [("body", "Input should be a valid dictionary or instance of InboundEvent")]


@pytest.mark.parametrize(
    ("raw", "reasons"),
    [
        (b"[]", NOT_AN_EVENT),
        (b'"x"', NOT_AN_EVENT),
        (b"null", NOT_AN_EVENT),
        (
            b"{}",
            [(f, "Field required") for f in ("specversion", "id", "source", "type", "data")],
        ),
        (b"1e999999", NOT_AN_EVENT),
        (b"[" * 50_000 + b"]" * 50_000, [("body", "not a JSON document")]),
    ],
    ids=["list", "string", "null", "empty", "huge-number", "deeply-nested"],
)
async def test_a_signed_but_malformed_alert_is_422(
    world: World, raw: bytes, reasons: list[tuple[str, str]]
) -> None:
    response = await _post_signed(world, raw)
    assert refusal(response) == reasons


# Was: an inbound alert that is JSON but not an object ([], "x", null, a number) was a 422 whose
# only error had `field: ""`, which names nothing (a 422 names each field).
@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"1e999999"])
async def test_a_signed_alert_that_is_not_an_object_names_the_body(
    world: World, raw: bytes
) -> None:
    response = await _post_signed(world, raw)
    assert refused_fields(response) == ["body"]


# Lists of partners ------------------------------------------------------------------------------


# Was: `partner_codes: []` was a 422 with `errors: []` (services/interagency/service.py
# _recipients); the lists now have `min_length=1`.


async def test_an_empty_partner_list_names_the_field(world: World) -> None:
    body = b.bulletin(world.ids["partner_a"]) | {"partner_codes": []}
    response = await world.call(IA, "POST", "/v1/bulletins", IO, body)
    assert refused_fields(response) == ["partner_codes"]


async def test_an_empty_partner_list_of_an_alert_names_the_field(world: World) -> None:
    body = b.suspect_alert(world.ids["partner_a"]) | {"partner_codes": []}
    response = await world.call(IA, "POST", "/v1/alerts", IO, body)
    assert refused_fields(response) == ["partner_codes"]


# Free-text path parameters reach SQL -------------------------------------------------------------


# Was: the partner `code` path parameter was a free `str`; a NUL reached PostgreSQL
# (get_partner), a 500, on the public inbound path too. Codes are now `^\d{2}$`.


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/partners/%00"),
        ("PATCH", "/v1/partners/%00"),
        ("POST", "/v1/partners/%00/disable"),
    ],
)
async def test_a_nul_in_a_partner_code_path_is_refused_naming_the_code(
    world: World, method: str, path: str
) -> None:
    body = b.partner_update() if method == "PATCH" else {}
    response = await world.clients[IA].request(method, path, json=body, headers=world.auth(ADMIN))
    assert refused_fields(response) == ["code"]


async def test_an_unsigned_post_to_a_nul_partner_code_is_401(world: World) -> None:
    response = await world.clients[IA].post("/v1/inbound/%00", json={})
    assert response.status_code == 401
    assert_client_error(response)
    assert response.json()["detail"].startswith("invalid webhook signature")


# Offsets that push a time outside the calendar when it is converted to UTC -----------------------
#
# Was: `value.astimezone(UTC)` raised OverflowError (not ValueError, so pydantic did not turn it
# into a 422) for year 1 with a positive offset, a 500 (services/interagency/schemas.py).


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
    assert refusal(response) == [("data.victim_handover.handover_at", OUT_OF_RANGE)]


async def test_a_partner_found_person_at_the_dawn_of_time_is_refused(world: World) -> None:
    event = b.person_found_event(world.ids["partner_a"])
    event["data"]["found_at"] = DAWN
    response = await _post_signed(world, json.dumps(event).encode())
    assert refusal(response) == [("data.person_found.found_at", OUT_OF_RANGE)]


async def _indicted_case(world: World) -> str:
    case = await world.make(CW, "/v1/cases", INV, b.case())
    url = f"/v1/cases/{case['id']}"
    party = await world.make(CW, f"{url}/persons", INV, b.party())
    await world.make(CW, f"{url}/transitions", INV, b.initiate(), status=200)
    indict = {
        "action": "indict",
        "indictment_number": "07/CT-VKS",
        "indicted_on": b.yesterday(),
        "defendants": [{"party_id": party["id"], "charge_article": 150}],
    }
    await world.make(CW, f"{url}/transitions", PROS, indict, status=200)
    return str(case["id"])


def trial_at(moment: str) -> dict[str, str]:
    return {
        "action": "schedule_trial",
        "trial_type": "mobile",
        "scheduled_for": moment,
        "venue": "Ward hall",
    }


async def test_a_trial_whose_utc_time_is_just_inside_the_window_is_scheduled(
    world: World,
) -> None:
    """2000-01-01 at +14:00 is 1999-12-31 in UTC: inside 1900-2100, stored in UTC."""
    case_id = await _indicted_case(world)
    url = f"/v1/cases/{case_id}"
    response = await world.call(
        CW, "POST", f"{url}/transitions", CLERK, trial_at("2000-01-01T00:00:00+14:00")
    )
    assert response.status_code == 200, response.text
    case = (await world.call(CW, "GET", url, INV)).json()
    assert case["status"] == "trial_scheduled"
    assert case["stage_due_at"] == "1999-12-31T10:00:00Z"


async def test_a_trial_whose_utc_time_is_just_outside_the_window_is_refused(
    world: World,
) -> None:
    """1900-01-01 at +01:00 is 1899-12-31 in UTC: outside 1900-2100, refused, nothing changes."""
    case_id = await _indicted_case(world)
    url = f"/v1/cases/{case_id}"
    response = await world.call(
        CW, "POST", f"{url}/transitions", CLERK, trial_at("1900-01-01T00:00:00+01:00")
    )
    assert refusal(response) == [
        ("schedule_trial.scheduled_for", "Value error, a time between the years 1900 and 2100")
    ]
    assert (await world.call(CW, "GET", url, INV)).json()["status"] == "indicted"


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
