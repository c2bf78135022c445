from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.jurisdiction import is_province_code
from libs.common.rollup_ops import RollupSettings
from libs.common.settings import ServiceSettings

# Where the local stack and the tests route tips filed without a ward (Hà Nội). Production names
# its own (``CTIP_INTAKE_TRIAGE_PROVINCE``) and refuses to start without one.
DEV_TRIAGE_PROVINCE = "01"


class IntakeSettings(ServiceSettings, RollupSettings):
    service_name: ClassVar[str] = "intake"
    model_config = SettingsConfigDict(env_prefix="CTIP_INTAKE_", extra="ignore")

    http_port: int = 8001
    receipt_failures_per_client: int = Field(
        10,
        description="wrong receipt codes a client may try at once; then one more every "
        "window / this many seconds (429 with Retry-After meanwhile)",
    )
    receipt_failures_per_ipv6_site: int = Field(
        100,
        description="wrong receipt codes all the /64s of one IPv6 /48 may try per window "
        "before 429",
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
    attachment_retention_days: int = Field(
        365,
        ge=1,
        description="days after a tip is closed as unsubstantiated before the worker deletes its "
        "files",
    )
    attachment_purge_seconds: float = Field(
        3600, gt=0, description="how often the worker looks for files past their retention"
    )
    triage_province: str = Field(
        "",
        description="province whose intake officers triage tips filed without a ward "
        "(required in production; 01 on the local stack)",
    )

    @field_validator("triage_province")
    @classmethod
    def _a_province(cls, value: str) -> str:
        if value and not is_province_code(value):
            raise ValueError("triage_province must be a province code such as 01")
        return value

    @model_validator(mode="after")
    def _local_triage(self) -> IntakeSettings:
        """Outside production an unset triage province is the local stack's; production must
        say which office reads unlocated tips, reporters' contacts included."""
        if not self.triage_province and not self.is_production:
            self.triage_province = DEV_TRIAGE_PROVINCE
        return self

    def check_production(self) -> None:
        if self.is_production and not self.triage_province:
            raise RuntimeError(
                "set CTIP_INTAKE_TRIAGE_PROVINCE: the province whose intake officers triage tips "
                "filed without a ward (no one else may read them)"
            )
        super().check_production()
