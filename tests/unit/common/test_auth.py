from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from libs.common.auth import (
    Principal,
    Role,
    TokenVerifier,
    issue_dev_token,
    principal_from_claims,
)
from libs.common.errors import Unauthorized
from libs.common.settings import DEV_JWT_SECRET, ServiceSettings


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings()


@pytest.fixture
def verifier(settings: ServiceSettings) -> TokenVerifier:
    return TokenVerifier(settings)


def _signed(claims: dict[str, Any], key: str = DEV_JWT_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "u-1",
        "roles": ["investigator"],
        "jurisdiction": ["01"],
        "exp": int(time.time()) + 3600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_dev_token_verifies_to_its_principal(
    settings: ServiceSettings, verifier: TokenVerifier
) -> None:
    token = issue_dev_token(
        settings, roles=["ngo"], jurisdiction=["01", "00256"], org="ngo-hagar", sub="worker-7"
    )
    principal = verifier.verify(token)
    assert principal == Principal(
        sub="worker-7", roles=frozenset({"ngo"}), jurisdiction=("01", "00256"), org="ngo-hagar"
    )


def test_dev_token_without_org_has_no_org(
    settings: ServiceSettings, verifier: TokenVerifier
) -> None:
    assert verifier.verify(issue_dev_token(settings, roles=["admin"])).org is None


def test_verified_principal_keeps_the_raw_claims(
    settings: ServiceSettings, verifier: TokenVerifier
) -> None:
    principal = verifier.verify(issue_dev_token(settings, roles=["admin"], sub="a"))
    assert principal.claims["sub"] == "a"
    assert "exp" in principal.claims


def test_dev_token_carries_the_configured_audience_and_issuer() -> None:
    settings = ServiceSettings(jwt_audience="ctip", jwt_issuer="https://idp.example")
    token = issue_dev_token(settings, roles=["admin"])
    assert TokenVerifier(settings).verify(token).roles == {"admin"}


def test_token_for_another_audience_is_unauthorized(settings: ServiceSettings) -> None:
    token = issue_dev_token(ServiceSettings(jwt_audience="other"), roles=["admin"])
    with pytest.raises(Unauthorized):
        TokenVerifier(ServiceSettings(jwt_audience="ctip")).verify(token)


def test_production_settings_refuse_to_issue_dev_tokens() -> None:
    with pytest.raises(RuntimeError):
        issue_dev_token(ServiceSettings(environment="production"), roles=["admin"])


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_signed(_claims(exp=int(time.time()) - 3600)), id="expired"),
        pytest.param(
            _signed(_claims(), key="another-key-of-sufficient-length-32b"), id="wrong-key"
        ),
        pytest.param(jwt.encode(_claims(), None, algorithm="none"), id="alg-none"),
        pytest.param(_signed(_claims(sub=None)), id="missing-sub"),
        pytest.param(_signed(_claims(exp=None)), id="missing-exp"),
        pytest.param(_signed(_claims(sub=42)), id="sub-not-a-string"),
        pytest.param(_signed(_claims(roles="admin")), id="roles-not-a-list"),
        pytest.param(_signed(_claims(jurisdiction={"code": "01"})), id="jurisdiction-not-a-list"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_tokens_are_unauthorized(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify(token)


def test_tampered_payload_is_unauthorized(
    settings: ServiceSettings, verifier: TokenVerifier
) -> None:
    header, _, signature = issue_dev_token(settings, roles=["ngo"]).split(".")
    forged = jwt.utils.base64url_encode(b'{"sub":"x","roles":["admin"],"exp":9999999999}').decode()
    with pytest.raises(Unauthorized):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_unknown_roles_are_dropped(verifier: TokenVerifier) -> None:
    token = _signed(_claims(roles=["investigator", "superuser", "root"]))
    assert verifier.verify(token).roles == frozenset({"investigator"})


def test_invalid_jurisdiction_codes_are_refused_not_dropped(verifier: TokenVerifier) -> None:
    token = _signed(_claims(jurisdiction=["01", "02", "99999", "hanoi", 1, "00256"]))
    with pytest.raises(Unauthorized, match="jurisdiction holds a code that is not known"):
        verifier.verify(token)


def test_a_single_jurisdiction_string_is_accepted(verifier: TokenVerifier) -> None:
    assert verifier.verify(_signed(_claims(jurisdiction="79"))).jurisdiction == ("79",)


def test_missing_roles_give_a_principal_without_roles(verifier: TokenVerifier) -> None:
    assert verifier.verify(_signed(_claims(roles=None))).roles == frozenset()


def test_keycloak_realm_roles_are_read() -> None:
    claims = {
        "sub": "kc-user",
        "realm_access": {"roles": ["prosecutor", "offline_access"]},
        "jurisdiction": ["79"],
    }
    assert principal_from_claims(claims).roles == frozenset({"prosecutor"})


def test_non_string_roles_are_dropped(verifier: TokenVerifier) -> None:
    token = _signed(_claims(roles=[["admin"], {"name": "admin"}, "investigator"]))
    assert verifier.verify(token).roles == frozenset({"investigator"})


def test_principal_has_role_when_holding_any_of_them() -> None:
    principal = Principal(sub="u", roles=frozenset({"investigator"}))
    assert principal.has_role(Role.prosecutor, Role.investigator)


def test_principal_lacks_role_when_holding_none_of_them() -> None:
    principal = Principal(sub="u", roles=frozenset({"investigator"}))
    assert not principal.has_role(Role.admin, Role.auditor)


@pytest.mark.parametrize(
    ("jurisdiction", "code", "expected"),
    [(("01",), "00256", True), (("00070",), "00256", False), (("01",), None, False)],
)
def test_principal_covers_records_in_its_jurisdiction(
    jurisdiction: tuple[str, ...], code: str | None, expected: bool
) -> None:
    principal = Principal(sub="u", roles=frozenset(), jurisdiction=jurisdiction)
    assert principal.covers(code) is expected


# The cache of verified tokens ------------------------------------------------------------------


def test_a_verified_token_is_not_verified_again(
    monkeypatch: pytest.MonkeyPatch, verifier: TokenVerifier
) -> None:
    token = _signed(_claims())
    first = verifier.verify(token)
    monkeypatch.setattr(jwt, "decode", _must_not_be_called)
    assert verifier.verify(token) is first


def test_a_cached_token_is_trusted_no_longer_than_its_exp(
    monkeypatch: pytest.MonkeyPatch, verifier: TokenVerifier
) -> None:
    exp = int(time.time()) + 60
    token = _signed(_claims(exp=exp))
    verifier.verify(token)
    assert verifier._verified[token][0] == exp  # before the cache period's end
    later = exp + 1.0
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(jwt, "decode", _refuse_as_expired)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)
    assert token not in verifier._verified


def test_a_cached_token_is_checked_again_after_the_cache_period(
    monkeypatch: pytest.MonkeyPatch, verifier: TokenVerifier
) -> None:
    token = _signed(_claims(exp=int(time.time()) + 3600))
    verifier.verify(token)
    later = time.time() + TokenVerifier.CACHE_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    calls: list[str] = []
    decode = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("decode")
        return decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    verifier.verify(token)
    assert calls == ["decode"]


def test_refused_tokens_are_not_cached_and_a_changed_byte_is_another_token(
    verifier: TokenVerifier,
) -> None:
    token = _signed(_claims())
    verifier.verify(token)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(forged)
    assert forged not in verifier._verified


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch, verifier: TokenVerifier) -> None:
    monkeypatch.setattr(TokenVerifier, "CACHE_SIZE", 3)
    tokens = [_signed(_claims(sub=f"u-{n}")) for n in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert list(verifier._verified) == tokens[2:]


def _must_not_be_called(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the signature was checked again")


def _refuse_as_expired(*args: Any, **kwargs: Any) -> Any:
    raise jwt.ExpiredSignatureError("Signature has expired")
