from __future__ import annotations

from datetime import time
from typing import ClassVar

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import SettingsConfigDict

from libs.common.directory import Directory
from libs.common.retries import DEFAULT_RETRY_SCHEDULE, RetryPolicy
from libs.common.rollup_ops import RollupSettings
from libs.common.settings import ServiceSettings
from services.notifications.email import SmtpConfig


class NotificationsSettings(ServiceSettings, RollupSettings):
    service_name: ClassVar[str] = "notifications"
    model_config = SettingsConfigDict(env_prefix="CTIP_NOTIFICATIONS_", extra="ignore")

    http_port: int = 8006
    ladder: dict[str, list[str]] = Field(
        default_factory=dict,
        description="the escalation ladder reworded (JSON): kind (deadline.approaching, "
        "deadline.missed, assigned) -> audiences (assignee, assignee_or_officers, officers, "
        "supervisors); kinds not named keep the default",
    )
    officer_roles: dict[str, str] = Field(
        default_factory=dict,
        description="whose clock each record type is (JSON): record type -> role; default "
        "tip -> intake_officer, case -> investigator, victim -> social_worker",
    )
    stream_heartbeat_seconds: float = Field(
        15.0, gt=0, description="a comment line on each open stream this often (proxies)"
    )
    stream_poll_seconds: float = Field(
        30.0,
        gt=0,
        description="a stream looks for new notifications at least this often, though the "
        "NOTIFY of each insert wakes it at once (the fallback when that is lost)",
    )
    stream_max_seconds: float = Field(
        900.0,
        gt=0,
        description="a stream is closed after this long; the client reconnects with "
        "Last-Event-ID and misses nothing",
    )
    stream_batch: int = Field(100, ge=1, le=1000, description="notifications read per round")

    # Built once by ``create_app`` (the identity provider, or the seeded file), so that route and
    # event handler alike reach it through the context's settings, never a module global.
    _directory: Directory | None = PrivateAttr(default=None)

    def use_directory(self, directory: Directory) -> None:
        self._directory = directory

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            raise LookupError("the directory is attached by create_app")
        return self._directory

    # The channels (deliveries.py): e-mail, the provinces' webhooks, the daily digest ------------

    smtp_host: str = Field(
        "",
        description="the mail server notifications are sent through; empty: no e-mail "
        "(required in production)",
    )
    smtp_port: int = Field(587, description="the mail server's submission port")
    smtp_username: str = Field("", description="the mail account, if the server asks for one")
    smtp_password: SecretStr = Field(SecretStr(""), description="the mail account's password")
    smtp_from: str = Field(
        "ctip <no-reply@ctip.example>",
        description="the From of every message; its domain names the Message-IDs",
    )
    smtp_starttls_required: bool = Field(
        True, description="refuse a mail server that does not offer STARTTLS"
    )
    smtp_implicit_tls: bool = Field(False, description="TLS from the first byte (port 465)")
    smtp_tls_ca_file: str | None = Field(
        None, description="a PEM file of the CA that signed the mail server's certificate"
    )
    smtp_timeout_seconds: float = Field(30.0, gt=0, description="per SMTP conversation")
    email_window_seconds: int = Field(
        900,
        ge=0,
        le=86400,
        description="one e-mail per person per window of this many seconds; 0: one per "
        "notification, at once",
    )
    link_base_url: str = Field(
        "http://127.0.0.1:8080",
        description="the gateway's public address: e-mails link to the record there",
    )
    digest_local_time: time = Field(
        time(7, 0), description="when the daily digests are sent (local time of Viet Nam)"
    )
    delivery_retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE),
        min_length=1,
        description="waits between attempts of an e-mail or webhook; the first is immediate",
    )
    delivery_retry_jitter: float = Field(0.2, ge=0, lt=1, description="± share of each wait")
    delivery_poll_seconds: float = Field(
        1.0, gt=0, description="how often notifications to plan and deliveries due are sought"
    )
    delivery_batch: int = Field(
        100, ge=1, le=1000, description="notifications planned, or deliveries taken, per round"
    )
    delivery_concurrency: int = Field(8, ge=1, le=100, description="messages in flight at once")
    delivery_lease_seconds: float = Field(
        120.0,
        gt=0,
        description="a delivery taken by a worker that died is tried again after this long",
    )
    webhook_timeout_seconds: float = Field(15.0, gt=0, description="per webhook request")

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    def smtp_config(self) -> SmtpConfig:
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            username=self.smtp_username or None,
            password=self.smtp_password.get_secret_value() or None,
            starttls_required=self.smtp_starttls_required,
            implicit_tls=self.smtp_implicit_tls,
            ca_file=self.smtp_tls_ca_file,
            timeout_seconds=self.smtp_timeout_seconds,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            schedule=tuple(self.delivery_retry_schedule_seconds), jitter=self.delivery_retry_jitter
        )

    def check_production(self) -> None:
        if self.is_production:
            if not self.smtp_host:
                raise RuntimeError(
                    "set CTIP_NOTIFICATIONS_SMTP_HOST: e-mail is how a missed "
                    "deadline reaches someone who is not looking"
                )
            if not (self.smtp_starttls_required or self.smtp_implicit_tls):
                raise RuntimeError(
                    "production sends e-mail over TLS only: keep "
                    "CTIP_NOTIFICATIONS_SMTP_STARTTLS_REQUIRED"
                )
        super().check_production()
