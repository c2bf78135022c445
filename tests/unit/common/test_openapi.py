"""Every service's OpenAPI document is fit for client generators: an operation id per operation
that is the route's name, a tag, the bearer scheme where a token is read, and problem responses
that are the ones the operation can give."""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

import pytest

SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach")
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
