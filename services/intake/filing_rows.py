"""The rows a filing writes, as the use case builds them and the repository writes them in one
statement each (the hot path of the public channels; bench/intake.py loads the same columns)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class NewTip:
    id: UUID
    channel: str
    status: str
    description: str
    incident_ward_code: str | None
    province_code: str | None
    occurred_on: date | None
    exploitation_types: list[str]
    destination_country: str | None
    anonymous: bool
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None
    filed_by: str | None
    extensions: list[str]
    received_at: datetime
    resolution_due_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class NewTipPerson:
    id: UUID
    tip_id: UUID
    position: int
    role: str
    full_name: str | None
    date_of_birth: str | None
    birth_year: int | None
    age: int | None
    sex: str | None
    phone: str | None
    id_number: str | None
    hometown_ward_code: str | None
    notes: str | None


@dataclass(frozen=True)
class NewPersonDigest:
    tip_id: UUID
    person_id: UUID
    kind: str
    digest: str


@dataclass(frozen=True)
class NewReceipt:
    code_hash: str
    subject_kind: str
    subject_id: UUID


@dataclass(frozen=True)
class Filing:
    tip: NewTip
    persons: list[NewTipPerson]
    digests: list[NewPersonDigest]
    receipt: NewReceipt
    watches: list[dict[str, Any]]  # its clocks' deadline watches (DeadlineWatch.new_row)


def columns(row: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(row))
