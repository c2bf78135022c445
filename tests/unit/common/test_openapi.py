"""Every service's OpenAPI document is fit for client generators: an operation id per operation
that is the route's name, a tag, the bearer scheme where a token is read, and problem responses
that are the ones the operation can give."""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

import pytest

SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach", "notifications")
PROBLEM = "#/components/schemas/ProblemDetail"


@cache
def document(service: str) -> dict[str, Any]:
    app = importlib.import_module(f"services.{service}.app").create_app()
    schema: dict[str, Any] = app.openapi()
    return schema


def operations(service: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in document(service)["paths"].items()
        for method, op in item.items()
        if path.startswith("/v1/")
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_operation_ids_are_unique_route_names(service: str) -> None:
    ids = [op["operationId"] for _, _, op in operations(service)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", operation_id), operation_id
        assert not re.search(r"_v1_|_(get|post|put)$", operation_id), operation_id


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_has_a_tag_and_a_success_response(service: str) -> None:
    for path, method, op in operations(service):
        assert op.get("tags"), (method, path)
        assert any(s.startswith("2") for s in op["responses"]), (method, path)


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_response_is_a_problem(service: str) -> None:
    for path, method, op in operations(service):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                content = response["content"]["application/problem+json"]
                assert content["schema"]["$ref"] == PROBLEM, (method, path, status)


@pytest.mark.parametrize("service", SERVICES)
def test_the_bearer_scheme_is_documented_where_a_token_is_read(service: str) -> None:
    scheme = document(service)["components"]["securitySchemes"]["HTTPBearer"]
    assert scheme == scheme | {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for path, method, op in operations(service):
        security = op.get("security", [])
        responses = op["responses"]
        if security == [{"HTTPBearer": []}]:  # a token is needed
            assert {"401", "403"} <= set(responses), (method, path)
            assert "429" not in responses, (method, path)
        elif security == [{}, {"HTTPBearer": []}]:  # a token may be sent
            assert "401" in responses and "403" not in responses, (method, path)
        else:  # signed partner webhooks, receipt codes: no token at all
            assert security == [], (method, path, security)
            assert "403" not in responses, (method, path)


@pytest.mark.parametrize("service", SERVICES)
def test_bodies_document_their_size_limit_and_validation(service: str) -> None:
    for path, method, op in operations(service):
        if "requestBody" in op:
            assert {"413", "422"} <= set(op["responses"]), (method, path)
        if method == "get":
            assert not {"409", "412", "413"} & set(op["responses"]), (method, path)


def test_the_public_forms_are_the_ones_that_answer_429() -> None:
    limited = {
        (method, path) for path, method, op in operations("intake") if "429" in op["responses"]
    }
    assert {("post", "/v1/tips"), ("post", "/v1/receipts/lookup")} <= limited


@pytest.mark.parametrize("service", ["intake"])
def test_429_says_when_to_come_back(service: str) -> None:
    for path, method, op in operations(service):
        if "429" in op["responses"]:
            header = op["responses"]["429"]["headers"]["Retry-After"]
            assert header["schema"] == {"type": "integer", "minimum": 1}, (path, method)


def _person_rule(service: str, name: str) -> Any:
    import jsonschema_rs

    schema = document(service)["components"]["schemas"][name]
    return jsonschema_rs.validator_for({k: v for k, v in schema.items() if k in ("not", "anyOf")})


@pytest.mark.parametrize(
    ("service", "name"),
    [("intake", "PersonIn"), ("casework", "PartyIn"), ("victim_support", "PersonIn")],
)
def test_date_of_birth_or_age_not_both_is_in_the_schema(service: str, name: str) -> None:
    rule = _person_rule(service, name)
    assert not rule.is_valid({"date_of_birth": "2001-02-03", "age": 25})
    assert rule.is_valid({"date_of_birth": "2001-02-03", "age": None})
    assert rule.is_valid({"age": 25})
    assert rule.is_valid({})


def test_a_missing_person_needs_exactly_one_of_date_of_birth_or_age_in_the_schema() -> None:
    rule = _person_rule("intake", "MissingPersonCreate")
    assert not rule.is_valid({"date_of_birth": "2001-02-03", "age": 25})
    assert not rule.is_valid({})
    assert not rule.is_valid({"age": None, "date_of_birth": None})
    assert rule.is_valid({"date_of_birth": "2001-02-03"})
    assert rule.is_valid({"age": 25, "date_of_birth": None})


def test_an_alerts_person_is_given_by_date_of_birth_or_age_not_both_in_the_schema() -> None:
    rule = _person_rule("interagency", "PersonFoundData")
    assert not rule.is_valid({"date_of_birth": "2001-02-03", "age": 25})
    assert rule.is_valid({"age": 25})


# What an app must translate: every status a response carries is one of a listed set.
STATUSES = {
    "intake": ["ReceiptView", "TipSummary", "MissingPersonSummary", "PossibleMatchOut"],
    "casework": ["CaseSummary", "RelatedCase", "TimelineEntry"],
    "victim_support": ["VictimSummary", "TimelineEntry", "VictimLinkOut"],
    "interagency": ["PartnerRead", "MatchRead", "DeliveryOut"],
}


def _listed(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """An enum, a const, a reference to one, or a choice (anyOf) of those and null."""
    if "$ref" in schema:
        return _listed(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if "anyOf" in schema:
        return all(s == {"type": "null"} or _listed(s, components) for s in schema["anyOf"])
    return "enum" in schema or "const" in schema


@pytest.mark.parametrize("service", sorted(STATUSES))
def test_statuses_in_responses_are_enums(service: str) -> None:
    components = document(service)["components"]["schemas"]
    for name in STATUSES[service]:
        properties = components[name]["properties"]
        statuses = [p for p in properties if p == "status" or p.endswith("_status")]
        assert statuses, name
        for field in statuses:
            assert _listed(properties[field], components), (name, field)
