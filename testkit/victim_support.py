"""Request bodies of victim_support's API, as its tests and its benchmark send them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any


def reception(
    ward: str, person: dict[str, Any], *, received_hours_ago: float = 2, **overrides: Any
) -> dict[str, Any]:
    """A person rescued and received in ``ward`` a little while ago."""
    body: dict[str, Any] = {
        "source": "rescued",
        "received_at": (datetime.now(UTC) - timedelta(hours=received_hours_ago)).isoformat(),
        "ward_code": ward,
        "person": person,
    }
    body.update(overrides)
    return body


def identification(
    document_ref: str, *, outcome: str = "identified", agency: str = "Công an tỉnh (synthetic)"
) -> dict[str, Any]:
    return {"outcome": outcome, "deciding_agency": agency, "document_ref": document_ref}


def share_with_ngo(org: str, *, granted: bool = True) -> dict[str, Any]:
    return {"scope": "share_with_ngo", "granted": granted, "org": org}


def delivery(
    external_id: str,
    victim_id: str | None,
    *,
    person_external_id: str | None = None,
    support_type: str = "essential_needs",
    amount_vnd: int = 0,
    delivered_on: date | None = None,
) -> dict[str, Any]:
    """One item of ``POST /v1/programs/{id}/deliveries:batch``: the person named by their id,
    or by the ``external_id`` the NGO gave them at enrollment (``person_external_id``)."""
    person = {"victim_id": victim_id} if victim_id is not None else {}
    if person_external_id is not None:
        person["person_external_id"] = person_external_id
    return {
        "external_id": external_id,
        **person,
        "type": support_type,
        "amount_vnd": amount_vnd,
        "delivered_on": (delivered_on or date.today()).isoformat(),
    }
