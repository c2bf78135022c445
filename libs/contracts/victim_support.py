"""Events of the victim_support service (topic ``victim_support.victim.v1``).

Figures and statuses only: no names, contacts or ID numbers leave victim_support.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class VictimStatusChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")

    victim_id: UUID
    action: str
    status: str
    source: str
    ward_code: str | None = None
    province_code: str
    nationality: str
    is_minor: bool | None = None
    case_ids: list[UUID] = []
    at: datetime
    details: dict[str, Any] = {}


PAYLOADS: dict[str, type[BaseModel]] = {
    f"victim_support.victim.{name}": VictimStatusChanged
    for name in (
        "received",
        "identified",
        "not_identified",
        "protected",
        "supported",
        "reintegrated",
        "closed",
    )
}
