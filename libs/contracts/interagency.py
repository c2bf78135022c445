"""Events of the interagency service (topics ``interagency.alert.v1``, ``interagency.match.v1``).

No webhook secret, no reporter identity; person fields only where a consumer needs them.
"""

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


class AlertSent(_Payload):
    """An alert left for partners (queued for delivery to each); no personal data."""

    alert_id: UUID
    alert_type: str
    partner_codes: list[str]
    subject_id: UUID | None = None
    sent_at: datetime


class AlertReceived(_Payload):
    """A partner's signed alert was accepted. Person fields travel only for ``victim_handover``
    (victim_support receives the person, exactly once by ``alert_id``); other types carry ids
    and codes only."""

    alert_id: UUID
    partner_code: str
    alert_type: str
    received_at: datetime
    full_name: str | None = None
    sex: str | None = None
    date_of_birth: date | None = None
    age: int | None = None
    found_at: datetime | None = None
    found_place: str | None = None
    hometown_ward_code: str | None = None
    id_number: str | None = None
    phone: str | None = None
    nationality: str | None = None
    contact_agency: str | None = None
    handover_at: datetime | None = None
    receiving_province_code: str | None = None
    needs: list[str] = []


class MatchDecided(_Payload):
    match_id: UUID
    missing_person_id: UUID
    alert_id: UUID
    decision: str
    decided_at: datetime


PAYLOADS: dict[str, type[BaseModel]] = {
    "interagency.alert.sent": AlertSent,
    "interagency.alert.received": AlertReceived,
    "interagency.match.found": MatchFound,
    "interagency.match.decided": MatchDecided,
}
