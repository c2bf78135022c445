from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: ClassVar[str] = "intake"
    model_config = SettingsConfigDict(env_prefix="CTIP_INTAKE_", extra="ignore")

    http_port: int = 8001
    receipt_failures_per_client: int = Field(
        10, description="wrong receipt codes a client may try per window before 429"
    )
    receipt_failures_global: int = Field(
        2000,
        description="wrong receipt codes all clients together may try per window before wrong "
        "answers are slowed down (never refused: a right code always gets through)",
    )
    receipt_slowdown_max_seconds: float = Field(
        3.0, ge=0, le=30, description="longest wait of a wrong answer under global pressure"
    )
    receipt_window_seconds: int = Field(900, description="window of the receipt limits")
    anonymous_filings_per_hour: int = Field(
        20, description="tips and missing-person reports one anonymous client may file per hour"
    )
    trust_forwarded_for: bool = Field(
        False, description="take the client address from X-Forwarded-For (behind our gateway)"
    )
