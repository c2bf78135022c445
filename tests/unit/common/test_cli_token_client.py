"""``ctip token --client``: the token an NGO system gets from Keycloak's client credentials
grant, minted for the local stack from the realm file's client, and never anything else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from libs.common.auth import TokenVerifier, issue_dev_token
from libs.common.cli import REALM_FILE, UnknownClient, client_token, main, service_account
from libs.common.settings import ServiceSettings

CLIENT = "ngo-hoa-sen"
ORG = "ngo-demo-hoa-sen"  # deploy/local/demo_data.py NGO_ORG


def claims_of(token: str, settings: ServiceSettings | None = None) -> dict[str, Any]:
    settings = settings or ServiceSettings()
    decoded: dict[str, Any] = jwt.decode(
        token,
        settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    return decoded


def realm_with(tmp_path: Path, *clients: dict[str, Any], users: list[Any] | None = None) -> Path:
    path = tmp_path / "realm.json"
    path.write_text(json.dumps({"realm": "ctip", "clients": list(clients), "users": users or []}))
    return path


def confidential(client_id: str, org: str | None = None) -> dict[str, Any]:
    mappers = []
    if org is not None:
        mappers.append(
            {
                "name": "org",
                "protocolMapper": "oidc-hardcoded-claim-mapper",
                "config": {"claim.name": "org", "claim.value": org},
            }
        )
    return {
        "clientId": client_id,
        "publicClient": False,
        "serviceAccountsEnabled": True,
        "protocolMappers": mappers,
    }


def account(client_id: str, *roles: str) -> dict[str, Any]:
    return {
        "username": f"service-account-{client_id}",
        "serviceAccountClientId": client_id,
        "realmRoles": list(roles),
    }


def test_the_demo_ngo_client_of_the_realm_file() -> None:
    found = service_account(CLIENT)
    assert found.roles == ("ngo",)
    assert found.org == ORG
    assert found.sub == "service-account-ngo-hoa-sen"


def test_a_client_token_carries_what_keycloak_would_put_in_it() -> None:
    claims = claims_of(client_token(ServiceSettings(), CLIENT))
    assert claims["sub"] == "service-account-ngo-hoa-sen"
    assert claims["roles"] == ["ngo"]
    assert claims["org"] == ORG
    assert claims["azp"] == CLIENT
    assert claims["client_id"] == CLIENT
    assert "jurisdiction" not in claims
    assert claims["exp"] - claims["iat"] == 300  # the realm's accessTokenLifespan


def test_a_client_token_keeps_the_issuer_and_audience_the_services_check() -> None:
    settings = ServiceSettings(jwt_issuer="http://kc.test/realms/ctip", jwt_audience="ctip-api")
    claims = claims_of(client_token(settings, CLIENT, ttl_seconds=60), settings)
    assert claims["iss"] == "http://kc.test/realms/ctip"
    assert claims["aud"] == "ctip-api"
    assert claims["exp"] - claims["iat"] == 60


def test_the_services_take_a_client_token_for_the_ngo_of_its_org() -> None:
    principal = TokenVerifier(ServiceSettings()).verify(client_token(ServiceSettings(), CLIENT))
    assert principal.roles == frozenset({"ngo"})
    assert principal.org == ORG
    assert principal.jurisdiction == ()
    assert principal.sub == "service-account-ngo-hoa-sen"


def test_an_unknown_client_is_refused() -> None:
    with pytest.raises(UnknownClient, match="no client 'ngo-nobody'"):
        client_token(ServiceSettings(), "ngo-nobody")


def test_the_browser_client_is_no_service_account() -> None:
    with pytest.raises(UnknownClient, match="ctip-web"):
        service_account("ctip-web")


def test_a_public_client_with_service_accounts_is_refused(tmp_path: Path) -> None:
    client = {**confidential("ngo-x", "ngo-x"), "publicClient": True}
    with pytest.raises(UnknownClient):
        service_account("ngo-x", realm_with(tmp_path, client, users=[account("ngo-x", "ngo")]))


def test_a_client_whose_account_holds_no_role_of_ctip_is_refused(tmp_path: Path) -> None:
    realm = realm_with(
        tmp_path,
        confidential("ngo-x", "ngo-x"),
        users=[account("ngo-x", "offline_access")],
    )
    with pytest.raises(UnknownClient, match="no role"):
        service_account("ngo-x", realm)


def test_an_ngo_client_without_an_org_mapper_is_refused(tmp_path: Path) -> None:
    realm = realm_with(tmp_path, confidential("ngo-x"), users=[account("ngo-x", "ngo")])
    with pytest.raises(UnknownClient, match="org"):
        service_account("ngo-x", realm)


def test_a_client_holding_a_role_that_needs_a_jurisdiction_is_refused(tmp_path: Path) -> None:
    realm = realm_with(tmp_path, confidential("sys-x"), users=[account("sys-x", "social_worker")])
    with pytest.raises(UnknownClient, match="jurisdiction"):
        client_token(ServiceSettings(), "sys-x", realm_file=realm)


def test_roles_the_services_do_not_know_are_left_out(tmp_path: Path) -> None:
    realm = realm_with(
        tmp_path,
        confidential("ngo-x", "ngo-x"),
        users=[account("ngo-x", "default-roles-ctip", "ngo", "uma_authorization")],
    )
    assert service_account("ngo-x", realm).roles == ("ngo",)


def test_never_in_production() -> None:
    with pytest.raises(RuntimeError, match="production"):
        client_token(ServiceSettings(environment="production"), CLIENT)


def test_the_command_prints_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--client", CLIENT]) == 0
    claims = claims_of(capsys.readouterr().out.strip())
    assert (claims["sub"], claims["org"], claims["azp"]) == (
        "service-account-ngo-hoa-sen",
        ORG,
        CLIENT,
    )


def test_the_command_refuses_an_unknown_client_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "--client", "ngo-nobody"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ngo-nobody" in captured.err
    assert CLIENT in captured.err  # it names the clients it knows


@pytest.mark.parametrize(
    "extra",
    [["--role", "ngo"], ["--org", "ngo-other"], ["--sub", "me"], ["--jurisdiction", "01"]],
)
def test_the_command_refuses_to_mix_a_client_with_a_persons_claims(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--client", CLIENT, *extra]) == 2
    assert capsys.readouterr().out == ""


def test_the_command_refuses_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CTIP_ENVIRONMENT", "production")
    assert main(["token", "--client", CLIENT]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "production" in captured.err


def test_the_command_needs_a_role_or_a_client(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token"]) == 2
    assert "--client" in capsys.readouterr().err


def test_a_persons_token_is_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "ngo", "--org", ORG]) == 0
    claims = claims_of(capsys.readouterr().out.strip())
    assert claims["sub"] == "dev-user"
    assert claims["roles"] == ["ngo"]
    assert claims["exp"] - claims["iat"] == 12 * 3600
    assert "azp" not in claims
    assert claims_of(issue_dev_token(ServiceSettings(), roles=["ngo"], org=ORG))["org"] == ORG


def test_the_realm_file_is_the_one_keycloak_imports() -> None:
    assert REALM_FILE.parts[-3:] == ("deploy", "keycloak", "ctip-realm.json")
    assert REALM_FILE.is_file()
