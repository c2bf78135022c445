"""Events of the intake service (topics ``intake.tip.v1``, ``intake.missing_person.v1``).

Payloads carry ids, codes and statuses; personal data only where a consumer needs it:
persons of a substantiated tip (casework opens the case with its parties) and the allow-listed
fields of a missing person (interagency alerts partner provinces and matches what they find).
Never the reporter's identity, never officers' notes.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from libs.contracts.deadlines import RecordAssigned, deadline_payloads


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TipReceived(_Payload):
    """A tip was filed. Carries no reporter identity and no free text."""

    tip_id: UUID
    channel: str
    status: str
    incident_ward_code: str | None = None
    province_code: str | None = None
    exploitation_types: list[str] = []
    received_at: datetime
    resolution_due_at: datetime


class TipClassified(_Payload):
    tip_id: UUID
    status: str
    trafficking_related: str
    priority: str
    exploitation_types: list[str] = []
    incident_ward_code: str | None = None
    province_code: str | None = None
    classified_at: datetime


class TipPersonData(_Payload):
    role: str
    full_name: str | None = None
    date_of_birth: date | None = None
    age: int | None = None
    sex: str | None = None
    phone: str | None = None
    id_number: str | None = None
    hometown_ward_code: str | None = None


class TipVerified(_Payload):
    """Verification finished. ``substantiated`` opens a case in casework, with the persons."""

    tip_id: UUID
    status: str
    outcome: str
    duplicate_of: UUID | None = None
    incident_ward_code: str | None = None
    province_code: str | None = None
    exploitation_types: list[str] = []
    destination_country: str | None = None
    received_at: datetime
    verified_at: datetime
    verified_by: str
    persons: list[TipPersonData] = []


class TipClosed(_Payload):
    tip_id: UUID
    outcome: str
    closed_at: datetime


class TipDeadlineExtended(_Payload):
    tip_id: UUID
    kind: str
    resolution_due_at: datetime


class TipAttachmentAdded(_Payload):
    """A file joined a tip: its metadata, so that casework lists it with the evidence of the
    tip's case and fetches the bytes from intake's API when an investigator asks for them."""

    attachment_id: UUID
    tip_id: UUID
    filename: str
    media_type: str
    size: int
    sha256: str
    source: str
    uploaded_at: datetime
    incident_ward_code: str | None = None
    province_code: str | None = None


class MissingPersonReported(_Payload):
    """What interagency needs to match partners' found persons against our open reports. Not an
    alert: partners hear of a report only once it is published (``MissingPersonPublished``)."""

    missing_person_id: UUID
    full_name: str
    sex: str
    date_of_birth: date | None = None
    age: int | None = None
    last_seen_at: datetime
    last_seen_ward_code: str
    province_code: str
    hometown_ward_code: str | None = None
    distinguishing_marks: str | None = None
    id_number: str | None = None
    phone: str | None = None
    reported_at: datetime


class MissingPersonPublished(_Payload):
    """An officer published the report (or filed it with ``publish: true``): interagency alerts
    the partners subscribed to missing persons, with the missing-person allow-list only."""

    missing_person_id: UUID
    full_name: str
    sex: str
    date_of_birth: date | None = None
    age: int | None = None
    last_seen_at: datetime
    last_seen_ward_code: str
    province_code: str
    hometown_ward_code: str | None = None
    distinguishing_marks: str | None = None
    id_number: str | None = None
    published_at: datetime


class MissingPersonHeld(_Payload):
    """An officer held the report back from partners. The reason stays in intake (officers'
    words never travel in events)."""

    missing_person_id: UUID
    held_at: datetime


class MissingPersonResolved(_Payload):
    missing_person_id: UUID
    outcome: str
    resolved_at: datetime


PAYLOADS: dict[str, type[BaseModel]] = {
    **deadline_payloads("intake"),
    "intake.tip.received": TipReceived,
    "intake.tip.classified": TipClassified,
    "intake.tip.verified": TipVerified,
    "intake.tip.closed": TipClosed,
    "intake.tip.assigned": RecordAssigned,
    "intake.tip.deadline_extended": TipDeadlineExtended,
    "intake.tip.attachment_added": TipAttachmentAdded,
    "intake.missing_person.reported": MissingPersonReported,
    "intake.missing_person.published": MissingPersonPublished,
    "intake.missing_person.held": MissingPersonHeld,
    "intake.missing_person.resolved": MissingPersonResolved,
}
