from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.jurisdiction import is_ward_code
from services.intake.domain import Channel, ExploitationType, TipStatus


class TipCreate(BaseModel):
    """A tip as filed by anyone. (Persons and reporter contact arrive with the intake issue.)"""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    description: str = Field(min_length=10, max_length=20000)
    incident_ward_code: str | None = Field(None, pattern=r"^\d{5}$")
    occurred_on: date | None = None
    exploitation_types: list[ExploitationType] = Field(default_factory=list, max_length=9)

    @field_validator("incident_ward_code")
    @classmethod
    def _known_ward(cls, value: str | None) -> str | None:
        if value is not None and not is_ward_code(value):
            raise ValueError("not a ward code of the current administrative units")
        return value

    @field_validator("occurred_on")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError("must not be in the future")
        return value


class TipCreated(BaseModel):
    id: UUID
    receipt_code: str = Field(description="16 digits, shown once; keep it to follow up")
    status: TipStatus
    received_at: datetime
    resolution_due_at: datetime
