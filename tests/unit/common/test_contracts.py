from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from libs.contracts import payload_model
from libs.contracts.intake import TipReceived

RECEIVED_AT = datetime(2025, 7, 1, 8, 30, tzinfo=UTC)


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "tip_id": "01980000-0000-7000-8000-000000000001",
        "channel": "hotline",
        "status": "received",
        "incident_ward_code": "00256",
        "exploitation_types": ["forced_labour"],
        "received_at": RECEIVED_AT.isoformat(),
        "resolution_due_at": (RECEIVED_AT + timedelta(days=30)).isoformat(),
    }
    payload.update(overrides)
    return payload


def test_tip_received_accepts_a_valid_payload() -> None:
    event = TipReceived.model_validate(_payload())
    assert event.tip_id == UUID("01980000-0000-7000-8000-000000000001")
    assert event.received_at == RECEIVED_AT


@pytest.mark.parametrize("extra", ["reporter_name", "description", "unexpected"])
def test_tip_received_forbids_extra_fields(extra: str) -> None:
    with pytest.raises(ValidationError):
        TipReceived.model_validate(_payload(**{extra: "x"}))


@pytest.mark.parametrize("missing", ["tip_id", "channel", "status", "received_at"])
def test_tip_received_requires_its_fields(missing: str) -> None:
    payload = _payload()
    del payload[missing]
    with pytest.raises(ValidationError):
        TipReceived.model_validate(payload)


def test_tip_received_json_round_trip() -> None:
    event = TipReceived.model_validate(_payload())
    assert TipReceived.model_validate_json(event.model_dump_json()) == event


def test_payload_model_names_the_model_of_a_short_type() -> None:
    assert payload_model("intake.tip.received") is TipReceived


def test_payload_model_of_an_unknown_type_is_none() -> None:
    assert payload_model("intake.tip.unknown") is None
