"""Settings shared by every service.

Each service subclasses :class:`ServiceSettings` with its own env prefix (``CTIP_INTAKE_``...).
A value is looked up as ``CTIP_<SERVICE>_<NAME>`` first, then ``CTIP_<NAME>`` (shared by all
services of one deployment, e.g. the database URL), then the default below, which fits the
local stack started by ``make up``: PostgreSQL on ``CTIP_PG_PORT`` (5432) and Kafka on
``CTIP_KAFKA_PORT`` (9092), the two variables that also move the stack itself, so that a second
copy needs nothing else set.

A database URL may be written ``postgresql://…`` (as PostgreSQL's own tools write it): the
driver is always asyncpg, and ``+asyncpg`` is implied.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from libs.common.crypto import parse_keys

# A development key for the local stack only. Production refuses to start with it
# (see ``ServiceSettings.check_production``).
DEV_JWT_SECRET = "ctip-local-development-key-not-for-production-use"  # noqa: S105
# Readable 32-byte keys for the local stack only, refused in production like the JWT key.
DEV_FIELD_KEY = "dev1:Y3RpcC1sb2NhbC1maWVsZC1rZXktMzItYnl0ZXMhISE="
DEV_INDEX_KEY = "Y3RpcC1sb2NhbC1ibGluZC1pbmRleC1rZXktMzJieXQ="
DEV_AUDIT_KEY = "Y3RpcC1sb2NhbC1hdWRpdC1jaGFpbi1rZXktMzJieXQ="


def local_port(variable: str, default: int) -> int:
    """A port of the local stack from the environment (``CTIP_PG_PORT``), else the default."""
    value = os.environ.get(variable, "").strip()
    return int(value) if value.isdigit() else default


def pg_url(role: str) -> str:
    """The local stack's database as ``role`` (its password is its name)."""
    return f"postgresql+asyncpg://{role}:{role}@127.0.0.1:{local_port('CTIP_PG_PORT', 5432)}/ctip"


def kafka_bootstrap() -> str:
    return f"127.0.0.1:{local_port('CTIP_KAFKA_PORT', 9092)}"


def asyncpg_url(url: str) -> str:
    """``postgresql://`` or ``postgres://`` without a driver is asyncpg's, the only driver we
    ship; a URL that names a driver is left as it is."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    return url


class ServiceSettings(BaseSettings):
    """What every service needs; a service adds its own fields in a subclass."""

    service_name: ClassVar[str] = "common"
    model_config = SettingsConfigDict(env_prefix="CTIP_", extra="ignore")

    # Exactly these three: a near miss (``prod``, ``Production``, ``staging``) refuses to start
    # rather than run as development, on the development keys below.
    environment: Literal["development", "test", "production"] = Field(
        "development", description="development, test or production"
    )
    database_url: str = Field(
        default_factory=lambda: pg_url("ctip_app"),
        description="URL as the runtime role (owns nothing); `postgresql://` means asyncpg. "
        "Default: the local stack on CTIP_PG_PORT (5432)",
    )
    migration_database_url: str | None = Field(
        default_factory=lambda: pg_url("ctip"),
        description="URL as the role that owns the schemas: `ctip migrate` only",
    )
    db_pool_size: int = Field(10, description="connections kept per process")
    kafka_bootstrap: str = Field(
        default_factory=kafka_bootstrap,
        description="Kafka bootstrap servers; default: the local stack on CTIP_KAFKA_PORT (9092)",
    )
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
    relay_batch_size: int = Field(2000, description="outbox rows published per round")
    relay_linger_seconds: float = Field(
        0.01,
        ge=0,
        le=1,
        description="after a partial batch, wait this long for more rows before the next round",
    )
    outbox_retention_hours: int = Field(72, description="published outbox rows kept this long")
    consumer_max_attempts: int = Field(5, description="handler attempts before the DLT")
    consumer_retry_base_seconds: float = Field(0.2, description="first retry delay (doubles)")
    deadline_thresholds_days: list[float] = Field(
        default_factory=lambda: [5.0, 1.0],
        description="a legal clock signals `deadline.approaching` this many days before it runs "
        "out (JSON list), and `deadline.missed` after",
    )
    deadline_scan_seconds: float = Field(
        30.0, gt=0, description="how often the worker looks for deadlines to signal"
    )
    directory_file: str = Field(
        "deploy/local/directory.json",
        description="the seeded directory of officers (local stack and tests only)",
    )
    directory_url: str | None = Field(
        None,
        description="Keycloak's root URL: who holds which role where is read from its admin API "
        "(required in production by the services that assign or notify)",
    )
    directory_realm: str = Field("ctip", description="the Keycloak realm of the directory")
    directory_client_id: str = Field(
        "ctip-directory", description="the directory's service account (view-users, query-users)"
    )
    directory_client_secret: SecretStr = Field(
        SecretStr(""), description="the directory service account's secret"
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8005", "http://localhost:8005"],
        description="origins allowed to call the API from a browser (the dashboard's)",
    )
    log_level: str = Field("INFO", description="root log level")

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _asyncpg(cls, value: str | None) -> str | None:
        return asyncpg_url(value) if value else value

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
    def worker_stop_seconds(self) -> float:
        """How long a stopping process waits for its background loops to finish their turn."""
        return 10.0

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def check_production(self) -> None:
        """Refuse to run production on the development keys that ship in this file, or without
        the token checks production relies on. Every call site of a process that serves, works or
        migrates runs this (``create_service_app``, ``ctip migrate``).

        Keys are compared by their decoded bytes, as the services decode them, against every
        development key: another kid, another base64 spelling or a development key moved to
        another purpose is still a key anyone can read in this repository."""
        if not self.is_production:
            return
        dev_keys = _development_key_bytes()
        if self.jwt_secret.get_secret_value().strip().encode() in dev_keys:
            raise RuntimeError("jwt_secret is the development key; set a real one in production")
        try:
            field_keys = parse_keys(self.field_keys.get_secret_value())
        except ValueError as exc:
            raise RuntimeError(f"field_keys: {exc}") from exc
        for kid, key in field_keys.items():
            if key in dev_keys:
                raise RuntimeError(
                    f"field_keys: key {kid!r} is a development key; set a real one in production"
                )
        for name in ("blind_index_key", "audit_key"):
            secret: SecretStr = getattr(self, name)
            decoded = _decode_key(secret.get_secret_value())
            if decoded is None or len(decoded) < 32:
                raise RuntimeError(f"{name} must be the base64 of at least 32 bytes")
            if decoded in dev_keys:
                raise RuntimeError(f"{name} is a development key; set a real one in production")
        if self.jwt_jwks_url is None:
            raise RuntimeError("production verifies tokens against a JWKS URL: set jwt_jwks_url")
        for name in ("jwt_audience", "jwt_issuer"):
            value: str | None = getattr(self, name)
            if value is None or not value.strip():
                raise RuntimeError(
                    f"{name} is required in production: a token of the same provider minted "
                    "for another client or realm must not be accepted"
                )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


def _decode_key(encoded: str) -> bytes | None:
    """A base64 key as the services decode it (``base64.b64decode``, which skips whitespace and
    other characters outside the alphabet); None when it does not decode."""
    try:
        return base64.b64decode(encoded)
    except (binascii.Error, ValueError):
        return None


def _development_key_bytes() -> frozenset[bytes]:
    dev = [DEV_INDEX_KEY, DEV_AUDIT_KEY, DEV_FIELD_KEY.split(":", 1)[1]]
    decoded = {key for key in (_decode_key(d) for d in dev) if key is not None}
    return frozenset({*decoded, DEV_JWT_SECRET.encode()})
