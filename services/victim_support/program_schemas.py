"""Request and response models of the NGO programs: programs, enrollments, deliveries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from libs.common.schemas import StrictModel, not_future
from libs.common.validation import InvalidValue
from services.victim_support.domain import SupportType
from services.victim_support.schemas import Org, Vnd


class Period(StrictModel):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise InvalidValue("period.reversed", "end must not be before start")
        return self


class ProgramCreate(StrictModel):
    name: str = Field(min_length=3, max_length=300)
    org: Org
    funder: str | None = Field(None, max_length=300)
    support_types: list[SupportType] = Field(min_length=1, max_length=11)
    period: Period


class EnrollmentOut(BaseModel):
    id: UUID
    victim_ref: str = Field(description="pseudonymous reference, stable for this organisation")
    external_id: str
    enrolled_at: datetime
    consent_active: bool
    person: dict[str, Any] | None = Field(description="only while consent to share is in force")


class ProgramSummary(BaseModel):
    """A program as listed: what it is, without its enrollments."""

    id: UUID
    name: str
    org: str
    funder: str | None
    support_types: list[str]
    period: Period
    created_at: datetime


class ProgramRead(ProgramSummary):
    enrollments: list[EnrollmentOut]


class EnrollmentIn(StrictModel):
    victim_id: UUID = Field(
        description="the id the social worker who recorded the consent gave you"
    )
    external_id: str = Field(
        min_length=1,
        max_length=100,
        description="your own id for the person; deliveries may name the person by it "
        "(person_external_id)",
    )


PersonExternalId = Annotated[str, Field(min_length=1, max_length=100)]


DeliveryType = Annotated[SupportType, Field(description="a support type of the program")]
DeliveredOn = Annotated[date, Field(description="within the program's period, not in the future")]


class DeliveryItem(StrictModel):
    """One delivery of a batch. The person is named by exactly one of ``victim_id`` and
    ``person_external_id`` (the ``external_id`` you gave them at enrollment)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["victim_id"]}, {"required": ["person_external_id"]}]
        }
    )

    external_id: str = Field(
        min_length=1, max_length=100, description="your id for this delivery, unique in the program"
    )
    victim_id: Annotated[
        UUID | None,
        WithJsonSchema({"type": "string", "format": "uuid", "description": "the person's id"}),
    ] = None
    person_external_id: Annotated[
        PersonExternalId | None,
        WithJsonSchema(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "description": "the external_id you gave the person at enrollment",
            }
        ),
    ] = None
    type: DeliveryType
    amount_vnd: Vnd = 0
    delivered_on: DeliveredOn

    _d = field_validator("delivered_on")(not_future)

    @model_validator(mode="after")
    def _one_person(self) -> DeliveryItem:
        if (self.victim_id is None) == (self.person_external_id is None):
            raise InvalidValue(
                "person.one_reference",
                "name the person by exactly one of victim_id and person_external_id",
            )
        return self


RawDeliveryItem = Annotated[Any, PlainValidator(lambda v: v, json_schema_input_type=DeliveryItem)]


class DeliveryBatchIn(StrictModel):
    items: list[RawDeliveryItem] = Field(
        min_length=1,
        max_length=1000,
        description="each item is validated on its own: a bad one is rejected in its result and "
        "never blocks the others",
    )


class DeliveryCorrection(StrictModel):
    """What a delivery is corrected to, whole: its type, amount and date. The person stays."""

    type: DeliveryType
    amount_vnd: Vnd = 0
    delivered_on: DeliveredOn

    _d = field_validator("delivered_on")(not_future)


class DeliveryResult(BaseModel):
    index: int
    external_id: str | None
    status: Literal["created", "duplicate", "conflict", "rejected"] = Field(
        description="conflict: this external_id was recorded with other content; errors name "
        "each field that differs, and support_id and version say what to correct (PUT)"
    )
    support_id: UUID | None = None
    version: int | None = Field(None, description="the stored delivery's, for If-Match")
    errors: list[dict[str, str]] = []


class DeliveryBatchOut(BaseModel):
    created: int
    duplicate: int
    conflict: int
    rejected: int
    results: list[DeliveryResult]


class DeliveryOut(BaseModel):
    """A delivery as recorded: the person under your references, never by name."""

    support_id: UUID
    program_id: UUID
    external_id: str
    victim_ref: str
    person_external_id: str | None
    type: str
    amount_vnd: int
    delivered_on: date
    version: int
