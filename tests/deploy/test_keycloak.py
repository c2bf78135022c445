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


def claims_of(client: dict[str, Any]) -> dict[str, dict[str, Any]]:
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


def test_the_export_holds_no_people_and_no_client_secrets() -> None:
    """The only users are the service accounts of the clients below: no person, no password."""
    data = realm()
    service_clients = {c["clientId"] for c in data["clients"] if c.get("serviceAccountsEnabled")}
    for user in data.get("users", []):
        assert user.get("serviceAccountClientId") in service_clients, user.get("username")
        assert user["username"] == f"service-account-{user['serviceAccountClientId']}"
        assert not user.get("credentials"), user["username"]
    for client in data["clients"]:
        assert "secret" not in client
        assert client.get("publicClient") is True or client.get("serviceAccountsEnabled")
        assert client.get("directAccessGrantsEnabled") is False
        assert client.get("implicitFlowEnabled") is False


NGO_CLIENT = "ngo-hoa-sen"
DEMO_NGO_ORG = "ngo-demo-hoa-sen"  # deploy/local/demo_data.py NGO_ORG


DIRECTORY_CLIENT = "ctip-directory"  # our own services' account, not an NGO's


def ngo_clients() -> list[dict[str, Any]]:
    """The confidential clients of NGO systems: client credentials, no person behind them."""
    return [
        c
        for c in realm()["clients"]
        if c.get("serviceAccountsEnabled") and c["clientId"] != DIRECTORY_CLIENT
    ]


def mappers_of(client: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in client.get("protocolMappers", []) if m["protocolMapper"] == kind]


def test_the_demo_ngo_has_a_client_of_its_own() -> None:
    assert NGO_CLIENT in {c["clientId"] for c in ngo_clients()}
    (client,) = [c for c in ngo_clients() if c["clientId"] == NGO_CLIENT]
    assert claims_of(client)["org"]["config"]["claim.value"] == DEMO_NGO_ORG


def test_ngo_clients_are_confidential_service_accounts_without_browser_flows() -> None:
    for client in ngo_clients():
        name = client["clientId"]
        assert client["enabled"] is True, name
        assert client["publicClient"] is False, name
        assert client["clientAuthenticatorType"] == "client-secret", name
        assert client["serviceAccountsEnabled"] is True, name
        for flow in ("standardFlowEnabled", "implicitFlowEnabled", "directAccessGrantsEnabled"):
            assert client[flow] is False, (name, flow)
        assert not client.get("redirectUris"), name
        assert client["attributes"].get("oauth2.device.authorization.grant.enabled") == "false"
        assert "secret" not in client, name


def test_an_ngo_service_account_holds_the_ngo_role_and_only_it() -> None:
    data = realm()
    users = {u.get("serviceAccountClientId"): u for u in data["users"]}
    scopes = {m["client"]: m["roles"] for m in data.get("scopeMappings", []) if "client" in m}
    for client in ngo_clients():
        name = client["clientId"]
        account = users[name]
        assert account["enabled"] is True
        assert account["realmRoles"] == [Role.ngo.value], name
        # Whatever role the account is ever given in the console, its tokens carry only ngo.
        assert client["fullScopeAllowed"] is False, name
        assert scopes[name] == [Role.ngo.value], name


def test_an_ngo_token_carries_roles_a_hardcoded_org_and_the_api_audience() -> None:
    for client in ngo_clients():
        name = client["clientId"]
        claims = claims_of(client)
        roles = claims["roles"]
        assert roles["protocolMapper"] == "oidc-usermodel-realm-role-mapper", name
        assert roles["config"]["multivalued"] == "true"
        assert roles["config"]["access.token.claim"] == "true"
        org = claims["org"]
        # Hardcoded, not a user attribute: nobody edits a service account's org by accident.
        assert org["protocolMapper"] == "oidc-hardcoded-claim-mapper", name
        assert org["config"]["access.token.claim"] == "true"
        assert org["config"]["jsonType.label"] == "String"
        assert org["config"]["claim.value"].startswith("ngo-")
        assert "jurisdiction" not in claims, name
        assert claims["client_id"]["config"]["access.token.claim"] == "true"
        (audience,) = mappers_of(client, "oidc-audience-mapper")
        assert audience["config"]["included.custom.audience"] == "ctip-api"
        assert audience["config"]["access.token.claim"] == "true"


def test_each_ngo_client_names_an_organisation_of_its_own() -> None:
    orgs = [claims_of(c)["org"]["config"]["claim.value"] for c in ngo_clients()]
    assert len(orgs) == len(set(orgs))


def test_the_directory_client_reads_users_and_nothing_else() -> None:
    """The services read officers (roles, jurisdiction, e-mail) through the admin API with this
    account (libs/common/directory.py): view-users and query-users, no ctip role, no login flow."""
    (client,) = [c for c in realm()["clients"] if c["clientId"] == DIRECTORY_CLIENT]
    assert client["serviceAccountsEnabled"] is True and client["publicClient"] is False
    assert not client["standardFlowEnabled"] and not client["directAccessGrantsEnabled"]
    users = realm()["users"]
    (account,) = [u for u in users if u.get("serviceAccountClientId") == DIRECTORY_CLIENT]
    assert account["realmRoles"] == []
    assert account["clientRoles"] == {"realm-management": ["view-users", "query-users"]}


def test_the_steering_committee_is_a_group_the_digest_reads() -> None:
    assert "steering_committee" in {g["name"] for g in realm().get("groups", [])}
