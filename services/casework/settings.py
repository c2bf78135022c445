from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class CaseworkSettings(ServiceSettings):
    service_name: ClassVar[str] = "casework"
    model_config = SettingsConfigDict(env_prefix="CTIP_CASEWORK_", extra="ignore")

    http_port: int = 8002
