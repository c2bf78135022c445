"""Validation of intake's request bodies: what is normalised, what is refused and where."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.intake.schemas import (
    MissingPersonCreate,
    PersonIn,
    ReporterIn,
    TipCreate,
    VerificationIn,
)

WARD = "00256"  # Phường Hai Bà Trưng, Hà Nội


def refusal(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[str, str]]:
    """Each error of a refusal as (field, message): what was refused, and why."""
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in refused.value.errors()]


NOT_A_PHONE = "Value error, not a phone number"
NOT_AN_ID = (
    "Value error, expected a 12-digit CCCD, a 9-digit CMND, a passport number or an 18-character"
    " Chinese resident ID"
)
NOT_A_WARD = "Value error, not a ward code of the current administrative units"
FIVE_DIGITS = "String should match pattern '^\\d{5}$'"
IN_THE_FUTURE = "Value error, must not be in the future"
SEXES = "Input should be 'female', 'male', 'other' or 'unknown'"


# Persons named in a tip --------------------------------------------------------------------------

PERSON = {"role": "victim", "full_name": "Lò Thị Mai"}


@pytest.mark.parametrize(
    ("extra", "date_of_birth", "age"),
    [
        ({}, None, None),
        ({"date_of_birth": "2008-03-14"}, date(2008, 3, 14), None),
        ({"age": 17}, None, 17),
    ],
    ids=["neither", "date-of-birth", "age"],
)
def test_a_person_may_give_a_date_of_birth_or_an_age_or_neither(
    extra: dict[str, Any], date_of_birth: date | None, age: int | None
) -> None:
    person = PersonIn.model_validate({**PERSON, **extra})
    assert (person.role, person.full_name) == ("victim", "Lò Thị Mai")
    assert (person.date_of_birth, person.age) == (date_of_birth, age)


def test_a_person_with_both_a_date_of_birth_and_an_age_is_refused() -> None:
    with pytest.raises(ValidationError, match="not both"):
        PersonIn.model_validate({**PERSON, "date_of_birth": "2008-03-14", "age": 17})


@pytest.mark.parametrize(
    "phone",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "+84912345678",
        "+84 912 345 678",
        "84912345678",
        "0084912345678",
        "(+84) 912-345-678",
        "+84 0912 345 678",
    ],
)
def test_a_vietnamese_phone_number_is_normalised_to_e164(phone: str) -> None:
    assert PersonIn.model_validate({**PERSON, "phone": phone}).phone == "+84912345678"


@pytest.mark.parametrize("phone", ["12", "abc", "+1234567890123456789"])
def test_an_absurd_phone_number_is_refused(phone: str) -> None:
    assert refusal(PersonIn, {**PERSON, "phone": phone}) == [("phone", NOT_A_PHONE)]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("001090001234", "001090001234"),
        ("001 090 001 234", "001090001234"),
        ("123456789", "123456789"),
        ("123-456-789", "123456789"),
        ("b1234567", "B1234567"),
        ("C 1234567", "C1234567"),
        ("AB123456789", "AB123456789"),
    ],
    ids=["cccd", "cccd-spaced", "cmnd", "cmnd-dashed", "passport", "passport-spaced", "2-letters"],
)
def test_an_id_number_is_a_cccd_a_cmnd_or_a_passport(given: str, stored: str) -> None:
    assert PersonIn.model_validate({**PERSON, "id_number": given}).id_number == stored


@pytest.mark.parametrize(
    "id_number", ["12345678", "1234567890", "12345678901", "1234567890123", "C12345", "ABC123456"]
)
def test_an_id_number_of_another_shape_is_refused(id_number: str) -> None:
    assert refusal(PersonIn, {**PERSON, "id_number": id_number}) == [("id_number", NOT_AN_ID)]


@pytest.mark.parametrize(
    ("ward", "message"),
    [
        ("99999", NOT_A_WARD),
        ("0025", FIVE_DIGITS),
        ("002560", FIVE_DIGITS),
        ("01", FIVE_DIGITS),
        ("abcde", FIVE_DIGITS),
    ],
)
def test_an_unknown_hometown_ward_is_refused(ward: str, message: str) -> None:
    assert refusal(PersonIn, {**PERSON, "hometown_ward_code": ward}) == [
        ("hometown_ward_code", message)
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"role": "bystander"}, "role", "Input should be 'victim', 'suspect' or 'witness'"),
        ({"full_name": "   "}, "full_name", "String should have at least 1 character"),
        ({"full_name": "x" * 201}, "full_name", "String should have at most 200 characters"),
        ({"age": -1}, "age", "Input should be greater than or equal to 0"),
        ({"age": 121}, "age", "Input should be less than or equal to 120"),
        ({"sex": "unspecified"}, "sex", SEXES),
        (
            {"date_of_birth": (date.today() + timedelta(days=2)).isoformat()},
            "date_of_birth",
            IN_THE_FUTURE,
        ),
        ({"notes": "x" * 2001}, "notes", "String should have at most 2000 characters"),
        ({"ethnicity": "Thái"}, "ethnicity", "Extra inputs are not permitted"),
    ],
)
def test_an_invalid_person_field_is_refused_by_name(
    change: dict[str, Any], field: str, message: str
) -> None:
    assert refusal(PersonIn, {**PERSON, **change}) == [(field, message)]


def test_the_reporter_phone_is_normalised_too() -> None:
    assert ReporterIn.model_validate({"phone": "0912 345 678"}).phone == "+84912345678"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@example.vn"])
def test_a_reporter_email_that_is_not_an_address_is_refused(email: str) -> None:
    assert refusal(ReporterIn, {"email": email}) == [("email", "Value error, not an email address")]


# Tips --------------------------------------------------------------------------------------------

TIP = {"channel": "hotline", "description": "Synthetic: a broker recruits girls for work."}


def test_a_tip_of_10_characters_is_accepted_as_written() -> None:
    tip = TipCreate.model_validate({**TIP, "description": "x" * 10})
    assert tip.description == "x" * 10
    assert (tip.channel, tip.persons, tip.exploitation_types) == ("hotline", [], [])
    assert (tip.reporter, tip.incident_ward_code, tip.occurred_on) == (None, None, None)


def test_a_tip_of_20000_characters_is_accepted_whole() -> None:
    tip = TipCreate.model_validate({**TIP, "description": "x" * 20000})
    assert tip.description == "x" * 20000


def test_a_tip_may_name_50_persons() -> None:
    tip = TipCreate.model_validate({**TIP, "persons": [PERSON] * 50})
    assert len(tip.persons) == 50
    assert {(p.role, p.full_name) for p in tip.persons} == {("victim", "Lò Thị Mai")}


def test_a_tip_may_list_9_exploitation_types() -> None:
    tip = TipCreate.model_validate({**TIP, "exploitation_types": ["forced_labour"] * 9})
    assert tip.exploitation_types == ["forced_labour"] * 9


def test_a_tip_keeps_its_ward_and_destination_country() -> None:
    tip = TipCreate.model_validate({**TIP, "incident_ward_code": WARD, "destination_country": "CN"})
    assert (tip.incident_ward_code, tip.destination_country) == (WARD, "CN")


EXPLOITATION_TYPES = (
    "Input should be 'sexual_exploitation', 'forced_labour', 'forced_marriage', 'organ_removal', "
    "'forced_begging', 'forced_criminality', 'illegal_adoption', 'surrogacy' or 'other'"
)
CHANNELS = "Input should be 'hotline', 'web', 'mobile', 'walk_in', 'police', 'partner' or 'other'"
COUNTRY = "String should match pattern '^[A-Z]{2}$'"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"description": "x" * 9}, "description", "String should have at least 10 characters"),
        (
            {"description": "x" * 20001},
            "description",
            "String should have at most 20000 characters",
        ),
        ({"description": " " * 12}, "description", "String should have at least 10 characters"),
        (
            {"persons": [PERSON] * 51},
            "persons",
            "List should have at most 50 items after validation, not 51",
        ),
        (
            {"exploitation_types": ["forced_labour"] * 10},
            "exploitation_types",
            "List should have at most 9 items after validation, not 10",
        ),
        ({"exploitation_types": ["baby_selling"]}, "exploitation_types.0", EXPLOITATION_TYPES),
        ({"destination_country": "cn"}, "destination_country", COUNTRY),
        ({"destination_country": "CHN"}, "destination_country", COUNTRY),
        ({"channel": "fax"}, "channel", CHANNELS),
        ({"incident_ward_code": "99999"}, "incident_ward_code", NOT_A_WARD),
        (
            {"occurred_on": (date.today() + timedelta(days=2)).isoformat()},
            "occurred_on",
            IN_THE_FUTURE,
        ),
        ({"persons": [{**PERSON, "phone": "12"}]}, "persons.0.phone", NOT_A_PHONE),
    ],
)
def test_a_tip_beyond_the_limits_is_refused_by_field(
    change: dict[str, Any], field: str, message: str
) -> None:
    assert refusal(TipCreate, {**TIP, **change}) == [(field, message)]


# Verification ------------------------------------------------------------------------------------


ORIGINAL = uuid.UUID("0193a3c4-0000-7000-8000-000000000001")


@pytest.mark.parametrize(
    ("data", "duplicate_of", "notes"),
    [
        ({"outcome": "substantiated"}, None, None),
        (
            {"outcome": "unsubstantiated", "notes": "no trace of the broker"},
            None,
            "no trace of the broker",
        ),
        ({"outcome": "referred"}, None, None),
        ({"outcome": "duplicate", "duplicate_of": str(ORIGINAL)}, ORIGINAL, None),
    ],
    ids=["substantiated", "unsubstantiated", "referred", "duplicate"],
)
def test_a_verification_names_the_original_only_for_a_duplicate(
    data: dict[str, Any], duplicate_of: uuid.UUID | None, notes: str | None
) -> None:
    verification = VerificationIn.model_validate(data)
    assert verification.outcome == data["outcome"]
    assert (verification.duplicate_of, verification.notes) == (duplicate_of, notes)


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "duplicate"},
        {"outcome": "substantiated", "duplicate_of": str(uuid.uuid4())},
        {"outcome": "referred", "duplicate_of": str(uuid.uuid4())},
    ],
)
def test_duplicate_of_is_required_for_and_only_for_a_duplicate(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="duplicate_of"):
        VerificationIn.model_validate(data)


# Missing persons ---------------------------------------------------------------------------------

MISSING = {
    "full_name": "Lò Thị Mai",
    "sex": "female",
    "age": 16,
    "last_seen_at": "2026-01-05T18:00:00+07:00",
    "last_seen_ward_code": WARD,
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"age": None, "date_of_birth": "2009-08-20"},
        {"last_seen_at": "2026-01-05T11:00:00Z"},
        {"hometown_ward_code": WARD, "phone": "0912 345 678", "id_number": "001209001234"},
    ],
    ids=["age", "date-of-birth", "utc", "contacts"],
)
def test_a_missing_person_report_is_accepted(change: dict[str, Any]) -> None:
    report = MissingPersonCreate.model_validate({**MISSING, **change})
    assert (report.full_name, report.sex, report.last_seen_ward_code) == (
        "Lò Thị Mai",
        "female",
        WARD,
    )
    assert report.last_seen_at == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    expected = {**MISSING, **change}
    assert report.age == expected["age"]
    assert report.date_of_birth == (date(2009, 8, 20) if "date_of_birth" in change else None)
    assert (report.hometown_ward_code, report.phone, report.id_number) == (
        (WARD, "+84912345678", "001209001234") if "phone" in change else (None, None, None)
    )


def test_a_missing_person_phone_is_normalised() -> None:
    report = MissingPersonCreate.model_validate({**MISSING, "phone": "0912 345 678"})
    assert report.phone == "+84912345678"


@pytest.mark.parametrize(
    "change",
    [{"age": None}, {"date_of_birth": "2009-08-20"}],
    ids=["neither", "both"],
)
def test_a_missing_person_needs_exactly_one_of_date_of_birth_or_age(
    change: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError, match="exactly one of date_of_birth or age"):
        MissingPersonCreate.model_validate({**MISSING, **change})


def test_a_last_seen_time_without_a_timezone_is_vietnam_s() -> None:
    read = MissingPersonCreate.model_validate({**MISSING, "last_seen_at": "2026-01-05T18:00:00"})
    assert read.last_seen_at == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def test_a_last_seen_time_in_the_future_is_refused() -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationError, match="must not be in the future"):
        MissingPersonCreate.model_validate({**MISSING, "last_seen_at": future})


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "String should have at least 1 character"),
        ({"sex": "f"}, "sex", SEXES),
        ({"last_seen_ward_code": "99999"}, "last_seen_ward_code", NOT_A_WARD),
        ({"hometown_ward_code": "123"}, "hometown_ward_code", FIVE_DIGITS),
        ({"id_number": "1234"}, "id_number", NOT_AN_ID),
        ({"phone": "12"}, "phone", NOT_A_PHONE),
        (
            {"circumstances": "x" * 10001},
            "circumstances",
            "String should have at most 10000 characters",
        ),
        ({"reporter": {"email": "nope"}}, "reporter.email", "Value error, not an email address"),
    ],
)
def test_an_invalid_missing_person_field_is_refused_by_name(
    change: dict[str, Any], field: str, message: str
) -> None:
    assert refusal(MissingPersonCreate, {**MISSING, **change}) == [(field, message)]
