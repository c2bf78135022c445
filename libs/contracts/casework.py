"""Events of the casework service (topics ``casework.case.v1``, ``casework.ring.v1``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from libs.contracts.deadlines import RecordAssigned, deadline_payloads


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseOpened(_Payload):
    case_id: UUID
    tip_id: UUID | None = None
    status: str
    ward_code: str
    province_code: str
    exploitation_types: list[str] = []
    opened_at: datetime


class CaseStatusChanged(_Payload):
    """Every transition (``casework.case.<action-past-tense>``) with its legal facts."""

    case_id: UUID
    tip_id: UUID | None = None
    action: str
    from_status: str
    to_status: str
    ward_code: str
    province_code: str
    at: datetime
    facts: dict[str, Any] = {}


class VictimLinked(_Payload):
    """What victim_support needs to receive the person (exactly once per case party)."""

    case_id: UUID
    party_id: UUID
    full_name: str | None = None
    date_of_birth: date | None = None
    age: int | None = None
    sex: str | None = None
    phone: str | None = None
    id_number: str | None = None
    hometown_ward_code: str | None = None
    nationality: str | None = None
    is_minor: bool | None = None
    ward_code: str
    province_code: str
    exploitation_types: list[str] = []
    linked_at: datetime


class RingUpdated(_Payload):
    ring_id: UUID
    case_ids: list[UUID]
    province_code: str
    updated_at: datetime


_TRANSITION_EVENTS = (
    "initiated",
    "declined",
    "suspended",
    "resumed",
    "indicted",
    "trial_scheduled",
    "adjudicated",
    "closed",
)

PAYLOADS: dict[str, type[BaseModel]] = {
    **deadline_payloads("casework"),
    "casework.case.opened": CaseOpened,
    "casework.case.assigned": RecordAssigned,
    **{f"casework.case.{name}": CaseStatusChanged for name in _TRANSITION_EVENTS},
    "casework.case.victim_linked": VictimLinked,
    "casework.ring.updated": RingUpdated,
}
