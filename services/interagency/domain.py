"""Interagency rules: alert types and their allow-lists, who owns an alert, delivery outcomes and
the retry schedule, secret rotation, the match lifecycle. Pure data and functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from libs.common.jurisdiction import province_of
from libs.common.statemachine import StateMachine, Transition

ALERT_EVENT_TYPE = "vn.ctip.interagency.alert.v1"
OUR_SOURCE = "/ctip/interagency"


def partner_source(code: str) -> str:
    """The CloudEvents ``source`` a partner province signs its alerts with."""
    return f"/partners/{code}"


class AlertType(StrEnum):
    missing_person = "missing_person"
    person_found = "person_found"
    victim_handover = "victim_handover"
    suspect_alert = "suspect_alert"
    situation_bulletin = "situation_bulletin"


class Direction(StrEnum):
    inbound = "in"
    outbound = "out"


class BorderCountry(StrEnum):
    """Land borders of Viet Nam: China, Laos, Cambodia."""

    CN = "CN"
    LA = "LA"
    KH = "KH"


class PartnerStatus(StrEnum):
    enabled = "enabled"
    disabled = "disabled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class MatchStatus(StrEnum):
    candidate = "candidate"
    confirmed = "confirmed"
    rejected = "rejected"


class Decision(StrEnum):
    confirmed = "confirmed"
    rejected = "rejected"


class SecretDirection(StrEnum):
    outbound = "outbound"
    inbound = "inbound"
    both = "both"


_PERSON_FOUND = (
    "full_name",
    "sex",
    "date_of_birth",
    "age",
    "found_at",
    "found_place",
    "hometown_ward_code",
    "id_number",
    "phone",
    "nationality",
    "contact_agency",
)

ALLOWED_FIELDS: dict[AlertType, frozenset[str]] = {
    AlertType.missing_person: frozenset(
        (
            "missing_person_id",
            "full_name",
            "sex",
            "date_of_birth",
            "age",
            "last_seen_at",
            "last_seen_ward_code",
            "hometown_ward_code",
            "distinguishing_marks",
            "id_number",
            "contact_agency",
        )
    ),
    AlertType.person_found: frozenset(_PERSON_FOUND),
    AlertType.victim_handover: frozenset(
        (*_PERSON_FOUND, "handover_at", "receiving_province_code", "needs")
    ),
    AlertType.suspect_alert: frozenset(
        (
            "full_name",
            "aliases",
            "date_of_birth",
            "age",
            "phones",
            "id_number",
            "routes",
            "case_reference",
            "contact_agency",
        )
    ),
    AlertType.situation_bulletin: frozenset(("title", "summary", "period", "documents")),
}
"""What ``data`` may hold besides ``alert_type``: never a reporter or an officer's notes."""

SUPERVISOR_FIELDS = frozenset(
    (
        "alert_type",
        "missing_person_id",
        "full_name",
        "sex",
        "age",
        "nationality",
        "last_seen_at",
        "found_at",
        "handover_at",
        "receiving_province_code",
        "routes",
        "case_reference",
        "title",
        "summary",
        "period",
        "documents",
    )
)
"""What a supervisor sees of an alert's data (names, figures, times): an allow-list, so a new
field stays hidden from supervisors until someone decides otherwise."""

MATCHABLE = frozenset((AlertType.person_found, AlertType.victim_handover))
"""Inbound alerts about a person a partner has in hand, compared with our missing persons."""

BROADCAST = frozenset(
    (AlertType.missing_person, AlertType.suspect_alert, AlertType.situation_bulletin)
)
"""Types sent to every partner subscribed; the others go to named partners."""


def allow_listed(alert_type: AlertType, data: Mapping[str, Any]) -> dict[str, Any]:
    """The alert ``data`` as it may leave: allowed fields only, empty ones dropped."""
    allowed = ALLOWED_FIELDS[alert_type]
    kept = {k: v for k, v in data.items() if k in allowed and v is not None and v != []}
    return {"alert_type": alert_type.value, **kept}


def default_alert_types(border_countries: Iterable[BorderCountry]) -> list[AlertType]:
    """Border provinces hear about our missing persons unless they chose otherwise."""
    return [AlertType.missing_person] if list(border_countries) else []


def redact_for_supervisor(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in SUPERVISOR_FIELDS}


# Who owns an alert ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """The jurisdiction an alert belongs to: officers there read it, elsewhere it is 404. A
    ward-owned alert carries its province too, for the province's officers."""

    ward_code: str | None
    province_code: str

    @classmethod
    def of_code(cls, code: str) -> Owner | None:
        """The owner for a ward or province code; None for an unknown code."""
        province = province_of(code)
        if province is None:
            return None
        return cls(ward_code=None if code == province else code, province_code=province)


def sender_owner(jurisdiction: Sequence[str]) -> Owner | None:
    """Our outbound alert belongs to the sender's office: the first valid code of their token."""
    for code in jurisdiction:
        owner = Owner.of_code(code)
        if owner is not None:
            return owner
    return None


def inbound_owner(
    alert_type: AlertType, data: Mapping[str, Any], desk_province: str
) -> Owner | None:
    """A partner's alert belongs to the province receiving it: a handover's receiving province,
    a found person's hometown, else the interagency desk; bulletins belong to no one."""
    if alert_type is AlertType.situation_bulletin:
        return None
    if alert_type is AlertType.victim_handover:
        owner = Owner.of_code(str(data.get("receiving_province_code") or ""))
        if owner is not None:
            return owner
    if alert_type is AlertType.person_found:
        owner = Owner.of_code(str(data.get("hometown_ward_code") or ""))
        if owner is not None:
            return owner
    return Owner(ward_code=None, province_code=desk_province)


# Delivery: outcomes and the retry schedule ------------------------------------------------------


class AttemptOutcome(StrEnum):
    delivered = "delivered"
    retry = "retry"
    gone = "gone"


def outcome_of(status_code: int | None) -> AttemptOutcome:
    """2xx delivers; 410 Gone retires the endpoint; anything else is retried."""
    if status_code is not None and 200 <= status_code < 300:
        return AttemptOutcome.delivered
    if status_code == 410:
        return AttemptOutcome.gone
    return AttemptOutcome.retry


@dataclass(frozen=True)
class KeySet:
    """A partner's signing secret in one direction, with the previous one during the overlap."""

    current: str
    previous: str | None = None
    previous_valid_until: datetime | None = None

    def keys(self, now: datetime) -> list[str]:
        """Keys that sign (outbound) or verify (inbound) now: both during the overlap."""
        keys = [self.current]
        if (
            self.previous is not None
            and self.previous_valid_until is not None
            and now < self.previous_valid_until
        ):
            keys.append(self.previous)
        return keys

    def rotate(self, new_secret: str, now: datetime, overlap: timedelta) -> KeySet:
        return KeySet(current=new_secret, previous=self.current, previous_valid_until=now + overlap)


# Matches ------------------------------------------------------------------------------------------

MATCH = StateMachine[MatchStatus, Decision](
    "a match",
    {
        (MatchStatus.candidate, Decision.confirmed): Transition(
            MatchStatus.confirmed, event="interagency.match.decided"
        ),
        (MatchStatus.candidate, Decision.rejected): Transition(
            MatchStatus.rejected, event="interagency.match.decided"
        ),
    },
)
"""A decision is final: a change of mind is recorded on the missing-person report in intake."""
