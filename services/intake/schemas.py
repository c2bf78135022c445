"""Request and response models of the intake API."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from libs.common.figures import DeadlineFigures, Figure
from libs.common.schemas import (
    DOB_XOR_AGE,
    PersonFields,
    PersonRead,
    ShortText,
    StrictModel,
    e164_phone,
    id_document,
    known_ward,
    not_future,
    utc_moment,
)
from libs.common.validation import InvalidValue
from services.intake.domain import (
    Channel,
    ExploitationType,
    ExtensionKind,
    MissingPersonOutcome,
    MissingPersonStatus,
    PersonRole,
    Priority,
    Publication,
    ReviewDecision,
    Sex,
    TipStatus,
    TraffickingRelated,
    VerificationOutcome,
)
from services.intake.examples import (
    MISSING_PERSON_EXAMPLE,
    RECEIPT_CODE,
    RECEIPT_MESSAGE_EXAMPLE,
    TIP_EXAMPLE,
)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")

WardCode = Annotated[str, Field(pattern=r"^\d{5}$", description="ward/commune code (5 digits)")]
Age = Annotated[int, Field(ge=0, le=120)]


class PersonIn(PersonFields):
    """A person named in a tip: who they are (the shared fields), their role and notes."""

    role: PersonRole
    notes: str | None = Field(None, max_length=2000)


class ReporterIn(StrictModel):
    name: ShortText | None = None
    phone: str | None = Field(None, max_length=30)
    email: str | None = Field(None, max_length=320)

    _phone = field_validator("phone")(e164_phone)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise InvalidValue("email.invalid", "not an email address")
        return value


class TipCreate(StrictModel):
    model_config = ConfigDict(json_schema_extra={"examples": [TIP_EXAMPLE]})

    channel: Channel
    description: str = Field(min_length=10, max_length=20000)
    incident_ward_code: WardCode | None = None
    occurred_on: date | None = None
    exploitation_types: list[ExploitationType] = Field(default_factory=list, max_length=9)
    destination_country: str | None = Field(
        None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 of where victims were taken"
    )
    persons: list[PersonIn] = Field(default_factory=list, max_length=50)
    reporter: ReporterIn | None = None

    _ward = field_validator("incident_ward_code")(known_ward)
    _occurred = field_validator("occurred_on")(not_future)


class TipCreated(BaseModel):
    id: UUID
    receipt_code: str = Field(description="16 digits, shown once; keep it to follow up")
    status: TipStatus
    received_at: datetime
    resolution_due_at: datetime


class MessageIn(StrictModel):
    body: str = Field(min_length=1, max_length=5000)


ReceiptCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="the 16 digits shown at filing; a malformed code is answered as a wrong one",
    ),
]


class ReceiptLookupIn(StrictModel):
    """The code travels in the body only: proxies and gateways log URLs."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"receipt_code": RECEIPT_CODE}]})

    receipt_code: ReceiptCode


class ReceiptMessageIn(StrictModel):
    model_config = ConfigDict(json_schema_extra={"examples": [RECEIPT_MESSAGE_EXAMPLE]})

    receipt_code: ReceiptCode
    body: str = Field(min_length=1, max_length=5000)


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    direction: Literal["to_reporter", "from_reporter"]
    body: str
    created_at: datetime


class ReceiptView(BaseModel):
    """What a reporter sees: the status and the messages meant for them, nothing else."""

    kind: Literal["tip", "missing_person"]
    status: TipStatus | MissingPersonStatus
    received_at: datetime
    messages: list[MessageOut]


class ClassificationIn(StrictModel):
    trafficking_related: TraffickingRelated
    exploitation_types: list[ExploitationType] = Field(default_factory=list, max_length=9)
    priority: Priority
    incident_ward_code: WardCode | None = Field(
        None, description="locate (or correct the place of) the tip while triaging"
    )
    assigned_to: str | None = Field(None, max_length=200, description="assign to (as /assignment)")
    notes: str | None = Field(None, max_length=5000)

    _ward = field_validator("incident_ward_code")(known_ward)


class ExtensionIn(StrictModel):
    kind: ExtensionKind
    reason: str = Field(min_length=5, max_length=2000)


class VerificationIn(StrictModel):
    outcome: VerificationOutcome
    duplicate_of: UUID | None = Field(None, validate_default=True)
    notes: str | None = Field(None, max_length=5000)

    @field_validator("duplicate_of")
    @classmethod
    def _duplicate_needs_original(cls, value: UUID | None, info: ValidationInfo) -> UUID | None:
        outcome = info.data.get("outcome")
        duplicate = outcome is VerificationOutcome.duplicate
        if outcome is not None and duplicate != (value is not None):
            raise InvalidValue(
                "duplicate_of.outcome",
                "duplicate_of is required for, and only for, outcome duplicate",
            )
        return value


class PersonOut(PersonRead):
    id: UUID
    role: str
    notes: str | None = None


class DuplicateOut(BaseModel):
    tip_id: UUID
    reasons: list[str] = Field(description="phone, id_number or name_birth_year_ward")


class ExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    reason: str | None = None
    previous_due_at: datetime
    new_due_at: datetime
    granted_at: datetime


class ReporterOut(BaseModel):
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class TipSummary(BaseModel):
    id: UUID
    channel: str
    status: TipStatus
    priority: str | None = None
    trafficking_related: str | None = None
    incident_ward_code: str | None = None
    exploitation_types: list[str]
    received_at: datetime
    resolution_due_at: datetime
    overdue: bool
    due_soon: bool
    assigned_to: str | None = None
    assignee: str | None = Field(None, description="the officer it was given to (assignment)")
    version: int


class TipRead(TipSummary):
    description: str | None = None
    occurred_on: date | None = None
    destination_country: str | None = None
    anonymous: bool
    reporter: ReporterOut | None = None
    persons: list[PersonOut]
    classification_notes: str | None = None
    verification_outcome: str | None = None
    duplicate_of: UUID | None = None
    verification_notes: str | None = None
    resolved_at: datetime | None = None
    extensions: list[ExtensionOut]
    messages: list[MessageOut]
    possible_duplicates: list[DuplicateOut]


class MissingPersonCreate(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={**DOB_XOR_AGE, "examples": [MISSING_PERSON_EXAMPLE]}
    )

    full_name: ShortText
    sex: Sex
    date_of_birth: date | None = None
    age: Age | None = Field(None, validate_default=True)
    last_seen_at: datetime
    last_seen_ward_code: WardCode
    hometown_ward_code: WardCode | None = None
    id_number: str | None = Field(None, max_length=20)
    phone: str | None = Field(None, max_length=30)
    distinguishing_marks: str | None = Field(None, max_length=2000)
    circumstances: str | None = Field(None, max_length=10000)
    reporter: ReporterIn | None = None
    publish: bool = Field(
        False,
        description="an intake officer of the place filing with a token may publish at once; "
        "a report from the public waits for an officer's review",
    )

    _wards = field_validator("last_seen_ward_code", "hometown_ward_code")(known_ward)
    _phone = field_validator("phone")(e164_phone)
    _dob = field_validator("date_of_birth")(not_future)
    _id = field_validator("id_number")(id_document)

    @field_validator("last_seen_at")
    @classmethod
    def _seen_in_the_past(cls, value: datetime) -> datetime:
        return utc_moment(value, past=True)

    @field_validator("age")
    @classmethod
    def _exactly_one(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "date_of_birth" not in info.data:
            return value  # the date of birth itself was invalid and is reported on its own
        if (info.data["date_of_birth"] is None) == (value is None):
            raise InvalidValue(
                "date_of_birth_or_age.none", "give exactly one of date_of_birth or age"
            )
        return value


class MissingPersonCreated(BaseModel):
    id: UUID
    receipt_code: str
    status: MissingPersonStatus
    publication: Publication


class ReviewIn(StrictModel):
    """An officer's review of a report before partners are alerted."""

    decision: ReviewDecision
    reason: str | None = Field(None, min_length=1, max_length=2000, validate_default=True)

    @field_validator("reason")
    @classmethod
    def _hold_says_why(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("decision") is ReviewDecision.hold and not (value and value.strip()):
            raise InvalidValue("reason.missing", "say why the report is held")
        return value


class PossibleMatchOut(BaseModel):
    match_id: UUID
    alert_id: UUID
    partner_code: str
    score: float
    reasons: list[dict[str, Any]]
    found: dict[str, Any]
    found_at: datetime
    status: Literal["candidate", "confirmed", "rejected"] = Field(
        "candidate", description="candidate, or confirmed / rejected by an officer in interagency"
    )
    decided_at: datetime | None = None


class MissingPersonSummary(BaseModel):
    id: UUID
    status: MissingPersonStatus
    sex: str
    age: int | None = None
    birth_year: int | None = None
    last_seen_at: datetime
    last_seen_ward_code: str
    outcome: MissingPersonOutcome | None = None
    reported_at: datetime
    publication: Publication = Field(description="pending (awaiting review), published or held")
    possible_match_count: int
    version: int


class MissingPersonRead(MissingPersonSummary):
    full_name: str
    date_of_birth: date | None = None
    hometown_ward_code: str | None = None
    id_number: str | None = None
    phone: str | None = None
    distinguishing_marks: str | None = None
    circumstances: str | None = None
    reporter: ReporterOut | None = None
    resolution_notes: str | None = None
    resolved_at: datetime | None = None
    review_reason: str | None = None
    reviewed_at: datetime | None = None
    messages: list[MessageOut]
    possible_matches: list[PossibleMatchOut]


class ResolutionIn(StrictModel):
    outcome: MissingPersonOutcome
    notes: str | None = Field(None, max_length=5000)


class WardHotspot(BaseModel):
    ward_code: str
    tips: int
    substantiated: int


class IntakeKpis(BaseModel):
    period_from: date | None
    period_to: date | None
    ward_code: str | None
    tips_received: int
    classified_ratio: Figure
    verified_ratio: Figure
    resolved_within_deadline_ratio: Figure
    overdue: int
    due_soon: int
    missing_persons_reported: int
    missing_persons_open: int
    hotspots: dict[str, Any]
    deadlines: DeadlineFigures


class AttachmentOut(BaseModel):
    """An evidence file as its uploader gets it back: the SHA-256 lets a court copy be checked."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    filename: str
    media_type: str
    size: int
    sha256: str


class AttachmentListed(AttachmentOut):
    source: Literal["public", "officer"]
    uploaded_by: str | None = None
    uploaded_at: datetime
