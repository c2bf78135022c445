from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from libs.common.rollup_ops import RollupSettings
from libs.common.settings import ServiceSettings


class VictimSupportSettings(ServiceSettings, RollupSettings):
    service_name: ClassVar[str] = "victim_support"
    model_config = SettingsConfigDict(env_prefix="CTIP_VICTIM_SUPPORT_", extra="ignore")

    http_port: int = 8003
