from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.jurisdiction import is_province_code
from libs.common.retries import RetryPolicy
from libs.common.rollup_ops import RollupSettings
from libs.common.settings import ServiceSettings
from services.interagency.circuit import CircuitRules

DEV_DESK_PROVINCE = "01"
SVIX_SCHEDULE = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class InteragencySettings(ServiceSettings, RollupSettings):
    service_name: ClassVar[str] = "interagency"
    model_config = SettingsConfigDict(env_prefix="CTIP_INTERAGENCY_", extra="ignore")

    http_port: int = 8004
    contact_agency: str = Field(
        "Interagency desk, anti-trafficking steering committee",
        max_length=200,
        description="`contact_agency` of the alerts we send: whom partners call back",
    )
    retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: list(SVIX_SCHEDULE),
        min_length=1,
        description="waits between delivery attempts; the first attempt is immediate",
    )
    retry_jitter: float = Field(0.2, ge=0, lt=1, description="± share of each wait, random")
    max_retry_after_seconds: float = Field(
        36000.0, description="the longest Retry-After of a partner we honour"
    )
    delivery_timeout_seconds: float = Field(15.0, gt=0, description="per webhook request")
    delivery_concurrency: int = Field(
        16, ge=1, le=100, description="partners served at once (one request in flight each)"
    )
    delivery_batch: int = Field(
        20, ge=1, le=500, description="deliveries a lane takes (and records) per transaction"
    )
    delivery_poll_seconds: float = Field(
        1.0, gt=0, description="how often due deliveries are sought"
    )
    delivery_lease_seconds: float = Field(
        60.0, gt=0, description="a partner's lane is leased this long, renewed per batch"
    )
    delivery_lane_turn: int = Field(
        50, ge=1, le=10_000, description="attempts a partner's lane makes before others get a turn"
    )
    circuit_failure_threshold: int = Field(
        5, ge=1, le=1000, description="failed attempts in a row that open a partner's circuit"
    )
    circuit_open_seconds: float = Field(
        30.0, gt=0, description="an open circuit's first wait before a single probe delivery"
    )
    circuit_max_open_seconds: float = Field(
        600.0, gt=0, description="each failed probe doubles the wait, up to this"
    )
    circuit_gauge_seconds: float = Field(
        15.0, gt=0, description="how often ctip_partner_circuit is read from the partners table"
    )
    run_delivery_worker: bool = Field(True, description="run the webhook sender in the API process")
    inbound_max_bytes: int = Field(256 * 1024, description="largest inbound webhook body (413)")
    webhook_tolerance_seconds: int = Field(300, description="clock skew accepted on webhooks")
    inbound_dedup_days: int = Field(
        7, ge=2, description="webhook-ids kept for deduplication (beyond senders' retry window)"
    )
    alert_desk_province: str = Field(
        "",
        description="province of the interagency desk: partners' alerts that name no receiving"
        " province or hometown (and older alerts, at the migration) are read there only"
        " (required in production; 01 on the local stack)",
    )
    secret_overlap_hours: float = Field(24.0, description="old secret stays valid after rotation")
    match_threshold: float = Field(0.75, ge=0, le=1, description="score that makes a candidate")
    match_candidates: int = Field(
        50, ge=1, le=500, description="candidates scored per alert (nearest birth years first)"
    )

    @field_validator("alert_desk_province")
    @classmethod
    def _desk_is_a_province(cls, value: str) -> str:
        """A mistyped code would make those alerts nobody's: refuse to start instead."""
        if value and not is_province_code(value):
            raise ValueError("alert_desk_province must be a province code such as 01")
        return value

    @model_validator(mode="after")
    def _local_desk(self) -> InteragencySettings:
        """Outside production an unset desk is the local stack's; production must say which
        office reads partners' alerts that name no place of ours."""
        if not self.alert_desk_province and not self.is_production:
            self.alert_desk_province = DEV_DESK_PROVINCE
        return self

    def check_production(self) -> None:
        if self.is_production and not self.alert_desk_province:
            raise RuntimeError(
                "set CTIP_INTERAGENCY_ALERT_DESK_PROVINCE: the province whose officers read"
                " partners' alerts that name no receiving province or hometown"
            )
        super().check_production()

    def circuit_rules(self) -> CircuitRules:
        return CircuitRules(
            failure_threshold=self.circuit_failure_threshold,
            open_seconds=self.circuit_open_seconds,
            max_open_seconds=self.circuit_max_open_seconds,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            schedule=tuple(self.retry_schedule_seconds),
            jitter=self.retry_jitter,
            max_retry_after=self.max_retry_after_seconds,
        )

    @property
    def worker_stop_seconds(self) -> float:
        """A webhook in flight may finish (its timeout) before the sender is cancelled."""
        return self.delivery_timeout_seconds + 5
