from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class InteragencySettings(ServiceSettings):
    service_name: ClassVar[str] = "interagency"
    model_config = SettingsConfigDict(env_prefix="CTIP_INTERAGENCY_", extra="ignore")

    http_port: int = 8004
