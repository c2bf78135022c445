"""Who owns an alert (issue 13, finding 3), and what a supervisor sees of it: pure rules."""

from __future__ import annotations

from typing import Any

import pytest

from services.interagency.domain import (
    AlertType,
    Owner,
    inbound_owner,
    redact_for_supervisor,
    sender_owner,
)

HANOI_WARD = "00256"  # a ward of Hà Nội (01)
DESK = "01"


def test_a_ward_code_owns_with_its_province() -> None:
    assert Owner.of_code(HANOI_WARD) == Owner(ward_code=HANOI_WARD, province_code="01")


def test_a_province_code_owns_without_a_ward() -> None:
    assert Owner.of_code("79") == Owner(ward_code=None, province_code="79")


@pytest.mark.parametrize("code", ["", "00", "99999", "1", "abc"])
def test_an_unknown_code_owns_nothing(code: str) -> None:
    assert Owner.of_code(code) is None


def test_the_sender_owns_by_the_first_valid_code_of_the_token() -> None:
    assert sender_owner(["79", HANOI_WARD]) == Owner(ward_code=None, province_code="79")
    assert sender_owner([HANOI_WARD, "79"]) == Owner(ward_code=HANOI_WARD, province_code="01")
    assert sender_owner(["00", "79"]) == Owner(ward_code=None, province_code="79")


def test_a_sender_without_a_valid_code_owns_nothing() -> None:
    assert sender_owner([]) is None
    assert sender_owner(["00"]) is None


def test_a_handover_belongs_to_the_receiving_province() -> None:
    data = {"receiving_province_code": "79", "hometown_ward_code": HANOI_WARD}
    assert inbound_owner(AlertType.victim_handover, data, DESK) == Owner(None, "79")


def test_a_person_found_belongs_to_the_hometown() -> None:
    data = {"hometown_ward_code": HANOI_WARD}
    assert inbound_owner(AlertType.person_found, data, "79") == Owner(HANOI_WARD, "01")


@pytest.mark.parametrize(
    ("alert_type", "data"),
    [
        (AlertType.person_found, {}),
        (AlertType.person_found, {"hometown_ward_code": "99999"}),
        (AlertType.victim_handover, {"receiving_province_code": "00"}),
        (AlertType.suspect_alert, {"full_name": "X"}),
        (AlertType.missing_person, {"hometown_ward_code": HANOI_WARD}),
    ],
)
def test_an_alert_without_a_usable_place_belongs_to_the_desk(
    alert_type: AlertType, data: dict[str, Any]
) -> None:
    assert inbound_owner(alert_type, data, "79") == Owner(None, "79")


def test_a_situation_bulletin_belongs_to_no_one() -> None:
    assert inbound_owner(AlertType.situation_bulletin, {"title": "T"}, DESK) is None


def test_supervisors_keep_names_and_figures_only() -> None:
    data = {
        "alert_type": "victim_handover",
        "full_name": "Lò Thị Synthetic",
        "sex": "female",
        "age": 16,
        "date_of_birth": "2010-01-01",
        "id_number": "001210000001",
        "phone": "+84912000444",
        "found_place": "Synthetic gate",
        "hometown_ward_code": HANOI_WARD,
        "needs": ["medical"],
        "contact_agency": "Synthetic post, tel. 0212 000 555",
        "handover_at": "2026-11-30T02:00:00Z",
        "receiving_province_code": "01",
        "some_future_field": "hidden until decided",
    }
    assert redact_for_supervisor(data) == {
        "alert_type": "victim_handover",
        "full_name": "Lò Thị Synthetic",
        "sex": "female",
        "age": 16,
        "handover_at": "2026-11-30T02:00:00Z",
        "receiving_province_code": "01",
    }
