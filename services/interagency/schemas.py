"""Request and response models of the interagency API (DESIGN.md section 8), and the alert data
of each type: the allow-lists of ``domain.ALLOWED_FIELDS`` as strict models (unknown fields are
422 on the way in and cannot be built on the way out)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.common.figures import Figure
from libs.common.jurisdiction import is_province_code
from libs.common.schemas import StrictModel, e164_phone, utc_moment
from libs.common.text import normalize_id_number
from services.interagency.domain import (
    AlertType,
    BorderCountry,
    Decision,
    DeliveryStatus,
    Direction,
    SecretDirection,
)

Name = Annotated[str, Field(min_length=1, max_length=200)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
Age = Annotated[int, Field(ge=0, le=120)]
Sex = Literal["female", "male", "other", "unknown"]
Need = Literal[
    "essential_needs",
    "medical",
    "interpreter",
    "legal_support",
    "legal_aid",
    "travel",
    "psychological",
    "schooling",
    "vocational_training",
    "initial_hardship_allowance",
    "loan",
]
"""Support by law (Law 53/2024/QH15, Art. 37), what the receiving province should prepare."""
_ID_NUMBER = re.compile(r"^(\d{9}|\d{12}|[A-Z]{1,2}\d{6,9})$")


def _province(value: str | None) -> str | None:
    if value is not None and not is_province_code(value):
        raise ValueError("not a province code")
    return value


def _id_number(value: str | None) -> str | None:
    if value is None:
        return None
    normalised = normalize_id_number(value)
    if not _ID_NUMBER.match(normalised):
        raise ValueError("expected a 12-digit CCCD, a 9-digit CMND or a passport number")
    return normalised


def _aware(value: datetime | None) -> datetime | None:
    """Times are RFC 3339 with an offset, kept in UTC."""
    if value is None:
        return None
    return utc_moment(value)


# Alert data, one model per type (the allow-lists) ------------------------------------------------


class _AlertData(StrictModel):
    def fields_set(self) -> dict[str, Any]:
        """The data as sent: JSON values, empty fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


class _OnePerson(_AlertData):
    @model_validator(mode="after")
    def _dob_or_age(self) -> Any:
        if (
            getattr(self, "date_of_birth", None) is not None
            and getattr(self, "age", None) is not None
        ):
            raise ValueError("give date_of_birth or age, not both")
        return self


class MissingPersonData(_OnePerson):
    alert_type: Literal["missing_person"] = "missing_person"
    missing_person_id: UUID
    full_name: Name
    sex: Sex
    date_of_birth: date | None = None
    age: Age | None = None
    last_seen_at: datetime
    last_seen_ward_code: Annotated[str, Field(pattern=r"^\d{5}$")]
    hometown_ward_code: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None
    distinguishing_marks: str | None = Field(None, max_length=2000)
    id_number: str | None = Field(None, max_length=20)
    contact_agency: Short | None = None

    _id = field_validator("id_number")(_id_number)
    _seen = field_validator("last_seen_at")(_aware)


class PersonFoundData(_OnePerson):
    alert_type: Literal["person_found"] = "person_found"
    full_name: Name | None = None
    sex: Sex | None = None
    date_of_birth: date | None = None
    age: Age | None = None
    found_at: datetime | None = None
    found_place: str | None = Field(None, max_length=300)
    hometown_ward_code: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None
    id_number: str | None = Field(None, max_length=20)
    phone: str | None = Field(None, max_length=30)
    nationality: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1")
    contact_agency: Short | None = None

    _id = field_validator("id_number")(_id_number)
    _phone = field_validator("phone")(e164_phone)
    _found = field_validator("found_at")(_aware)


class VictimHandoverData(PersonFoundData):
    alert_type: Literal["victim_handover"] = "victim_handover"  # type: ignore[assignment]
    handover_at: datetime
    receiving_province_code: str
    needs: list[Need] = Field(default_factory=list, max_length=11)

    _receiving = field_validator("receiving_province_code")(_province)
    _handover = field_validator("handover_at")(_aware)


class SuspectAlertData(_OnePerson):
    alert_type: Literal["suspect_alert"] = "suspect_alert"
    full_name: Name | None = None
    aliases: list[Name] = Field(default_factory=list, max_length=20)
    date_of_birth: date | None = None
    age: Age | None = None
    phones: list[Annotated[str, Field(max_length=30)]] = Field(default_factory=list, max_length=20)
    id_number: str | None = Field(None, max_length=20)
    routes: list[Short] = Field(
        default_factory=list, max_length=20, description="e.g. a border gate or a road"
    )
    case_reference: Short | None = None
    contact_agency: Short | None = None

    _id = field_validator("id_number")(_id_number)

    @field_validator("phones")
    @classmethod
    def _phones(cls, values: list[str]) -> list[str]:
        return [p for p in (e164_phone(v) for v in values) if p is not None]


class BulletinDocument(StrictModel):
    title: Short
    url: str = Field(max_length=2000, pattern=r"^https?://")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SituationBulletinData(_AlertData):
    """The plan's exchange of experience: figures, routes and methods seen, legal documents."""

    alert_type: Literal["situation_bulletin"] = "situation_bulletin"
    title: Short
    summary: str = Field(min_length=1, max_length=20000)
    period: str = Field(
        min_length=4, max_length=40, description="e.g. 2026-Q3, 2026-10 or 2026-10-01/2026-10-31"
    )
    documents: list[BulletinDocument] = Field(default_factory=list, max_length=50)


AlertData = Annotated[
    MissingPersonData
    | PersonFoundData
    | VictimHandoverData
    | SuspectAlertData
    | SituationBulletinData,
    Field(discriminator="alert_type"),
]

DATA_MODELS: dict[AlertType, type[_AlertData]] = {
    AlertType.missing_person: MissingPersonData,
    AlertType.person_found: PersonFoundData,
    AlertType.victim_handover: VictimHandoverData,
    AlertType.suspect_alert: SuspectAlertData,
    AlertType.situation_bulletin: SituationBulletinData,
}


class InboundEvent(BaseModel):
    """A partner's CloudEvent (structured JSON). Extension attributes are allowed by CloudEvents;
    ``data`` is strict."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    type: Literal["vn.ctip.interagency.alert.v1"]
    time: datetime | None = None
    subject: str | None = Field(None, max_length=200)
    datacontenttype: Literal["application/json"] | None = None
    data: AlertData


# Partners -----------------------------------------------------------------------------------------


class PartnerCreate(StrictModel):
    code: str = Field(description="the partner's province code")
    name: Name
    webhook_url: str = Field(max_length=2000)
    alert_types: list[AlertType] | None = Field(
        None, description="what they receive; default: missing_person for border provinces"
    )
    border_countries: list[BorderCountry] = Field(default_factory=list, max_length=3)

    _code = field_validator("code")(_province)


class PartnerUpdate(StrictModel):
    name: Name | None = None
    webhook_url: str | None = Field(None, max_length=2000)
    alert_types: list[AlertType] | None = None
    border_countries: list[BorderCountry] | None = Field(None, max_length=3)


class PartnerRead(BaseModel):
    id: UUID
    code: str
    name: str
    webhook_url: str
    alert_types: list[str]
    border_countries: list[str]
    status: str
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    outbound_previous_valid_until: datetime | None = None
    inbound_previous_valid_until: datetime | None = None
    created_at: datetime
    version: int


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
                _province(value)
        return values


class BulletinIn(StrictModel):
    title: Short
    summary: str = Field(min_length=1, max_length=20000)
    period: str = Field(min_length=4, max_length=40)
    documents: list[BulletinDocument] = Field(default_factory=list, max_length=50)
    partner_codes: list[str] | None = Field(None, min_length=1, max_length=34)


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int
    outcome: str


class DeliveryOut(BaseModel):
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


class DeliveryRead(DeliveryOut):
    attempt_log: list[AttemptOut] = []


class AlertSummary(BaseModel):
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
    matched one of our missing persons (that would tell a partner about them)."""

    alert_id: UUID = Field(description="our id of the alert; the same for a repeated webhook-id")
    duplicate: bool = Field(False, description="this webhook-id was received before")


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
    id: UUID
    missing_person_id: UUID
    alert_id: UUID
    partner_code: str
    score: float
    reasons: list[ReasonOut]
    status: str
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
