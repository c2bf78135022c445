"""Schemathesis against every service's OpenAPI, in-process, with the app's lifespan running.

Each test is one (service, operation, persona): a persona is a token of a role that the operation
concerns (or no token at all). Cases are generated positive and negative, with path parameters
either random or pointing at real records made in setup, so handlers get past "no such record".

Checks on every response:
* never a 5xx (``not_a_server_error``);
* every 4xx/5xx is ``application/problem+json`` with ``type``, ``title``, ``status`` (equal to the
  HTTP status), ``detail`` and ``instance``, and a 422 lists ``errors: [{field, message}]``;
* a 2xx conforms to the documented response schema and content type.

How deep (``CTIP_FUZZ_DEPTH``):

* ``ci`` (the default, what ``make test`` and CI run): 15 examples per test (3 without a token),
  the same ones every run (derandomized), every Hypothesis health check off: each call goes
  through PostgreSQL, so "too slow" is the norm, and CI must not fail on the fuzzer's own comfort;
* ``nightly`` (``make fuzz-deep``): 200 examples per test (40 without a token), new ones each run
  (a failure prints the blob to replay it with ``@reproduce_failure``), and the health check that
  says the fuzzer is not exploring kept on: ``filter_too_much``, e.g. a :data:`KNOWN_BUGS`
  predicate that rejects most of what an operation draws.

``CTIP_FUZZ_EXAMPLES`` overrides the number of examples of either depth.

A bug the fuzzer finds is pinned in ``test_found_bugs.py``: as a strict xfail (its note as the
reason) while it is open, and the request that triggers it is recognised by :data:`KNOWN_BUGS` and
rejected here, so that the fuzzer keeps looking for new bugs instead of tripping over the same
one; once fixed, as a plain test of the answer the request must get, and its entry leaves
:data:`KNOWN_BUGS`.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.auth import issue_dev_token
from libs.common.settings import ServiceSettings
from testkit.intake import resident_key
from tests.acl import builders
from tests.integration.interagency.support import forget_partner, fresh_partner_code

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

DEPTH = os.environ.get("CTIP_FUZZ_DEPTH", "ci")
if DEPTH not in ("ci", "nightly"):
    raise ValueError(f"CTIP_FUZZ_DEPTH is ci or nightly, not {DEPTH!r}")
NIGHTLY = DEPTH == "nightly"
EXAMPLES = int(os.environ.get("CTIP_FUZZ_EXAMPLES", "200" if NIGHTLY else "15"))
SUPPRESSED_HEALTH_CHECKS = (
    [h for h in HealthCheck if h is not HealthCheck.filter_too_much]
    if NIGHTLY
    else list(HealthCheck)
)
PROBLEM_FIELDS = ("type", "title", "status", "detail", "instance")


@dataclass(frozen=True)
class Persona:
    name: str
    role: str | None
    jurisdiction: tuple[str, ...] = ()
    org: str | None = None


ANONYMOUS = Persona("anonymous", None)
SERVICES: dict[str, tuple[str, tuple[Persona, ...]]] = {
    "intake": (
        "IntakeSettings",
        (
            Persona("intake_officer-01", "intake_officer", ("01",)),
            Persona("investigator-01", "investigator", ("01",)),
            Persona("supervisor-01", "supervisor", ("01",)),
            ANONYMOUS,
        ),
    ),
    "casework": (
        "CaseworkSettings",
        (
            Persona("investigator-01", "investigator", ("01",)),
            Persona("prosecutor-01", "prosecutor", ("01",)),
            Persona("court_clerk-01", "court_clerk", ("01",)),
            Persona("supervisor-01", "supervisor", ("01",)),
            ANONYMOUS,
        ),
    ),
    "victim_support": (
        "VictimSupportSettings",
        (
            Persona("social_worker-01", "social_worker", ("01",)),
            Persona("supervisor-01", "supervisor", ("01",)),
            Persona("ngo-a", "ngo", ("01",), org="ngo-a"),
            Persona("admin", "admin"),
            ANONYMOUS,
        ),
    ),
    "interagency": (
        "InteragencySettings",
        (
            Persona("admin", "admin"),
            Persona("intake_officer-01", "intake_officer", ("01",)),
            Persona("social_worker-01", "social_worker", ("01",)),
            Persona("supervisor-01", "supervisor", ("01",)),
            ANONYMOUS,
        ),
    ),
    "outreach": (
        "OutreachSettings",
        (
            Persona("admin-01", "admin", ("01",)),
            Persona("social_worker-01", "social_worker", ("01",)),
            Persona("supervisor-01", "supervisor", ("01",)),
            ANONYMOUS,
        ),
    ),
    "notifications": (
        "NotificationsSettings",
        (
            Persona("intake_officer-01", "intake_officer", ("01",)),
            Persona("supervisor-01", "supervisor", ("01",)),
            Persona("ngo-a", "ngo", ("01",), org="ngo-a"),
            ANONYMOUS,
        ),
    ),
}
# Generous public-endpoint limits: the fuzzer is one client that files far more than a person.
OVERRIDES: dict[str, dict[str, Any]] = {
    "intake": {
        "anonymous_filings_per_hour": 1_000_000,
        "receipt_failures_per_client": 1_000_000,
        "receipt_failures_global": 1_000_000,
    },
    "interagency": {"run_delivery_worker": False},
    # The stream ends soon: the in-process client reads a response to its end.
    "notifications": {"stream_max_seconds": 0.2},
}


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    cls: type[ServiceSettings] = getattr(module, SERVICES[service][0])
    return cls


def app_factory(service: str) -> Callable[[ServiceSettings], Any]:
    factory: Callable[[ServiceSettings], Any] = importlib.import_module(
        f"services.{service}.app"
    ).create_app
    return factory


@cache
def operations(service: str) -> list[tuple[str, str]]:
    """(METHOD, path) of the service's OpenAPI, read at collection time (no I/O needed)."""
    spec = app_factory(service)(settings_class(service)()).openapi()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


def _cases() -> Iterator[Any]:
    for service, (_, personas) in SERVICES.items():
        for method, path in operations(service):
            for persona in personas:
                yield pytest.param(
                    service, method, path, persona, id=f"{service}:{method} {path}:{persona.name}"
                )


# Known bugs (see test_found_bugs.py): (service, method, path) -> predicate on the case. ----------
#
# An entry recognises the requests that trigger one open bug, e.g. for a 500 on the last day:
#     ("intake", "GET", "/v1/kpis"): lambda case, response: response.status_code == 500
#         and str((case.query or {}).get("to", "")).startswith("9999"),
# Empty now: every bug found so far is fixed, and test_found_bugs.py pins each as a plain test (it
# has no strict xfail; the last one, inbound alerts that are not objects, became one in 2a075e8).
KNOWN_BUGS: dict[tuple[str, str, str], Callable[[Any, Any], bool]] = {}


def _known_bug(service: str, case: Any, response: Any) -> bool:
    predicate = KNOWN_BUGS.get((service, case.method.upper(), case.operation.path))
    return predicate is not None and predicate(case, response)


# Checks -------------------------------------------------------------------------------------------


def problem_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """RFC 9457 for every error."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/problem+json"), (
        f"{response.status_code} with content-type {content_type!r}: {response.text[:300]}"
    )
    body = json.loads(response.text)
    missing = [f for f in PROBLEM_FIELDS if f not in body]
    assert not missing, f"problem without {missing}: {body}"
    assert body["status"] == response.status_code, body
    assert all(isinstance(body[f], str) for f in ("type", "title", "detail", "instance")), body
    assert "Traceback" not in response.text and 'File "' not in response.text, body
    if response.status_code == 422:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, f"422 without errors: {body}"
        assert all(
            isinstance(e, dict) and {"field", "message", "code"} <= set(e) for e in errors
        ), body
    return None


def documented_success(ctx: Any, response: Any, case: Any) -> bool | None:
    """Response conformance where the OpenAPI is specific: the 2xx it documents."""
    if 200 <= response.status_code < 300:
        content_type_conformance(ctx, response, case)
        response_schema_conformance(ctx, response, case)
    return None


CHECKS = [not_a_server_error, problem_json, documented_success]


# The apps, started once per session in schemathesis' event-loop thread ---------------------------


class Fuzzed:
    """One service's app and its schema, plus the real records its path parameters may use."""

    def __init__(self, service: str, settings: ServiceSettings) -> None:
        self.service = service
        self.settings = settings
        self.app = app_factory(service)(settings)
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        self.path_values: dict[str, dict[str, str]] = {}
        self.partner_codes: list[str] = []

    def headers(self, persona: Persona) -> dict[str, str]:
        if persona.role is None:  # a residents' app: a fresh random Idempotency-Key each time
            return resident_key()
        token = issue_dev_token(
            self.settings, roles=[persona.role], jurisdiction=persona.jurisdiction, org=persona.org
        )
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, persona: Persona, body: Any = None) -> Any:
        with asgi.get_client(self.app) as client:
            response = client.request(method, path, json=body, headers=self.headers(persona))
        assert response.status_code < 300, f"seed {method} {path}: {response.text}"
        return response.json()


OFFICER = Persona("seed-officer", "intake_officer", ("01",))
INVESTIGATOR = Persona("seed-investigator", "investigator", ("01",))
SOCIAL_WORKER = Persona("seed-sw", "social_worker", ("01",))
NGO = Persona("seed-ngo", "ngo", ("01",), org="ngo-a")
ADMIN = Persona("seed-admin", "admin", ("01",))


def _seed(apps: dict[str, Fuzzed]) -> None:
    """Real records for the path parameters, made through the APIs themselves."""
    intake = apps["intake"]
    tip = intake.call("POST", "/v1/tips", OFFICER, builders.tip())
    mp = intake.call("POST", "/v1/missing-persons", OFFICER, builders.missing_person())
    for path in intake.schema.raw_schema["paths"]:
        intake.path_values[path] = {
            "tip_id": tip["id"],
            "receipt_code": tip["receipt_code"],
            "missing_person_id": mp["id"],
        }

    casework = apps["casework"]
    case = casework.call("POST", "/v1/cases", INVESTIGATOR, builders.case())
    casework.call("POST", f"/v1/cases/{case['id']}/persons", INVESTIGATOR, builders.party())
    ring = casework.call("POST", "/v1/rings", INVESTIGATOR, builders.ring([case["id"]]))
    for path in casework.schema.raw_schema["paths"]:
        casework.path_values[path] = {"case_id": case["id"], "ring_id": ring["id"]}

    vs = apps["victim_support"]
    victim = vs.call("POST", "/v1/victims", SOCIAL_WORKER, builders.victim())
    vs.call("POST", f"/v1/victims/{victim['id']}/consents", SOCIAL_WORKER, builders.consent())
    program = vs.call("POST", "/v1/programs", NGO, builders.program())
    vs.call(
        "POST", f"/v1/programs/{program['id']}/enrollments", NGO, builders.enrollment(victim["id"])
    )
    for path in vs.schema.raw_schema["paths"]:
        vs.path_values[path] = {"victim_id": victim["id"], "program_id": program["id"]}

    ia = apps["interagency"]
    code = fresh_partner_code()
    ia.partner_codes.append(code)
    ia.call("POST", "/v1/partners", ADMIN, builders.partner(code))
    alert = ia.call("POST", "/v1/bulletins", OFFICER, builders.bulletin(code))
    deliveries = ia.call("GET", f"/v1/deliveries?partner_code={code}", ADMIN)["items"]
    for path in ia.schema.raw_schema["paths"]:
        ia.path_values[path] = {
            "code": code,
            "partner_code": code,
            "alert_id": alert["id"],
            **({"delivery_id": deliveries[0]["id"]} if deliveries else {}),
        }

    outreach = apps["outreach"]
    outreach.call("POST", "/v1/campaigns", ADMIN, builders.campaign())
    outreach.path_values["/v1/wards/{code}/population"] = {"code": builders.HOME_WARD}
    outreach.path_values["/v1/target-groups/{code}"] = {"code": "students"}


@pytest.fixture(scope="module")
def fuzzed(settings_for: Callable[..., Any], database_url: str) -> Iterator[dict[str, Fuzzed]]:
    apps = {
        service: Fuzzed(
            service,
            settings_for(
                settings_class(service),
                run_consumers=False,
                log_level="CRITICAL",
                **OVERRIDES.get(service, {}),
            ),
        )
        for service in SERVICES
    }
    try:
        _seed(apps)
        yield apps
    finally:
        codes = apps["interagency"].partner_codes
        asgi.shutdown_lifespans()
        if codes:
            asgi._get_portal().call(_forget_partners, database_url, codes)


async def _forget_partners(database_url: str, codes: list[str]) -> None:
    """Free the province codes for the other tests of the session (there are only 33)."""
    engine = create_async_engine(database_url)
    for code in codes:
        await forget_partner(engine, code)
    await engine.dispose()


def _strategy(fuzz: Fuzzed, method: str, path: str) -> st.SearchStrategy[Any]:
    operation = fuzz.schema[path][method]
    names = {p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "path"}
    real = {k: v for k, v in fuzz.path_values.get(path, {}).items() if k in names}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if real:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=real))
    return st.one_of(strategies)


@pytest.mark.parametrize(("service", "method", "path", "persona"), list(_cases()))
def test_operation_never_fails_and_speaks_problem_json(
    fuzzed: dict[str, Fuzzed], service: str, method: str, path: str, persona: Persona
) -> None:
    fuzz = fuzzed[service]
    examples = EXAMPLES if persona.role is not None else max(3, EXAMPLES // 5)

    @settings(
        max_examples=examples,
        derandomize=not NIGHTLY,
        print_blob=NIGHTLY,
        deadline=None,
        database=None,
        suppress_health_check=SUPPRESSED_HEALTH_CHECKS,
    )
    @given(case=_strategy(fuzz, method, path))
    def run(case: Any) -> None:
        sent = fuzz.headers(persona)  # a fresh Idempotency-Key for each anonymous example
        response = case.call(headers=sent)
        if _known_bug(service, case, response):
            reject()
        case.validate_response(response, checks=CHECKS, headers=sent)

    run()
