"""deploy/keycloak/ctip-realm.json: the roles and claims the services read from a token."""

from __future__ import annotations

import json
from typing import Any

from libs.common.auth import Role
from tests.deploy.support import DEPLOY

REALM = DEPLOY / "keycloak" / "ctip-realm.json"


def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM.read_text(encoding="utf-8"))
    return loaded


def test_realm_roles_are_exactly_the_roles_of_the_design() -> None:
    names = {role["name"] for role in realm()["roles"]["realm"]}
    assert names == {role.value for role in Role}


def claims_of(client: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        m["config"]["claim.name"]: m
        for m in client.get("protocolMappers", [])
        if "claim.name" in m.get("config", {})
    }


def test_a_client_puts_roles_jurisdiction_and_org_into_access_tokens() -> None:
    clients = [
        c for c in realm()["clients"] if {"roles", "jurisdiction", "org"} <= set(claims_of(c))
    ]
    assert clients
    for client in clients:
        claims = claims_of(client)
        for claim in ("roles", "jurisdiction", "org"):
            assert claims[claim]["config"]["access.token.claim"] == "true", claim
        assert claims["roles"]["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
        assert claims["roles"]["config"]["multivalued"] == "true"
        for attribute in ("jurisdiction", "org"):
            assert claims[attribute]["protocolMapper"] == "oidc-usermodel-attribute-mapper"
            assert claims[attribute]["config"]["user.attribute"] == attribute
        assert claims["jurisdiction"]["config"]["multivalued"] == "true"
        audiences = [
            m for m in client["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"
        ]
        assert audiences, "an audience for CTIP_JWT_AUDIENCE"


def test_only_admins_may_edit_jurisdiction_and_org() -> None:
    (provider,) = realm()["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    attributes = {a["name"]: a for a in profile["attributes"]}
    for name in ("jurisdiction", "org"):
        assert attributes[name]["permissions"]["edit"] == ["admin"], name
    assert attributes["jurisdiction"]["multivalued"] is True


def test_the_export_holds_no_users_and_no_client_secrets() -> None:
    data = realm()
    assert not data.get("users")
    for client in data["clients"]:
        assert "secret" not in client
        assert client.get("publicClient") is True or client.get("serviceAccountsEnabled")
        assert client.get("directAccessGrantsEnabled") is False
        assert client.get("implicitFlowEnabled") is False
