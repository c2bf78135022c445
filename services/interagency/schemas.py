"""Request and response models of the interagency API; the alert data of each type is in
``alert_data.py``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from libs.common.figures import Figure
from libs.common.schemas import ShortText, StrictModel
from libs.common.validation import InvalidValue
from services.interagency.alert_data import (
    BulletinDocument,
    SuspectAlertData,
    VictimHandoverData,
    province_code,
)
from services.interagency.circuit import CircuitState
from services.interagency.domain import (
    AlertType,
    AttemptOutcome,
    BorderCountry,
    Decision,
    DeliveryStatus,
    Direction,
    MatchStatus,
    PartnerStatus,
    SecretDirection,
)

# Partners -----------------------------------------------------------------------------------------


class PartnerCreate(StrictModel):
    code: str = Field(description="the partner's province code")
    name: ShortText
    webhook_url: str = Field(max_length=2000)
    alert_types: list[AlertType] | None = Field(
        None, description="what they receive; default: missing_person for border provinces"
    )
    border_countries: list[BorderCountry] = Field(default_factory=list, max_length=3)

    _code = field_validator("code")(province_code)


class PartnerUpdate(StrictModel):
    name: ShortText | None = None
    webhook_url: str | None = Field(None, max_length=2000)
    alert_types: list[AlertType] | None = None
    border_countries: list[BorderCountry] | None = Field(None, max_length=3)


class PartnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    name: str
    webhook_url: str
    alert_types: list[str]
    border_countries: list[str]
    status: PartnerStatus
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    outbound_previous_valid_until: datetime | None = Field(
        None,
        validation_alias=AliasChoices("outbound_previous_valid_until", "outbound_previous_until"),
    )
    inbound_previous_valid_until: datetime | None = Field(
        None,
        validation_alias=AliasChoices("inbound_previous_valid_until", "inbound_previous_until"),
    )
    circuit: CircuitState = Field(
        CircuitState.closed,
        description="deliveries flow (closed), wait (open) or one probe is due (half_open)",
    )
    circuit_open_until: datetime | None = Field(
        None, description="when an open circuit lets a single probe delivery through"
    )
    created_at: datetime
    version: int

    @model_validator(mode="after")
    def _half_open_once_due(self) -> Any:
        """An open circuit whose time is up is half-open: its next delivery is the probe."""
        if (
            self.circuit is CircuitState.open
            and self.circuit_open_until is not None
            and self.circuit_open_until <= datetime.now(UTC)
        ):
            self.circuit = CircuitState.half_open
        return self


class PartnerCreated(PartnerRead):
    outbound_secret: str = Field(description="we sign what we send with it; shown once")
    inbound_secret: str = Field(description="they sign what they send us with it; shown once")


class RotateSecretIn(StrictModel):
    direction: SecretDirection = SecretDirection.both


class RevokeSecretIn(StrictModel):
    direction: SecretDirection = Field(
        SecretDirection.both, description="whose previous secret stops being valid at once"
    )


class RotatedSecrets(BaseModel):
    code: str
    outbound_secret: str | None = Field(None, description="new; shown once")
    inbound_secret: str | None = Field(None, description="new; shown once")
    previous_valid_until: datetime
    version: int


class DisableIn(StrictModel):
    reason: str = Field("disabled by an administrator", min_length=1, max_length=300)


# Alerts -------------------------------------------------------------------------------------------


class OutboundAlertIn(StrictModel):
    """An officer's alert: ``suspect_alert`` to subscribed (or named) partners, or
    ``victim_handover`` to the home province named in its data."""

    data: Annotated[SuspectAlertData | VictimHandoverData, Field(discriminator="alert_type")]
    partner_codes: list[str] | None = Field(
        None,
        min_length=1,
        max_length=34,
        description="only these partners; default: every partner subscribed",
    )
    subject_id: UUID | None = Field(None, description="the local record the alert is about")

    @field_validator("partner_codes")
    @classmethod
    def _codes(cls, values: list[str] | None) -> list[str] | None:
        if values is not None:
            for value in values:
                province_code(value)
        return values


class BulletinIn(StrictModel):
    title: ShortText
    summary: str = Field(min_length=1, max_length=20000)
    period: str = Field(min_length=4, max_length=40)
    documents: list[BulletinDocument] = Field(default_factory=list, max_length=50)
    partner_codes: list[str] | None = Field(None, min_length=1, max_length=34)


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int
    outcome: AttemptOutcome


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID = Field(description="the webhook-id")
    alert_id: UUID
    partner_code: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    replays: int
    created_at: datetime
    delivered_at: datetime | None = None
    failed_at: datetime | None = None

    @model_validator(mode="after")
    def _due_only_when_pending(self) -> Any:
        if self.status is not DeliveryStatus.pending:
            self.next_attempt_at = None
        return self


class BulkReplayIn(StrictModel):
    """Which failed deliveries to send again; every filter narrows, none means all."""

    partner_code: str | None = Field(None, description="only deliveries to this partner")
    status: Literal["failed"] = Field(
        "failed", description="only failed deliveries are replayed (pending ones are on their way)"
    )
    alert_type: AlertType | None = Field(None, description="only alerts of this type")
    failed_from: AwareDatetime | None = Field(None, description="failed at or after this time")
    failed_to: AwareDatetime | None = Field(None, description="failed before this time")
    limit: int = Field(1000, ge=1, le=10_000, description="at most this many, oldest failure first")

    _code = field_validator("partner_code")(province_code)

    @model_validator(mode="after")
    def _period(self) -> Any:
        if self.failed_from and self.failed_to and self.failed_from >= self.failed_to:
            raise InvalidValue(
                "period.empty", "failed_from must be before failed_to", at="failed_to"
            )
        return self


class BulkReplayOut(BaseModel):
    requeued: int = Field(description="deliveries due again now, with a fresh retry schedule")
    ids: list[UUID] = Field(description="their ids (each the same webhook-id as before)")
    left_at_disabled_partners: int = Field(
        description="matching failed deliveries not replayed: their partner is disabled"
    )
    more_may_match: bool = Field(
        description="more failed deliveries match than the limit took: call again"
    )


class DeliveryRead(DeliveryOut):
    attempt_log: list[AttemptOut] = []


class AlertSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    direction: Direction
    alert_type: AlertType
    partner_code: str | None = None
    subject_id: UUID | None = None
    created_at: datetime
    delivery_counts: dict[str, int] = Field(
        default_factory=dict, description="outbound: deliveries by status"
    )


class AlertRead(AlertSummary):
    data: dict[str, Any]
    event_id: str | None = None
    deliveries: list[DeliveryRead] = []


class AlertCreated(BaseModel):
    id: UUID
    alert_type: AlertType
    partner_codes: list[str]
    created_at: datetime


class InboundAccepted(BaseModel):
    """What a partner learns of its alert: that we have it, once. Never whether its person
    matched one of our missing persons (that would tell a partner about them). A replayed
    ``webhook-id`` is answered exactly as the first delivery was, byte for byte: a sender that
    missed the first answer must not be able to tell the two apart."""

    alert_id: UUID = Field(description="our id of the alert; the same for a repeated webhook-id")


class BulletinRead(BaseModel):
    id: UUID
    direction: Direction
    partner_code: str | None = None
    title: str
    summary: str
    period: str
    documents: list[BulletinDocument]
    created_at: datetime


# Matches ------------------------------------------------------------------------------------------


class ReasonOut(BaseModel):
    field: str
    detail: str
    weight: float


class MatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    missing_person_id: UUID
    alert_id: UUID
    partner_code: str
    score: float
    reasons: list[ReasonOut]
    status: MatchStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    created_at: datetime
    version: int


class DecisionIn(StrictModel):
    decision: Decision
    note: str | None = Field(None, max_length=500, description="kept in the audit log only")


# Figures ------------------------------------------------------------------------------------------


class InteragencyKpis(BaseModel):
    period_from: date | None
    period_to: date | None
    alerts_sent: dict[str, int] = Field(description="outbound alerts by type")
    alerts_received: dict[str, int] = Field(description="inbound alerts by type")
    sent_by_partner: dict[str, int] = Field(description="deliveries by partner")
    received_by_partner: dict[str, int]
    delivery_success_ratio: Figure = Field(description="delivered / finished deliveries")
    deliveries_pending: int
    deliveries_failed: int
    matches_found: int
    matches_confirmed: int
    confirmed_ratio: Figure = Field(description="confirmed / decided matches")
