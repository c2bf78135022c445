"""What may leave the platform, field by field, and what may come in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from pydantic import TypeAdapter, ValidationError

from services.interagency.alert_data import DATA_MODELS, AlertData, InboundEvent
from services.interagency.delivery import alert_envelope
from services.interagency.domain import ALLOWED_FIELDS, AlertType, allow_listed
from services.interagency.models import Alert

ADAPTER: TypeAdapter[Any] = TypeAdapter(AlertData)

VALID: dict[AlertType, dict[str, Any]] = {
    AlertType.missing_person: {
        "alert_type": "missing_person",
        "missing_person_id": str(uuid4()),
        "full_name": "Lò Thị Mai",
        "sex": "female",
        "age": 17,
        "last_seen_at": "2026-10-01T08:00:00+07:00",
        "last_seen_ward_code": "00256",
    },
    AlertType.person_found: {
        "alert_type": "person_found",
        "full_name": "Lo Thi Mai",
        "sex": "female",
        "age": 17,
        "phone": "0912 345 678",
        "found_at": "2026-11-01T08:00:00+07:00",
    },
    AlertType.victim_handover: {
        "alert_type": "victim_handover",
        "full_name": "Lo Thi Mai",
        "handover_at": "2026-11-02T09:00:00+07:00",
        "receiving_province_code": "01",
        "needs": ["medical", "psychological"],
    },
    AlertType.suspect_alert: {
        "alert_type": "suspect_alert",
        "full_name": "Synthetic Suspect",
        "aliases": ["Anh Ba"],
        "phones": ["+84 912 000 111"],
        "routes": ["Móng Cái border gate"],
    },
    AlertType.situation_bulletin: {
        "alert_type": "situation_bulletin",
        "title": "Q3 situation",
        "summary": "Routes via Lào Cai; brokers recruit on social media.",
        "period": "2026-Q3",
        "documents": [{"title": "Decree", "url": "https://example.org/d.pdf", "sha256": "a" * 64}],
    },
}


@pytest.mark.parametrize("alert_type", list(AlertType))
def test_each_data_model_holds_exactly_its_allow_list(alert_type: AlertType) -> None:
    fields = set(DATA_MODELS[alert_type].model_fields) - {"alert_type"}
    assert fields == set(ALLOWED_FIELDS[alert_type])


@pytest.mark.parametrize("alert_type", list(AlertType))
def test_a_valid_alert_of_each_type_is_accepted(alert_type: AlertType) -> None:
    parsed = ADAPTER.validate_python(VALID[alert_type])
    assert parsed.alert_type == alert_type.value


@pytest.mark.parametrize("extra", ["reporter_name", "notes", "circumstances", "phone_of_reporter"])
@pytest.mark.parametrize("alert_type", list(AlertType))
def test_an_unknown_field_is_refused(alert_type: AlertType, extra: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_python({**VALID[alert_type], extra: "x"})
    assert any(e["type"] == "extra_forbidden" for e in caught.value.errors())


def test_a_phone_is_not_a_missing_person_field() -> None:
    """The missing person's own phone is matched on, but not broadcast to partners."""
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({**VALID[AlertType.missing_person], "phone": "0912345678"})


def test_allow_listed_drops_everything_else_and_empty_values() -> None:
    data = {
        "missing_person_id": "x",
        "full_name": "A",
        "reporter_name": "never",
        "circumstances": "never",
        "phone": "never",
        "hometown_ward_code": None,
    }
    out = allow_listed(AlertType.missing_person, data)
    assert out == {"alert_type": "missing_person", "missing_person_id": "x", "full_name": "A"}


def test_an_unknown_alert_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({"alert_type": "gossip", "full_name": "A"})


def test_a_person_found_with_nothing_to_match_on_is_refused() -> None:
    """No name, ID number or phone: nothing could ever be compared with a missing person."""
    bare = {"alert_type": "person_found", "sex": "female", "age": 17, "found_place": "Gate"}
    for data in ({"alert_type": "person_found"}, bare):
        with pytest.raises(ValidationError) as caught:
            ADAPTER.validate_python(data)
        (error,) = caught.value.errors()
        assert error["msg"] == "Value error, give at least one of full_name, id_number or phone"


@pytest.mark.parametrize(
    "only", [{"full_name": "Lo Thi Mai"}, {"id_number": "001209000123"}, {"phone": "0912345678"}]
)
def test_a_person_found_with_one_thing_to_match_on_is_accepted(only: dict[str, str]) -> None:
    parsed = ADAPTER.validate_python({"alert_type": "person_found", **only})
    assert parsed.fields_set().keys() == {"alert_type", *only}


def test_a_handover_needs_no_name_id_or_phone() -> None:
    """The person arrives whoever they are: the receiving province still has to receive them."""
    handover = {k: v for k, v in VALID[AlertType.victim_handover].items() if k != "full_name"}
    assert ADAPTER.validate_python(handover).full_name is None


def test_date_of_birth_and_age_together_are_refused() -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({**VALID[AlertType.person_found], "date_of_birth": "2009-01-01"})


def test_phones_and_id_numbers_are_normalised_on_the_way_in() -> None:
    parsed = ADAPTER.validate_python(
        {**VALID[AlertType.person_found], "id_number": "001-209-000-123"}
    )
    assert parsed.phone == "+84912345678"
    assert parsed.id_number == "001209000123"


def test_handover_needs_are_support_types_by_law() -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({**VALID[AlertType.victim_handover], "needs": ["cash"]})


def test_the_envelope_allows_cloudevent_extensions_but_not_other_types() -> None:
    event = {
        "specversion": "1.0",
        "id": "e1",
        "source": "/partners/10",
        "type": "vn.ctip.interagency.alert.v1",
        "traceparent": "00-abc-def-01",
        "data": VALID[AlertType.person_found],
    }
    assert InboundEvent.model_validate(event).source == "/partners/10"
    with pytest.raises(ValidationError):
        InboundEvent.model_validate({**event, "type": "vn.ctip.other.v1"})


def test_the_outbound_envelope_is_a_cloudevent_and_the_same_bytes_every_time() -> None:
    alert = Alert(
        id=uuid4(),
        direction="out",
        alert_type="missing_person",
        data=json.dumps({"alert_type": "missing_person", "full_name": "Lò Thị Mai"}),
        created_by="system",
        created_at=datetime(2026, 11, 1, 1, 2, 3, tzinfo=UTC),
    )
    body = alert_envelope(alert)
    assert body == alert_envelope(alert)
    event = json.loads(body)
    assert event["specversion"] == "1.0"
    assert event["id"] == str(alert.id)
    assert event["source"] == "/ctip/interagency"
    assert event["type"] == "vn.ctip.interagency.alert.v1"
    assert event["time"] == "2026-11-01T01:02:03Z"
    assert event["data"]["full_name"] == "Lò Thị Mai"
