"""Request and response models of the outreach API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict

from libs.common.figures import Figure
from libs.common.jurisdiction import is_valid_code
from libs.common.schemas import StrictModel, known_ward, not_future
from libs.common.validation import InvalidValue
from services.outreach.domain import ActivityKind, CommendationLevel


class CampaignCreate(StrictModel):
    name: str = Field(min_length=3, max_length=300)
    period_start: date
    period_end: date
    organiser: str = Field(min_length=2, max_length=300)
    funder: str | None = Field(None, max_length=300)
    target_groups: list[str] = Field(default_factory=list, max_length=20)
    jurisdiction_code: str = Field(description="the province or ward the campaign covers")

    @field_validator("jurisdiction_code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not is_valid_code(value):
            raise InvalidValue("jurisdiction.unknown", "not a province or ward code")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CampaignCreate:
        if self.period_end < self.period_start:
            raise InvalidValue("period.reversed", "period_end must not be before period_start")
        return self


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    period_start: date
    period_end: date
    organiser: str
    funder: str | None
    target_groups: list[str]
    jurisdiction_code: str
    created_at: datetime


class ActivityCreate(StrictModel):
    campaign_id: UUID | None = None
    ward_code: str = Field(pattern=r"^\d{5}$")
    kind: ActivityKind
    held_on: date
    people_reached: int = Field(ge=0, le=10_000_000)
    materials_distributed: int = Field(0, ge=0, le=10_000_000)
    target_groups: list[str] = Field(default_factory=list, max_length=20)
    evidence_ref: str | None = Field(None, max_length=500, description="photo, minutes, link")

    _w = field_validator("ward_code")(known_ward)
    _d = field_validator("held_on")(not_future)


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    campaign_id: UUID | None
    ward_code: str
    kind: str
    held_on: date
    people_reached: int
    materials_distributed: int
    target_groups: list[str]
    evidence_ref: str | None
    created_at: datetime


class PopulationIn(StrictModel):
    population: int = Field(ge=0, le=5_000_000)
    year: int = Field(ge=2000, le=2100)
    source: str = Field(min_length=3, max_length=300, description="e.g. ward statistics 2025")


class PopulationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ward_code: str
    year: int
    population: int
    source: str
    updated_at: datetime


class CommendationCreate(StrictModel):
    recipient_kind: Literal["person", "organisation"]
    recipient_name: str = Field(min_length=2, max_length=300)
    ward_code: str = Field(pattern=r"^\d{5}$")
    reason: str = Field(min_length=5, max_length=2000)
    awarded_on: date
    level: CommendationLevel

    _w = field_validator("ward_code")(known_ward)
    _d = field_validator("awarded_on")(not_future)


class CommendationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    recipient_kind: str
    recipient_name: str
    ward_code: str
    reason: str
    awarded_on: date
    level: str


class TargetGroupIn(StrictModel):
    name_vi: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)
    active: bool = True


class TargetGroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_vi: str
    name_en: str
    active: bool


class WardCoverage(TypedDict):  # a dictionary, as the figures per ward (libs/common/figures.py)
    ward_code: str
    ward_name: str | None
    reached: int
    population: int | None
    population_year: int | None
    coverage: Figure
    meets_target: bool | None


class Place(BaseModel):
    code: str
    name: str


class OutreachKpis(BaseModel):
    period_from: date | None
    period_to: date | None
    area: list[Place] = Field(
        description="where the figures are from, by name: the ward asked for, or else the "
        "caller's jurisdiction (empty: the whole country)"
    )
    target: float
    coverage_ratio: Figure
    wards: list[WardCoverage]
    wards_below_target: list[str]
    wards_without_population: list[str]
    activities: int
    materials_distributed: int
    by_target_group: dict[str, int]
    commendations: int


class PlanReport(BaseModel):
    period: str
    jurisdiction: str
    generated_at: datetime
    figures: dict[str, Any]
    missing: list[dict[str, str]]
