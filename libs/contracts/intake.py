"""Events of the intake service (topics ``intake.tip.v1``, ``intake.missing_person.v1``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class TipReceived(BaseModel):
    """A tip was filed. Carries no reporter identity and no free text."""

    model_config = ConfigDict(extra="forbid")

    tip_id: UUID
    channel: str
    status: str
    incident_ward_code: str | None = None
    exploitation_types: list[str] = []
    received_at: datetime
    resolution_due_at: datetime


PAYLOADS: dict[str, type[BaseModel]] = {
    "intake.tip.received": TipReceived,
}
