"""Request and response models of the victim_support API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from libs.common.figures import DeadlineFigures, Figure
from libs.common.schemas import (
    PersonFields,
    PersonRead,
    StrictModel,
    known_ward,
    not_future,
    utc_moment,
)
from libs.common.validation import InvalidValue
from services.victim_support.domain import (
    ConsentScope,
    IdentificationOutcome,
    LinkDecision,
    LinkStatus,
    Source,
    SupportType,
    VictimStatus,
)

Org = Annotated[str, Field(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Vnd = Annotated[int, Field(ge=0, le=10_000_000_000, description="integer VND")]


class PersonIn(PersonFields):
    notes: str | None = Field(None, max_length=5000)


class VictimCreate(StrictModel):
    source: Source
    received_at: datetime
    ward_code: str = Field(pattern=r"^\d{5}$", description="where the person is received")
    person: PersonIn
    is_minor: bool | None = None
    nationality: str = Field("VN", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    case_id: UUID | None = None
    needs: list[SupportType] = Field(default_factory=list, max_length=11)

    _w = field_validator("ward_code")(known_ward)

    @field_validator("received_at")
    @classmethod
    def _received(cls, value: datetime) -> datetime:
        return utc_moment(value, past=True)


class IdentificationIn(StrictModel):
    outcome: IdentificationOutcome
    deciding_agency: str = Field(min_length=3, max_length=300)
    document_ref: str = Field(min_length=1, max_length=200)
    needs: list[SupportType] = Field(
        default_factory=list,
        max_length=11,
        description="needs assessed at identification (added to those recorded at reception)",
    )


class ProtectionIn(StrictModel):
    measures: list[
        Literal[
            "safe_shelter",
            "identity_protection",
            "police_protection",
            "relocation",
            "protection_of_relatives",
            "other",
        ]
    ] = Field(min_length=1, max_length=6)
    notes: str | None = Field(None, max_length=5000)


class ConsentIn(StrictModel):
    scope: ConsentScope
    granted: bool
    org: Org | None = None

    @model_validator(mode="after")
    def _ngo_needs_org(self) -> ConsentIn:
        if self.scope is ConsentScope.share_with_ngo and not self.org:
            raise InvalidValue("org.missing", "share_with_ngo names the organisation (org)")
        return self


class SupportIn(StrictModel):
    type: SupportType
    amount_vnd: Vnd = 0
    provided_on: date
    provider_org: Org
    program_id: UUID | None = None

    _d = field_validator("provided_on")(not_future)


class ReintegrationIn(StrictModel):
    checked_on: date
    situation: str = Field(min_length=3, max_length=5000)
    employment: Literal["employed", "self_employed", "training", "unemployed", "unknown"] | None = (
        None
    )
    schooling: Literal["in_school", "not_in_school", "not_applicable", "unknown"] | None = None
    notes: str | None = Field(None, max_length=5000)
    closed: bool = False

    _d = field_validator("checked_on")(not_future)


class ConsentOut(BaseModel):
    scope: str
    org: str | None
    granted: bool
    recorded_at: datetime


class SupportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    type: str
    amount_vnd: int
    provided_on: date
    provider_org: str
    program_id: UUID | None


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: VictimStatus | None
    to_status: VictimStatus
    at: datetime
    by: str
    details: dict[str, Any]


class VictimSummary(BaseModel):
    """What a supervisor may see: figures and statuses, no personal data."""

    id: UUID
    status: VictimStatus
    source: Source
    ward_code: str | None
    province_code: str
    received_at: datetime
    verification_due_at: datetime
    overdue: bool
    is_minor: bool | None
    nationality: str
    case_ids: list[UUID]
    version: int


class PersonOut(PersonRead):
    notes: str | None = None


class VictimRead(VictimSummary):
    person: PersonOut | None
    needs: list[str]
    entitled_supports: list[str]
    identification: dict[str, Any] | None
    protection: list[dict[str, Any]]
    supports: list[SupportOut]
    consents: list[ConsentOut]
    reintegration: list[dict[str, Any]]
    timeline: list[TimelineEntry]


class VictimKpis(BaseModel):
    period_from: date | None
    period_to: date | None
    ward_code: str | None
    received: int
    verified_ratio: Figure
    identified_within_deadline_ratio: Figure
    protected_ratio: Figure
    supported_ratio: Figure
    overdue: int
    by_status: dict[str, int]
    hotspots: dict[str, Any]
    deadlines: DeadlineFigures


class VictimLinkIn(StrictModel):
    other_victim_id: UUID = Field(
        description="the other office's record of the same person (it told you its id)"
    )


class VictimLinkDecisionIn(StrictModel):
    decision: LinkDecision


class VictimLinkOut(BaseModel):
    """Two records of one person in two jurisdictions. ``victim_id`` is the proposing side's
    record (or, for a suggestion, ours that a reception elsewhere matched). Where
    ``other_victim_id`` was received is shown only on a suggestion (to the office it was made
    to) and once the link is confirmed: a proposal never tells whether, or where, the other
    record exists."""

    id: UUID
    status: LinkStatus
    victim_id: UUID
    ward_code: str | None
    province_code: str | None
    other_victim_id: UUID
    other_ward_code: str | None
    other_province_code: str | None
    matched_on: list[str] = Field(description="id_number, name_dob: how a suggestion matched")
    created_at: datetime
    proposed_at: datetime | None
    decided_at: datetime | None
    version: int
