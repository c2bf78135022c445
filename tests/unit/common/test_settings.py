from __future__ import annotations

import base64

import pytest
from pydantic_settings import SettingsConfigDict

from libs.common.settings import (
    DEV_AUDIT_KEY,
    DEV_FIELD_KEY,
    DEV_INDEX_KEY,
    DEV_JWT_SECRET,
    ServiceSettings,
)

DEFAULT_URL = "postgresql+asyncpg://ctip_app:ctip_app@127.0.0.1:5432/ctip"
SHARED_URL = "postgresql+asyncpg://shared@db:5432/ctip"
INTAKE_URL = "postgresql+asyncpg://intake@db:5432/ctip"
REAL_FIELD_KEYS = f"prod1:{base64.b64encode(bytes(range(32))).decode()}"
REAL_INDEX_KEY = base64.b64encode(bytes(range(32, 64))).decode()
REAL_AUDIT_KEY = base64.b64encode(bytes(range(64, 96))).decode()
JWKS_URL = "https://idp.example/realms/ctip/protocol/openid-connect/certs"


class IntakeSettings(ServiceSettings):
    """Like a service's settings module: its own prefix and one field of its own."""

    service_name = "intake"
    model_config = SettingsConfigDict(env_prefix="CTIP_INTAKE_", extra="ignore")

    resolution_days: int = 30


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param({}, DEFAULT_URL, id="default"),
        pytest.param({"CTIP_DATABASE_URL": SHARED_URL}, SHARED_URL, id="shared"),
        pytest.param({"CTIP_INTAKE_DATABASE_URL": INTAKE_URL}, INTAKE_URL, id="service"),
        pytest.param(
            {"CTIP_DATABASE_URL": SHARED_URL, "CTIP_INTAKE_DATABASE_URL": INTAKE_URL},
            INTAKE_URL,
            id="service-beats-shared",
        ),
        pytest.param(
            {"CTIP_CASEWORK_DATABASE_URL": INTAKE_URL}, DEFAULT_URL, id="other-service-ignored"
        ),
    ],
)
def test_database_url_layering(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert IntakeSettings().database_url == expected


def test_service_field_is_read_with_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTIP_INTAKE_RESOLUTION_DAYS", "45")
    assert IntakeSettings().resolution_days == 45


def test_init_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTIP_INTAKE_DATABASE_URL", INTAKE_URL)
    assert IntakeSettings(database_url=SHARED_URL).database_url == SHARED_URL


def test_base_settings_read_the_shared_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTIP_DATABASE_URL", SHARED_URL)
    assert ServiceSettings().database_url == SHARED_URL


def test_list_setting_is_read_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTIP_CORS_ORIGINS", '["https://a.example","https://b.example"]')
    assert IntakeSettings().cors_origins == ["https://a.example", "https://b.example"]


def test_topic_applies_the_prefix() -> None:
    assert ServiceSettings(topic_prefix="t123.").topic("intake.tip.v1") == "t123.intake.tip.v1"


def _production(**overrides: str | None) -> ServiceSettings:
    values: dict[str, str | None] = {
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
    return ServiceSettings(**values)  # type: ignore[arg-type]


def test_check_production_passes_with_real_keys_and_a_jwks_url() -> None:
    _production().check_production()


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"jwt_secret": DEV_JWT_SECRET}, id="dev-jwt-secret"),
        pytest.param({"field_keys": DEV_FIELD_KEY}, id="dev-field-keys"),
        pytest.param({"blind_index_key": DEV_INDEX_KEY}, id="dev-index-key"),
        pytest.param({"audit_key": DEV_AUDIT_KEY}, id="dev-audit-key"),
        pytest.param({"jwt_jwks_url": None}, id="no-jwks-url"),
    ],
)
def test_check_production_refuses_development_configuration(
    overrides: dict[str, str | None],
) -> None:
    with pytest.raises(RuntimeError):
        _production(**overrides).check_production()


def test_check_production_refuses_the_defaults() -> None:
    with pytest.raises(RuntimeError):
        ServiceSettings(environment="production").check_production()


def test_check_production_allows_dev_keys_outside_production() -> None:
    ServiceSettings(environment="development").check_production()


def test_production_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTIP_ENVIRONMENT", "production")
    assert IntakeSettings().is_production


def test_the_local_stack_s_ports_alone_move_every_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second copy sets CTIP_PG_PORT and CTIP_KAFKA_PORT, as the stack reads them, and nothing
    else: migrations, services and demo data follow (their URLs are these defaults)."""
    for name in ("CTIP_DATABASE_URL", "CTIP_MIGRATION_DATABASE_URL", "CTIP_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CTIP_PG_PORT", "5544")
    monkeypatch.setenv("CTIP_KAFKA_PORT", "9192")
    settings = IntakeSettings()
    assert settings.database_url == "postgresql+asyncpg://ctip_app:ctip_app@127.0.0.1:5544/ctip"
    assert settings.migration_database_url == "postgresql+asyncpg://ctip:ctip@127.0.0.1:5544/ctip"
    assert settings.kafka_bootstrap == "127.0.0.1:9192"


def test_without_the_ports_the_defaults_are_the_standard_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("CTIP_PG_PORT", "CTIP_KAFKA_PORT", "CTIP_DATABASE_URL", "CTIP_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    settings = IntakeSettings()
    assert (settings.database_url, settings.kafka_bootstrap) == (DEFAULT_URL, "127.0.0.1:9092")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_url_without_a_driver_means_asyncpg(monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    monkeypatch.setenv("CTIP_DATABASE_URL", f"{scheme}://app:pw@db:5432/ctip")
    monkeypatch.setenv("CTIP_MIGRATION_DATABASE_URL", f"{scheme}://owner:pw@db:5432/ctip")
    settings = IntakeSettings()
    assert settings.database_url == "postgresql+asyncpg://app:pw@db:5432/ctip"
    assert settings.migration_database_url == "postgresql+asyncpg://owner:pw@db:5432/ctip"


def test_a_url_naming_its_driver_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTIP_DATABASE_URL", "postgresql+asyncpg://app:pw@db:5432/ctip")
    assert IntakeSettings().database_url == "postgresql+asyncpg://app:pw@db:5432/ctip"


def test_ctip_migrate_takes_a_postgresql_url_as_asyncpg(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ctip migrate --database-url postgresql://…`, as the README writes it, reaches the
    migrations as an asyncpg URL (it died with "No module named 'psycopg'")."""
    from libs.common import cli, migrations

    seen: list[str] = []

    def migrate(service: str, owner_url: str, runtime_url: str) -> None:
        seen.append(owner_url)

    monkeypatch.setattr(migrations, "migrate", migrate)
    code = cli.main(["migrate", "intake", "--database-url", "postgresql://ctip:ctip@db:5432/ctip"])
    assert code == 0
    assert seen == ["postgresql+asyncpg://ctip:ctip@db:5432/ctip"]
