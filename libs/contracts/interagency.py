"""Events of the interagency service (topics ``interagency.alert.v1``, ``interagency.match.v1``)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FoundPerson(_Payload):
    """The partner's found person, as far as the allow-list of the alert lets it through."""

    full_name: str | None = None
    sex: str | None = None
    date_of_birth: date | None = None
    age: int | None = None
    found_at: datetime | None = None
    found_place: str | None = None
    hometown_ward_code: str | None = None
    nationality: str | None = None


class MatchReason(_Payload):
    field: str
    detail: str
    weight: float


class MatchFound(_Payload):
    """A scored, explained candidate between a local missing person and a partner's alert."""

    match_id: UUID
    missing_person_id: UUID
    alert_id: UUID
    partner_code: str
    score: float
    reasons: list[MatchReason]
    found: FoundPerson
    found_at: datetime


PAYLOADS: dict[str, type[BaseModel]] = {
    "interagency.match.found": MatchFound,
}
