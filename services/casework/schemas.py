"""Request and response models of the casework API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
from libs.contracts.taxonomy import ExploitationType
from services.casework.domain import CaseStatus, PartyRole, TrialType, VerdictOutcome

DocNumber = Annotated[str, Field(min_length=1, max_length=100, description="decision number")]


class CaseCreate(StrictModel):
    title: str = Field(min_length=3, max_length=300)
    ward_code: str = Field(pattern=r"^\d{5}$")
    summary: str | None = Field(None, max_length=20000)
    tip_id: UUID | None = None
    exploitation_types: list[ExploitationType] = Field(default_factory=list, max_length=9)

    _w = field_validator("ward_code")(known_ward)


class PartyIn(PersonFields):
    role: PartyRole
    nationality: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    notes: str | None = Field(None, max_length=5000)

    @model_validator(mode="after")
    def _identifiable(self) -> PartyIn:
        if not any((self.full_name, self.phone, self.id_number)):
            raise InvalidValue(
                "party.unidentifiable", "a party needs at least a name, a phone or an ID number"
            )
        return self


class Initiate(StrictModel):
    action: Literal["initiate"]
    decision_number: DocNumber
    decided_on: date
    penal_code_article: Literal[150, 151]

    _d = field_validator("decided_on")(not_future)


class Decline(StrictModel):
    action: Literal["decline"]
    legal_ground: str = Field(min_length=3, max_length=1000)
    decision_number: DocNumber | None = None
    decided_on: date | None = None


class Suspend(StrictModel):
    action: Literal["suspend"]
    decision_number: DocNumber
    reason: str = Field(min_length=3, max_length=1000)


class Resume(StrictModel):
    action: Literal["resume"]
    decision_number: DocNumber
    reason: str | None = Field(None, max_length=1000)


class Defendant(StrictModel):
    party_id: UUID
    charge_article: Literal[150, 151]
    charge_clause: int | None = Field(None, ge=1, le=5)


class Indict(StrictModel):
    action: Literal["indict"]
    indictment_number: DocNumber
    indicted_on: date
    defendants: list[Defendant] = Field(min_length=1, max_length=200)

    _d = field_validator("indicted_on")(not_future)


class ScheduleTrial(StrictModel):
    action: Literal["schedule_trial"]
    trial_type: TrialType
    scheduled_for: datetime
    venue: str = Field(min_length=3, max_length=300)

    @field_validator("scheduled_for")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return utc_moment(value)


class Sentence(StrictModel):
    party_id: UUID
    article: Literal[150, 151]
    clause: int | None = Field(None, ge=1, le=5)
    imprisonment_months: int | None = Field(None, ge=0, le=600)
    life_imprisonment: bool = False
    fine_vnd: int | None = Field(None, ge=0)


class RecordVerdict(StrictModel):
    action: Literal["record_verdict"]
    outcome: VerdictOutcome
    verdict_number: DocNumber
    decided_on: date
    sentences: list[Sentence] = Field(default_factory=list, max_length=200)

    _d = field_validator("decided_on")(not_future)


class ReopenInvestigation(StrictModel):
    action: Literal["reopen_investigation"]
    decision_number: DocNumber | None = None


class Close(StrictModel):
    action: Literal["close"]
    reason: str | None = Field(None, max_length=1000)


TransitionIn = Annotated[
    Initiate
    | Decline
    | Suspend
    | Resume
    | Indict
    | ScheduleTrial
    | RecordVerdict
    | ReopenInvestigation
    | Close,
    Field(discriminator="action"),
]


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    at: datetime
    by: str
    details: dict[str, Any]


class PartyOut(PersonRead):
    id: UUID
    role: str
    nationality: str | None = None
    notes: str | None = None


class CaseSummary(BaseModel):
    id: UUID
    title: str
    status: CaseStatus
    tip_id: UUID | None
    ward_code: str
    opened_at: datetime
    stage_due_at: datetime | None
    overdue: bool
    penal_code_article: int | None
    trial_type: str | None
    assignee: str | None = Field(None, description="the investigator's `sub`, when assigned")
    version: int


class CaseRead(CaseSummary):
    summary: str | None
    exploitation_types: list[str]
    allowed_actions: list[str]
    facts: dict[str, Any]
    persons: list[PartyOut]
    timeline: list[TimelineEntry]


class RelatedCase(BaseModel):
    case_id: UUID
    title: str
    status: CaseStatus
    ward_code: str
    shared: list[str] = Field(description="suspect_name_birth_year, phone, id_number")


class RingCreate(StrictModel):
    name: str = Field(min_length=3, max_length=200)
    description: str | None = Field(None, max_length=5000)
    case_ids: list[UUID] = Field(default_factory=list, max_length=500)


class RingCasesIn(StrictModel):
    case_ids: list[UUID] = Field(min_length=1, max_length=500)


class RingRead(BaseModel):
    id: UUID
    name: str
    description: str | None
    province_code: str
    created_at: datetime
    cases: list[CaseSummary]
    version: int


class GraphNode(BaseModel):
    id: str
    kind: str = Field(description="case, person, phone or place")
    label: str
    attributes: dict[str, Any] = {}


class GraphEdge(BaseModel):
    source: str
    target: str
    kind: str


class RingGraph(BaseModel):
    ring_id: UUID
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class CaseworkKpis(BaseModel):
    period_from: date | None
    period_to: date | None
    ward_code: str | None
    cases_opened: int
    initiated_ratio: Figure
    indicted_ratio: Figure
    tried_ratio: Figure
    trials: dict[str, int]
    overdue: int
    hotspots: dict[str, Any]
    deadlines: DeadlineFigures


class EvidenceOut(BaseModel):
    """An evidence file as its uploader gets it back: the SHA-256 lets a court copy be checked."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    filename: str
    media_type: str
    size: int
    sha256: str


class EvidenceListed(EvidenceOut):
    """A file on a case's list: the case's own evidence (``origin: case``), or a file of the tip
    that opened the case (``origin: tip``, kept by intake; ``source`` says whether the reporter
    or an officer added it). Uploader, time and SHA-256 are the chain of custody."""

    origin: Literal["case", "tip"]
    source: Literal["officer", "public"]
    tip_id: UUID | None = None
    uploaded_by: str | None = None
    uploaded_at: datetime
