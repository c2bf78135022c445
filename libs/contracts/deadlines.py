"""Deadline signals and assignments (DESIGN §11): one payload for every service that watches a
legal clock, and one for a record given to an officer.

``<service>.deadline.approaching`` and ``<service>.deadline.missed`` travel on topic
``<service>.deadline.v1``, emitted by intake (a tip's resolution, and the last day to ask for an
extension), victim_support (the 3-day verification) and casework (each stage's deadline). The
payload names the record, the clock and where the record belongs, never a person: no name, no
phone, no description. ``notifications`` works out who must know from it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Jurisdiction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ward_code: str | None = None
    province_code: str | None = None


class DeadlineSignal(BaseModel):
    """``threshold_seconds``: how long before ``due_at`` an ``approaching`` signal was set to
    fire (432000 for 5 days); 0 for ``missed``. ``armed_at`` tells two clocks of one record
    apart: an extension re-arms the watch, and its signals carry the new moment."""

    model_config = ConfigDict(extra="forbid")

    record_type: str = Field(description="tip, victim or case")
    record_id: UUID
    deadline_kind: str = Field(description="which clock: resolution, extension_request, ...")
    due_at: datetime
    threshold_seconds: int = Field(ge=0)
    jurisdiction: Jurisdiction
    assignee: str | None = Field(None, description="the officer's `sub`, when assigned")
    armed_at: datetime
    signalled_at: datetime


class RecordAssigned(BaseModel):
    """A tip (``intake.tip.assigned``) or a case (``casework.case.assigned``) was given to an
    officer: ``assignee`` is their ``sub``; ``previous`` the one it was taken from, if any."""

    model_config = ConfigDict(extra="forbid")

    record_type: str
    record_id: UUID
    assignee: str
    previous: str | None = None
    assigned_by: str
    jurisdiction: Jurisdiction
    assigned_at: datetime


def deadline_payloads(service: str) -> dict[str, type[BaseModel]]:
    """The two deadline event types of one producing service."""
    return {
        f"{service}.deadline.approaching": DeadlineSignal,
        f"{service}.deadline.missed": DeadlineSignal,
    }
