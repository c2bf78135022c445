"""Interagency rules: alert types and their allow-lists, subscriptions, delivery outcomes and the
retry schedule, secret rotation, match decisions. Pure data and functions, no I/O.

Exchange with partner provinces (trao đổi thông tin với các tỉnh, thành phố, nhất là các tỉnh
biên giới với Trung Quốc, Lào, Campuchia) runs over signed webhooks both ways (DESIGN.md
section 4). What leaves the platform is decided here, field by field.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from libs.common.jurisdiction import province_of

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
"""DESIGN.md section 8: what ``data`` may hold besides ``alert_type``. Never the reporter's
identity, never free-text notes of officers: a partner's system is outside our audit trail."""

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
"""What a supervisor sees of an alert's data: names, figures, times and the exchange's own codes
(DESIGN.md section 2: figures and names only). An allow-list, so that a field added to an alert
type stays hidden from supervisors until someone decides otherwise: never dates of birth, ID
numbers, phones, places, distinguishing marks, hometowns, a victim's needs or contacts."""

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
    """The jurisdiction an alert belongs to: officers there read it, officers elsewhere get 404.

    A ward-owned alert carries its province too, so that the province's officers (whose
    jurisdiction covers its wards) see it as well; a province-owned one has no ward.
    """

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
    """Our outbound alert belongs to the sender's office: the first code of their token (the one
    a token with several codes names first). The sender always keeps reading what they sent;
    other offices, even of the same province's other wards, do not. None without a valid code."""
    for code in jurisdiction:
        owner = Owner.of_code(code)
        if owner is not None:
            return owner
    return None


def inbound_owner(
    alert_type: AlertType, data: Mapping[str, Any], desk_province: str
) -> Owner | None:
    """A partner's alert belongs to the province that receives it:

    * a ``victim_handover``: the ``receiving_province_code`` it names (the victim's home
      province, where victim_support receives them);
    * a ``person_found``: the province (and ward) of the person's hometown when the partner
      gives one, since the family reports a disappearance at home;
    * anything else with persons in it, or without a usable code: the interagency desk's province
      (settings), whose officers triage the exchange. Our missing person's officers see an alert
      that matched them besides (``subject_id``, see the repository's scope).

    Situation bulletins (no personal data) belong to no one: every reader sees them.
    """
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
    """2xx delivers; 410 Gone means the partner retired the endpoint; anything else (3xx, 4xx,
    5xx, timeouts, refused connections) is retried, since partners' outages are the common case."""
    if status_code is not None and 200 <= status_code < 300:
        return AttemptOutcome.delivered
    if status_code == 410:
        return AttemptOutcome.gone
    return AttemptOutcome.retry


THROTTLE_STATUSES = frozenset((429, 503))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt 1 is immediate; after failed attempt ``n`` the next waits ``schedule[n-1]``
    (± ``jitter``, so retries of many deliveries do not arrive at a partner in one burst). After
    ``len(schedule) + 1`` attempts the delivery is exhausted and kept as failed."""

    schedule: tuple[float, ...]
    jitter: float = 0.2
    max_retry_after: float = 36000.0

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def next_delay(
        self,
        attempts_made: int,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds until the next attempt, or None when the delivery is exhausted."""
        if attempts_made >= self.max_attempts:
            return None
        base = self.schedule[attempts_made - 1]
        factor = 1.0 + (rng or random).uniform(-self.jitter, self.jitter)
        delay = base * factor
        if status_code in THROTTLE_STATUSES and retry_after is not None:
            # The partner told us when it can take more; sooner would be refused again.
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay


# Secret rotation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    """A partner's secret in one direction, with the previous one during the overlap."""

    current: str
    previous: str | None = None
    previous_valid_until: datetime | None = None

    def keys(self, now: datetime) -> list[str]:
        """Keys that sign (outbound) or verify (inbound) now: both during the overlap, so
        neither side has to switch at the same second."""
        keys = [self.current]
        if (
            self.previous is not None
            and self.previous_valid_until is not None
            and now < self.previous_valid_until
        ):
            keys.append(self.previous)
        return keys

    def rotate(self, new_secret: str, now: datetime, overlap: timedelta) -> KeyRing:
        return KeyRing(
            current=new_secret, previous=self.current, previous_valid_until=now + overlap
        )


# Matches ------------------------------------------------------------------------------------------


class RuleViolation(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_decidable(status: MatchStatus) -> None:
    """A decision is final: an officer who changes their mind records it on the missing-person
    report in intake, where the outcome of the search lives."""
    if status is not MatchStatus.candidate:
        raise RuleViolation(f"this match was already {status.value}")
