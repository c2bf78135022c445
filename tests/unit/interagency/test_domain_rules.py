"""interagency's rules and tables against the exchange contract (and the delivery rules), each
expected value written out here from the contract, never read from the module under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.common.errors import Conflict
from libs.common.statemachine import RuleViolation
from services.interagency.domain import (
    ALERT_EVENT_TYPE,
    ALLOWED_FIELDS,
    BROADCAST,
    MATCH,
    MATCHABLE,
    OUR_SOURCE,
    SUPERVISOR_FIELDS,
    AlertType,
    AttemptOutcome,
    BorderCountry,
    Decision,
    KeySet,
    MatchStatus,
    allow_listed,
    default_alert_types,
    outcome_of,
    partner_source,
)

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)

# The contract's "fields of data besides alert_type (allow-list)", word for word.
PERSON_FOUND = {
    "full_name", "sex", "date_of_birth", "age", "found_at", "found_place", "hometown_ward_code",
    "id_number", "phone", "nationality", "contact_agency",
}  # fmt: skip
CONTRACT = {
    "missing_person": {
        "missing_person_id", "full_name", "sex", "date_of_birth", "age", "last_seen_at",
        "last_seen_ward_code", "hometown_ward_code", "distinguishing_marks", "id_number",
        "contact_agency",
    },
    "person_found": PERSON_FOUND,
    "victim_handover": PERSON_FOUND | {"handover_at", "receiving_province_code", "needs"},
    "suspect_alert": {
        "full_name", "aliases", "date_of_birth", "age", "phones", "id_number", "routes",
        "case_reference", "contact_agency",
    },
    "situation_bulletin": {"title", "summary", "period", "documents"},
}  # fmt: skip


def test_the_alert_types_are_the_five_of_the_contract() -> None:
    assert {t.value for t in AlertType} == set(CONTRACT)


@pytest.mark.parametrize("alert_type", sorted(CONTRACT))
def test_each_alert_type_allows_exactly_the_fields_of_the_contract(alert_type: str) -> None:
    assert ALLOWED_FIELDS[AlertType(alert_type)] == CONTRACT[alert_type]


def test_allow_listing_keeps_allowed_non_empty_fields_and_names_the_type() -> None:
    data = {
        "full_name": "Lò Thị Synthetic",
        "reporter_name": "never leaves",
        "notes": "never leaves",
        "phone": None,
        "aliases": [],
        "id_number": "001210000001",
    }
    assert allow_listed(AlertType.person_found, data) == {
        "alert_type": "person_found",
        "full_name": "Lò Thị Synthetic",
        "id_number": "001210000001",
    }


def test_a_supervisor_sees_names_figures_times_and_codes_only() -> None:
    """Supervisors see figures and names, no personal data beyond names."""
    assert SUPERVISOR_FIELDS == {
        "alert_type", "missing_person_id", "full_name", "sex", "age", "nationality",
        "last_seen_at", "found_at", "handover_at", "receiving_province_code", "routes",
        "case_reference", "title", "summary", "period", "documents",
    }  # fmt: skip
    never = {
        "date_of_birth", "id_number", "phone", "phones", "found_place", "last_seen_ward_code",
        "hometown_ward_code", "distinguishing_marks", "needs", "contact_agency", "aliases",
    }  # fmt: skip
    assert not SUPERVISOR_FIELDS & never


def test_only_persons_in_a_partners_hands_are_matched_with_our_missing_persons() -> None:
    """An inbound person_found or victim_handover is matched."""
    assert {t.value for t in MATCHABLE} == {"person_found", "victim_handover"}


def test_missing_persons_suspects_and_bulletins_go_to_every_subscribed_partner() -> None:
    assert {t.value for t in BROADCAST} == {
        "missing_person",
        "suspect_alert",
        "situation_bulletin",
    }


def test_the_cloudevent_names_of_the_exchange() -> None:
    assert ALERT_EVENT_TYPE == "vn.ctip.interagency.alert.v1"
    assert OUR_SOURCE == "/ctip/interagency"
    assert partner_source("20") == "/partners/20"


def test_border_provinces_hear_of_missing_persons_by_default() -> None:
    assert {c.value for c in BorderCountry} == {"CN", "LA", "KH"}
    assert default_alert_types([BorderCountry("CN")]) == [AlertType.missing_person]
    assert default_alert_types(iter([BorderCountry("LA"), BorderCountry("KH")])) == [
        AlertType.missing_person
    ]
    assert default_alert_types([]) == []


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (300, "retry"),
        (199, "retry"),
        (410, "gone"),
        (404, "retry"),
        (429, "retry"),
        (500, "retry"),
        (None, "retry"),
    ],
)
def test_a_delivery_attempts_outcome_follows_the_status(status: int | None, outcome: str) -> None:
    """At-least-once, 410 disables the endpoint, the rest is retried."""
    assert outcome_of(status) is AttemptOutcome(outcome)


def test_a_rotated_secret_verifies_beside_the_new_one_until_the_overlap_ends() -> None:
    ring = KeySet("old").rotate("new", NOW, timedelta(hours=24))
    assert ring == KeySet("new", "old", NOW + timedelta(hours=24))
    assert ring.keys(NOW) == ["new", "old"]
    assert ring.keys(NOW + timedelta(hours=24) - timedelta(seconds=1)) == ["new", "old"]
    assert ring.keys(NOW + timedelta(hours=24)) == ["new"]
    assert KeySet("only").keys(NOW) == ["only"]
    assert KeySet("new", "old", None).keys(NOW) == ["new"]


def test_a_match_is_decided_once() -> None:
    for decision in Decision:
        assert MATCH.step(MatchStatus.candidate, decision).to.value == decision.value
    for decided in ("confirmed", "rejected"):
        with pytest.raises(RuleViolation) as caught:
            MATCH.step(MatchStatus(decided), Decision.confirmed)
        assert caught.value.allowed == []
        with pytest.raises(Conflict):
            MATCH.take(MatchStatus(decided), Decision.rejected)
