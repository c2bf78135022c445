from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PrivateAttr
from pydantic_settings import SettingsConfigDict

from libs.common.directory import Directory
from libs.common.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
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
