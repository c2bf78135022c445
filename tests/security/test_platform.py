"""Issue 13, the platform's findings (libs/common): production checks (Medium 9), tokens without
a valid jurisdiction (Medium 4), idempotency records (Medium 5), and the Lows on validation
errors in logs, the JWKS fetch, the 500 handler and plaintext in encrypted JSON columns.

Every value here is synthetic: invented names, phone numbers and receipt codes."""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from libs.common import cli
from libs.common.auth import TokenVerifier, issue_dev_token
from libs.common.errors import Unauthorized
from libs.common.settings import (
    DEV_AUDIT_KEY,
    DEV_FIELD_KEY,
    DEV_INDEX_KEY,
    DEV_JWT_SECRET,
    ServiceSettings,
)

pytestmark = pytest.mark.security

REAL_FIELD_KEYS = f"prod1:{base64.b64encode(bytes(range(32))).decode()}"
REAL_INDEX_KEY = base64.b64encode(bytes(range(32, 64))).decode()
REAL_AUDIT_KEY = base64.b64encode(bytes(range(64, 96))).decode()
JWKS_URL = "https://idp.example/realms/ctip/protocol/openid-connect/certs"
DEV_FIELD_BYTES = base64.b64decode(DEV_FIELD_KEY.split(":", 1)[1])


def _production(**overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "environment": "production",
        "jwt_secret": "a-real-production-secret-from-the-vault",
        "field_keys": REAL_FIELD_KEYS,
        "blind_index_key": REAL_INDEX_KEY,
        "audit_key": REAL_AUDIT_KEY,
        "jwt_jwks_url": JWKS_URL,
        "jwt_audience": "ctip",
        "jwt_issuer": "https://idp.example/realms/ctip",
    }
    values.update(overrides)
    return ServiceSettings(**values)


@pytest.fixture
def no_ctip_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.upper().startswith("CTIP_"):
            monkeypatch.delenv(name)
    return monkeypatch


# Medium 9: production checks fail open -----------------------------------------------------------


@pytest.mark.parametrize("environment", ["prod", "Production", "staging", "PRODUCTION", ""])
def test_an_environment_other_than_development_test_or_production_refuses_to_start(
    environment: str,
) -> None:
    with pytest.raises(ValidationError, match="'development', 'test' or 'production'"):
        ServiceSettings(environment=environment)


def test_real_production_settings_pass_the_check() -> None:
    _production().check_production()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"audit_key": DEV_AUDIT_KEY}, "audit_key", id="dev-audit-key"),
        pytest.param(
            {"field_keys": f"{REAL_FIELD_KEYS},old:{DEV_FIELD_KEY.split(':', 1)[1]}"},
            "field_keys",
            id="dev-field-key-under-another-kid",
        ),
        pytest.param(
            {
                "field_keys": f"prod2:{DEV_FIELD_KEY.split(':', 1)[1][:20]}\n"
                f"{DEV_FIELD_KEY.split(':', 1)[1][20:]}"
            },
            "field_keys",
            id="dev-field-key-spelled-with-a-line-break",
        ),
        pytest.param(
            {"blind_index_key": f" {DEV_INDEX_KEY[:16]}\n{DEV_INDEX_KEY[16:]} "},
            "blind_index_key",
            id="dev-index-key-spelled-with-whitespace",
        ),
        pytest.param(
            {"blind_index_key": base64.b64encode(DEV_FIELD_BYTES).decode()},
            "blind_index_key",
            id="dev-field-key-reused-as-index-key",
        ),
        pytest.param(
            {"audit_key": DEV_INDEX_KEY}, "audit_key", id="dev-index-key-reused-as-audit-key"
        ),
        pytest.param({"jwt_secret": f"  {DEV_JWT_SECRET}\n"}, "jwt_secret", id="dev-jwt-padded"),
        pytest.param({"jwt_audience": None}, "jwt_audience", id="no-audience"),
        pytest.param({"jwt_issuer": None}, "jwt_issuer", id="no-issuer"),
        pytest.param({"jwt_issuer": " "}, "jwt_issuer", id="blank-issuer"),
    ],
)
def test_production_refuses_development_keys_however_spelled_and_a_missing_audience_or_issuer(
    overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(RuntimeError, match=reason):
        _production(**overrides).check_production()


def test_migrate_runs_the_production_check_before_touching_the_database(
    no_ctip_environment: pytest.MonkeyPatch,
) -> None:
    no_ctip_environment.setenv("CTIP_ENVIRONMENT", "production")
    with pytest.raises(RuntimeError, match="development key"):
        cli.main(["migrate", "--database-url", "postgresql+asyncpg://nobody@127.0.0.1:9/none"])


def test_an_api_or_worker_refuses_to_start_on_a_development_audit_key() -> None:
    """``ctip serve`` and ``ctip worker`` both build the app through ``create_service_app``."""
    from services.outreach.app import create_app
    from services.outreach.settings import OutreachSettings

    settings = OutreachSettings(**_production().model_dump() | {"audit_key": DEV_AUDIT_KEY})
    with pytest.raises(RuntimeError, match="audit_key"):
        create_app(settings)


# Medium 4: a token whose jurisdiction holds no valid code -----------------------------------------


def _token(**claims: Any) -> str:
    body: dict[str, Any] = {"sub": "u-synthetic", "exp": int(time.time()) + 600, **claims}
    return jwt.encode(body, DEV_JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "jurisdiction",
    [
        pytest.param(None, id="missing"),
        pytest.param([], id="empty-list"),
        pytest.param("", id="empty-string"),
        pytest.param(["99"], id="unknown-province"),
        pytest.param(["01", "zz"], id="valid-mixed-with-unknown"),
        pytest.param(["01", 1], id="valid-mixed-with-a-number"),
        pytest.param([["01"]], id="nested-list"),
    ],
)
@pytest.mark.parametrize("role", ["intake_officer", "investigator", "social_worker", "supervisor"])
def test_a_scoped_role_without_a_valid_jurisdiction_is_refused(
    role: str, jurisdiction: Any
) -> None:
    claims: dict[str, Any] = {"roles": [role]}
    if jurisdiction is not None:
        claims["jurisdiction"] = jurisdiction
    with pytest.raises(Unauthorized, match="jurisdiction"):
        TokenVerifier(ServiceSettings()).verify(_token(**claims))


@pytest.mark.parametrize("role", ["admin", "auditor", "ngo", "supervisor"])
def test_an_unknown_code_is_refused_for_every_role(role: str) -> None:
    token = _token(roles=[role], jurisdiction=["01", "123456"])
    with pytest.raises(Unauthorized, match="jurisdiction"):
        TokenVerifier(ServiceSettings()).verify(token)


@pytest.mark.parametrize("role", ["admin", "auditor", "ngo"])
def test_national_roles_need_no_jurisdiction(role: str) -> None:
    principal = TokenVerifier(ServiceSettings()).verify(_token(roles=[role], org="ngo-synthetic"))
    assert principal.roles == frozenset({role})
    assert principal.jurisdiction == ()


def test_a_scoped_token_keeps_its_valid_codes() -> None:
    token = issue_dev_token(ServiceSettings(), roles=["investigator"], jurisdiction=["01", "00256"])
    assert TokenVerifier(ServiceSettings()).verify(token).jurisdiction == ("01", "00256")
