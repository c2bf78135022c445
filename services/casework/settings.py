from __future__ import annotations

from typing import ClassVar

from dateutil.relativedelta import relativedelta
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.rollup_ops import RollupSettings
from libs.common.settings import ServiceSettings
from services.casework.domain import StageRules


class CaseworkSettings(ServiceSettings, RollupSettings):
    service_name: ClassVar[str] = "casework"
    model_config = SettingsConfigDict(env_prefix="CTIP_CASEWORK_", extra="ignore")

    http_port: int = 8002
    investigation_months: int = Field(
        4, ge=1, le=24, description="investigation stage limit (CPC Art. 172: 4 months)"
    )
    trial_preparation_months: int = Field(
        2, ge=1, le=12, description="time to bring an indicted case to trial (CPC Art. 277)"
    )
    intake_url: str = Field(
        "http://127.0.0.1:8001", description="intake's base URL (the content of tips' files)"
    )
    intake_timeout_seconds: float = Field(
        30.0, gt=0, description="how long intake may take to start sending a tip's file"
    )

    def stage_rules(self) -> StageRules:
        return StageRules(
            investigation=relativedelta(months=self.investigation_months),
            trial_preparation=relativedelta(months=self.trial_preparation_months),
        )
