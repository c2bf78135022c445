"""Problem rendering through a bare FastAPI app (RFC 9457)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import DBAPIError, InternalError

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
    is_database_outage,
)
from libs.common.schemas import StrictModel, known_ward
from libs.common.validation import FIELD_CODES, FieldError

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
        expected["errors"] = [{"field": "", "message": "something specific", "code": "invalid"}]
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
    assert body["errors"] == [{"field": "If-Match", "message": "old", "code": "invalid"}]


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
    assert errors == [{"field": "description", "message": "Field required", "code": "missing"}]


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


@pytest.mark.parametrize(
    ("raw", "line", "column", "position"),
    [
        (b"{not json", 1, 2, 1),
        (b'{"description": "x",\n "victim": }', 2, 12, 32),
        (b'{"description": "x"', 1, 20, 19),
    ],
)
def test_broken_json_is_the_body_s_fault_and_says_where(
    client: TestClient, raw: bytes, line: int, column: int, position: int
) -> None:
    response = client.post("/tips", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "body",
            "message": f"not valid JSON: line {line}, column {column} (character {position})",
            "code": "body.json_invalid",
            "position": position,
        }
    ]


def test_every_field_error_carries_pydantic_s_type_as_its_code(client: TestClient) -> None:
    errors = client.post("/tips", json={"description": "", "victim": {}}).json()["errors"]
    assert {e["field"]: e["code"] for e in errors} == {
        "description": "string_too_short",
        "victim.name": "missing",
    }


class Form(StrictModel):
    name: str
    ward: str

    _ward = field_validator("ward")(known_ward)


def test_a_validator_s_invalid_value_gives_its_own_code_and_place() -> None:
    app = _app()

    @app.post("/forms")
    async def form(body: Form) -> None:
        return None

    client = TestClient(app, headers=ENGLISH)
    unknown = client.post("/forms", json={"name": "A", "ward": "99999"}).json()["errors"]
    assert unknown == [
        {
            "field": "ward",
            "message": "Value error, not a ward code of the current administrative units",
            "code": "ward_code.unknown",
        }
    ]
    nul = client.post("/forms", json={"name": "A\u0000B", "ward": "00256"}).json()["errors"]
    assert nul == [
        {
            "field": "name",
            "message": "Value error, must not contain NUL characters",
            "code": "text.nul",
        }
    ]


def test_the_problem_schema_documents_the_codes() -> None:
    described = FieldError.model_json_schema()["properties"]["code"]["description"]
    for code in FIELD_CODES:
        assert f"`{code}`" in described
    assert "`missing`" in described


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


@pytest.mark.reads_source
def test_request_models_refuse_with_a_code_never_a_bare_value_error() -> None:
    """A bare ValueError would reach apps as the code ``value_error``, which says nothing."""
    root = Path(__file__).resolve().parents[3]
    models = [root / "libs/common/schemas.py", root / "services/interagency/alert_data.py"]
    models += sorted(root.glob("services/*/*schemas.py"))
    bare = [
        f"{path.relative_to(root)}:{n}"
        for path in models
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "raise ValueError(" in line
    ]
    assert bare == []


def _as_sqlalchemy_raises(driver_error: Exception) -> DBAPIError:
    """SQLAlchemy's asyncpg dialect: the driver's error as ``orig`` and as the cause."""
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise InternalError("BEGIN", None, exc) from exc
    except DBAPIError as wrapped:
        return wrapped


def test_a_connection_out_of_step_after_a_restart_is_an_outage_not_a_500() -> None:
    """What a PostgreSQL restart did to one request in 825 of the fault suite: the pooled
    connection had read its backend's FATAL but not the end of the stream, and asyncpg refused
    the next statement. A 503 to retry, never a 500."""
    error = asyncpg.exceptions.InternalClientError(
        "cannot switch to state 15; another operation (2) is in progress"
    )
    assert is_database_outage(_as_sqlalchemy_raises(error))
    assert not is_database_outage(
        _as_sqlalchemy_raises(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    )
