"""Settings shared by every service.

Each service subclasses :class:`ServiceSettings` with its own env prefix (``CTIP_INTAKE_``...).
A value is looked up as ``CTIP_<SERVICE>_<NAME>`` first, then ``CTIP_<NAME>`` (shared by all
services of one deployment, e.g. the database URL), then the default below, which fits the
local stack started by ``make up``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# A development key for the local stack only. Production refuses to start with it
# (see ``ServiceSettings.check_production``).
DEV_JWT_SECRET = "ctip-local-development-key-not-for-production-use"  # noqa: S105
# Readable 32-byte keys for the local stack only, refused in production like the JWT key.
DEV_FIELD_KEY = "dev1:Y3RpcC1sb2NhbC1maWVsZC1rZXktMzItYnl0ZXMhISE="
DEV_INDEX_KEY = "Y3RpcC1sb2NhbC1ibGluZC1pbmRleC1rZXktMzJieXQ="
DEV_AUDIT_KEY = "Y3RpcC1sb2NhbC1hdWRpdC1jaGFpbi1rZXktMzJieXQ="


class ServiceSettings(BaseSettings):
    """What every service needs; a service adds its own fields in a subclass."""

    service_name: ClassVar[str] = "common"
    model_config = SettingsConfigDict(env_prefix="CTIP_", extra="ignore")

    environment: str = Field("development", description="development, test or production")
    database_url: str = Field(
        "postgresql+asyncpg://ctip:ctip@127.0.0.1:5432/ctip",
        description="SQLAlchemy URL (asyncpg driver) as the runtime role",
    )
    migration_database_url: str | None = Field(
        None,
        description="URL as the role that owns the schemas (migrations only); unset: database_url",
    )
    db_pool_size: int = Field(10, description="connections kept per process")
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    topic_prefix: str = Field(
        "", description="prefix for every Kafka topic; empty in production, unique per test run"
    )
    http_port: int = Field(8000, description="port the API listens on")

    jwt_secret: SecretStr = Field(
        SecretStr(DEV_JWT_SECRET), description="HS256 key (local stack only)"
    )
    jwt_jwks_url: str | None = Field(
        None, description="JWKS URL of the OIDC provider; when set, RS256/ES256 tokens only"
    )
    jwt_audience: str | None = Field(None, description="expected `aud` claim, if any")
    jwt_issuer: str | None = Field(None, description="expected `iss` claim, if any")

    field_keys: SecretStr = Field(
        SecretStr(DEV_FIELD_KEY),
        description="AES-256-GCM keys for personal fields: `kid:base64key,...`; first encrypts",
    )
    blind_index_key: SecretStr = Field(
        SecretStr(DEV_INDEX_KEY), description="HMAC key (base64) for blind indexes"
    )
    audit_key: SecretStr = Field(
        SecretStr(DEV_AUDIT_KEY),
        description="HMAC key (base64) chaining the audit log; kept out of the database",
    )
    idempotency_retention_hours: int = Field(
        24, ge=1, description="stored Idempotency-Key responses are purged after this long"
    )

    run_relay: bool = Field(True, description="run the outbox relay inside the API process")
    run_consumers: bool = Field(True, description="run the Kafka consumers inside the API process")
    relay_poll_seconds: float = Field(1.0, description="relay polling fallback interval")
    relay_use_notify: bool = Field(True, description="wake the relay with LISTEN/NOTIFY")
    relay_batch_size: int = Field(500, description="outbox rows published per round")
    relay_linger_seconds: float = Field(
        0.01,
        ge=0,
        le=1,
        description="after a partial batch, wait this long for more rows before the next round",
    )
    outbox_retention_hours: int = Field(72, description="published outbox rows kept this long")
    consumer_max_attempts: int = Field(5, description="handler attempts before the DLT")
    consumer_retry_base_seconds: float = Field(0.2, description="first retry delay (doubles)")
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8005", "http://localhost:8005"],
        description="origins allowed to call the API from a browser (the dashboard's)",
    )
    log_level: str = Field("INFO", description="root log level")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = EnvSettingsSource(settings_cls, env_prefix="CTIP_")
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def check_production(self) -> None:
        """Refuse to run production on the development keys that ship in this file."""
        if not self.is_production:
            return
        dev_values = {
            "jwt_secret": DEV_JWT_SECRET,
            "field_keys": DEV_FIELD_KEY,
            "blind_index_key": DEV_INDEX_KEY,
        }
        for name, dev in dev_values.items():
            if getattr(self, name).get_secret_value() == dev:
                raise RuntimeError(f"{name} is the development key; set a real one in production")
        if self.jwt_jwks_url is None:
            raise RuntimeError("production verifies tokens against a JWKS URL: set jwt_jwks_url")

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
