"""Events of the victim_support service (topic ``victim_support.victim.v1``).

Figures and statuses only: no names, contacts or ID numbers leave victim_support.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from libs.contracts.deadlines import deadline_payloads


class VictimStatusChanged(BaseModel):
    """A step of the person's lifecycle, or an action on their record that keeps the status
    (``support_corrected``: an NGO corrected a delivery; ``details`` holds the program, the
    delivery's ``external_id`` and the fields ``before`` and ``after``: figures, no persons)."""

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


class VictimLinkChanged(BaseModel):
    """Two reception records that may be one person, kept by two jurisdictions.

    ``possible_duplicate`` tells the office owning ``victim_id`` that a reception elsewhere
    (``other_victim_id``, received in ``other_*``) matched its person by ID number or name and
    date of birth; neither record was changed. ``link_proposed``, ``link_confirmed`` and
    ``link_rejected`` follow the explicit linking of the two (``POST /v1/victims/{id}/links``,
    ``POST /v1/victim-links/{id}/decision``); ``victim_id`` is then the proposing side's record.
    Ids and administrative codes only, never personal data. The subject is ``victim_id``; an
    ``other_*`` code is null when that record is unknown here.
    """

    model_config = ConfigDict(extra="forbid")

    link_id: UUID
    status: str
    victim_id: UUID
    ward_code: str | None = None
    province_code: str
    other_victim_id: UUID
    other_ward_code: str | None = None
    other_province_code: str | None = None
    matched_on: list[str] = []
    at: datetime


PAYLOADS: dict[str, type[BaseModel]] = {
    **deadline_payloads("victim_support"),
    **{
        f"victim_support.victim.{name}": VictimStatusChanged
        for name in (
            "received",
            "identified",
            "not_identified",
            "protected",
            "supported",
            "reintegrated",
            "closed",
            "support_corrected",
        )
    },
    **{
        f"victim_support.victim.{name}": VictimLinkChanged
        for name in ("possible_duplicate", "link_proposed", "link_confirmed", "link_rejected")
    },
}
