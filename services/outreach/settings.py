from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class OutreachSettings(ServiceSettings):
    service_name: ClassVar[str] = "outreach"
    model_config = SettingsConfigDict(env_prefix="CTIP_OUTREACH_", extra="ignore")

    http_port: int = 8005
