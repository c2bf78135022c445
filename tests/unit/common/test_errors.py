"""Problem rendering through a bare FastAPI app (RFC 9457)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from libs.common.errors import (
    PROBLEM_JSON,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    install_error_handlers,
)

# These routes need no token, so they would answer in Vietnamese (tests/unit/common/test_i18n.py).
ENGLISH = {"Accept-Language": "en"}
SECRET_MESSAGE = "password=hunter2 at db.internal:5432"


class Person(BaseModel):
    name: str


class TipBody(BaseModel):
    description: str = Field(min_length=1)
    victim: Person | None = None


class SearchBody(BaseModel):
    query: str


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    return app


@pytest.fixture
def app() -> FastAPI:
    app = _app()

    @app.post("/tips")
    async def create_tip(body: TipBody) -> dict[str, str]:
        return {"description": body.description}

    @app.get("/tips")
    async def list_tips(limit: int = Query(50, ge=1, le=200)) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/search")
    async def search(body: SearchBody) -> dict[str, str]:
        return {"query": body.query}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET_MESSAGE)

    return app


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, headers=ENGLISH)


@pytest.mark.parametrize(
    ("problem", "status", "code"),
    [
        (Problem, 400, "bad-request"),
        (Unauthorized, 401, "unauthorized"),
        (Forbidden, 403, "forbidden"),
        (NotFound, 404, "not-found"),
        (Conflict, 409, "conflict"),
        (PreconditionFailed, 412, "precondition-failed"),
        (PayloadTooLarge, 413, "payload-too-large"),
        (Unprocessable, 422, "validation-error"),
        (TooManyRequests, 429, "rate-limited"),
        (ServiceUnavailable, 503, "unavailable"),
    ],
)
def test_problem_renders_its_status_as_problem_json(
    problem: type[Problem], status: int, code: str
) -> None:
    app = _app()

    @app.get("/raise")
    async def raise_it() -> None:
        raise problem("something specific")

    response = TestClient(app, headers=ENGLISH).get("/raise")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    expected: dict[str, object] = {
        "type": f"https://ctip.gov.vn/problems/{code}",
        "title": problem.title,
        "status": status,
        "detail": "something specific",
        "instance": "/raise",
    }
    if status == 422:  # a 422 always says what is wrong, field by field
        expected["errors"] = [{"field": "", "message": "something specific"}]
    assert response.json() == expected


def test_problem_without_detail_uses_its_title() -> None:
    app = _app()

    @app.get("/raise")
    async def raise_it() -> None:
        raise NotFound()

    assert TestClient(app, headers=ENGLISH).get("/raise").json()["detail"] == NotFound.title


def test_problem_extra_members_and_errors_are_rendered() -> None:
    app = _app()

    @app.get("/raise")
    async def raise_it() -> None:
        raise PreconditionFailed(
            "stale", errors=[{"field": "If-Match", "message": "old"}], current_version=4
        )

    body = TestClient(app, headers=ENGLISH).get("/raise").json()
    assert body["current_version"] == 4
    assert body["errors"] == [{"field": "If-Match", "message": "old"}]


def test_problem_headers_are_sent() -> None:
    app = _app()

    @app.get("/raise")
    async def raise_it() -> None:
        raise TooManyRequests(headers={"Retry-After": "30"})

    assert TestClient(app, headers=ENGLISH).get("/raise").headers["retry-after"] == "30"


def test_body_validation_is_422_with_field_errors(client: TestClient) -> None:
    response = client.post("/tips", json={"description": ""})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://ctip.gov.vn/problems/validation-error"
    assert body["status"] == 422
    assert body["instance"] == "/tips"
    assert [e["field"] for e in body["errors"]] == ["description"]
    assert body["errors"][0]["message"]


def test_missing_body_field_is_named_without_the_body_prefix(client: TestClient) -> None:
    errors = client.post("/tips", json={}).json()["errors"]
    assert errors == [{"field": "description", "message": "Field required"}]


def test_nested_body_field_is_named_with_dots(client: TestClient) -> None:
    errors = client.post("/tips", json={"description": "x", "victim": {}}).json()["errors"]
    assert [e["field"] for e in errors] == ["victim.name"]


def test_query_parameter_validation_names_the_parameter(client: TestClient) -> None:
    response = client.get("/tips", params={"limit": 500})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]


def test_malformed_json_body_is_422_problem_json(client: TestClient) -> None:
    response = client.post(
        "/tips", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


def test_body_field_named_like_a_location_keeps_its_name(client: TestClient) -> None:
    errors = client.post("/search", json={}).json()["errors"]
    assert [e["field"] for e in errors] == ["query"]


def test_unhandled_exception_is_500_problem_json(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://ctip.gov.vn/problems/internal-error"
    assert body["status"] == 500
    assert body["instance"] == "/boom"


def test_unhandled_exception_reveals_nothing_of_the_internals(client: TestClient) -> None:
    text = client.get("/boom").text
    assert SECRET_MESSAGE not in text
    assert "hunter2" not in text
    assert "RuntimeError" not in text
    assert "Traceback" not in text


def test_unknown_route_is_404_problem_json(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://ctip.gov.vn/problems/not-found"
    assert body["instance"] == "/nowhere"


def test_wrong_method_is_405_problem_json(client: TestClient) -> None:
    response = client.delete("/tips")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "https://ctip.gov.vn/problems/method-not-allowed"
