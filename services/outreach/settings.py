from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.rollup_ops import RollupSettings
from libs.common.settings import ServiceSettings


class OutreachSettings(ServiceSettings, RollupSettings):
    service_name: ClassVar[str] = "outreach"
    model_config = SettingsConfigDict(env_prefix="CTIP_OUTREACH_", extra="ignore")

    http_port: int = 8005
    intake_url: str = Field("http://127.0.0.1:8001", description="intake's base URL (figures)")
    casework_url: str = Field("http://127.0.0.1:8002", description="casework's base URL")
    victim_support_url: str = Field("http://127.0.0.1:8003", description="victim_support's URL")
    interagency_url: str = Field("http://127.0.0.1:8004", description="interagency's base URL")
    report_timeout_seconds: float = Field(10.0, description="per-service timeout of the report")
