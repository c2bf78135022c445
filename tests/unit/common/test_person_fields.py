"""One person, as every service takes it in: one rule for ID documents, one for phones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from libs.common.schemas import PersonFields, id_document


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("001-200 000-001", "001200000001"),  # CCCD, 12 digits, with separators
        ("012345678", "012345678"),  # CMND, 9 digits
        ("c1234567", "C1234567"),  # passport: a letter and 7 digits, lower case
        ("EA1234567", "EA1234567"),  # two letters and 7 digits
        ("B123456", "B123456"),  # the shortest passport: 6 digits
        ("AB123456789", "AB123456789"),  # the longest: 9 digits
        ("11010519491231002x", "11010519491231002X"),  # Chinese resident ID, check digit X
        ("110105194912310021", "110105194912310021"),  # and all digits
    ],
)
def test_an_id_document_of_a_known_shape_is_kept_upper_case_without_separators(
    given: str, stored: str
) -> None:
    assert id_document(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "12345678",  # 8 digits
        "1234567890",  # 10
        "12345678901",  # 11
        "1234567890123",  # 13
        "C12345",  # a letter and 5 digits
        "ABC123456",  # three letters
        "A1234567890",  # a letter and 10 digits
        "1101051949123100X2",  # X not last
        "!!!!!!!",  # nothing left
    ],
)
def test_an_id_document_of_another_shape_is_refused(given: str) -> None:
    with pytest.raises(ValueError) as refused:
        id_document(given)
    assert str(refused.value) == (
        "expected a 12-digit CCCD, a 9-digit CMND, a passport number or an 18-character"
        " Chinese resident ID"
    )


def test_no_id_number_is_no_id_number() -> None:
    assert id_document(None) is None


def test_a_person_phone_is_kept_in_e164() -> None:
    assert PersonFields(phone="0912 345 678").phone == "+84912345678"


def test_a_phone_that_is_no_number_is_refused_saying_so() -> None:
    with pytest.raises(ValidationError) as refused:
        PersonFields.model_validate({"phone": "12"})
    (error,) = refused.value.errors()
    assert (error["loc"], error["msg"]) == (("phone",), "Value error, not a phone number")


def test_a_person_gives_a_date_of_birth_or_an_age_not_both() -> None:
    with pytest.raises(ValidationError, match="give date_of_birth or age, not both"):
        PersonFields.model_validate({"date_of_birth": "2010-01-01", "age": 16})


def test_a_date_of_birth_in_the_future_is_refused() -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    with pytest.raises(ValidationError, match="must not be in the future"):
        PersonFields.model_validate({"date_of_birth": tomorrow})


def test_a_hometown_ward_that_does_not_exist_is_refused_saying_so() -> None:
    with pytest.raises(ValidationError) as refused:
        PersonFields.model_validate({"hometown_ward_code": "99999"})
    assert [(e["loc"], e["msg"]) for e in refused.value.errors()] == [
        (
            ("hometown_ward_code",),
            "Value error, not a ward code of the current administrative units",
        )
    ]


@pytest.mark.parametrize("ward", ["0025", "abcde", "002560"])
def test_a_hometown_ward_that_is_no_ward_code_is_refused(ward: str) -> None:
    with pytest.raises(ValidationError) as refused:
        PersonFields.model_validate({"hometown_ward_code": ward})
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [
        (("hometown_ward_code",), "string_pattern_mismatch")
    ]


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        PersonFields.model_validate({"nickname": "Hoa"})
