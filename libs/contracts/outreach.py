"""Events of the outreach service (topic ``outreach.activity.v1``)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class ActivityRecorded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activity_id: UUID
    campaign_id: UUID | None = None
    ward_code: str
    province_code: str
    kind: str
    held_on: date
    people_reached: int
    materials_distributed: int
    target_groups: list[str] = []


PAYLOADS: dict[str, type[BaseModel]] = {"outreach.activity.recorded": ActivityRecorded}
