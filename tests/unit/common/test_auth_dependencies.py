"""The auth dependencies through a bare FastAPI app (no lifespan, nothing running)."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from libs.common.auth import (
    CurrentPrincipal,
    OptionalPrincipal,
    Principal,
    Role,
    TokenVerifier,
    issue_dev_token,
    require_roles,
)
from libs.common.errors import PROBLEM_JSON, install_error_handlers
from libs.common.settings import ServiceSettings


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings()


@pytest.fixture
def client(settings: ServiceSettings) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = TokenVerifier(settings)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"sub": principal.sub}

    @app.get("/public")
    async def public(principal: OptionalPrincipal) -> dict[str, str | None]:
        return {"sub": principal.sub if principal else None}

    @app.get("/investigations")
    async def investigations(
        principal: Annotated[Principal, Depends(require_roles(Role.investigator, Role.prosecutor))],
    ) -> dict[str, str]:
        return {"sub": principal.sub}

    return TestClient(app)


def _bearer(settings: ServiceSettings, *roles: str) -> dict[str, str]:
    token = issue_dev_token(settings, roles=roles, jurisdiction=["01"], sub="u-1")
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401_problem_json(client: TestClient) -> None:
    response = client.get("/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://ctip.gov.vn/problems/unauthorized"
    assert body["title"]
    assert body["status"] == 401
    assert body["detail"]
    assert body["instance"] == "/me"


def test_missing_token_asks_for_a_bearer_token(client: TestClient) -> None:
    assert client.get("/me").headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer", "Token abc", "Bearer not-a-jwt"],
)
def test_malformed_authorization_is_401(client: TestClient, authorization: str) -> None:
    response = client.get("/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON


def test_valid_token_reaches_the_route(client: TestClient, settings: ServiceSettings) -> None:
    response = client.get("/me", headers=_bearer(settings, "ngo"))
    assert response.status_code == 200
    assert response.json() == {"sub": "u-1"}


def test_bearer_scheme_is_case_insensitive(client: TestClient, settings: ServiceSettings) -> None:
    token = issue_dev_token(settings, roles=["ngo"])
    assert client.get("/me", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_wrong_role_is_403_problem_json(client: TestClient, settings: ServiceSettings) -> None:
    response = client.get("/investigations", headers=_bearer(settings, "ngo"))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "https://ctip.gov.vn/problems/forbidden"


def test_no_role_at_all_is_403(client: TestClient, settings: ServiceSettings) -> None:
    assert client.get("/investigations", headers=_bearer(settings)).status_code == 403


@pytest.mark.parametrize("role", ["investigator", "prosecutor"])
def test_any_allowed_role_is_let_through(
    client: TestClient, settings: ServiceSettings, role: str
) -> None:
    assert client.get("/investigations", headers=_bearer(settings, role)).status_code == 200


def test_role_check_without_token_is_401_not_403(client: TestClient) -> None:
    assert client.get("/investigations").status_code == 401


def test_optional_principal_is_none_without_token(client: TestClient) -> None:
    response = client.get("/public")
    assert response.status_code == 200
    assert response.json() == {"sub": None}


def test_optional_principal_is_the_caller_with_a_token(
    client: TestClient, settings: ServiceSettings
) -> None:
    assert client.get("/public", headers=_bearer(settings, "ngo")).json() == {"sub": "u-1"}


def test_optional_principal_rejects_an_invalid_token(client: TestClient) -> None:
    response = client.get("/public", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
