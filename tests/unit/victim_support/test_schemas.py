"""victim_support's request models refuse what the API contract refuses: naive or future times,
unknown wards, both a date of birth and an age, unknown fields, consents to share with an
unnamed NGO, program periods that end before they start, bad deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.victim_support.schemas import (
    ConsentIn,
    DeliveryBatchIn,
    DeliveryItem,
    ProgramCreate,
    SupportIn,
    VictimCreate,
)

WARD = "00256"
VICTIM_ID = "01900000-0000-7000-8000-000000000001"
TODAY = datetime.now(UTC).date()


def victim(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "rescued",
        "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "ward_code": WARD,
        "person": {"full_name": "Hà Thị Bích", "date_of_birth": "2001-05-06"},
    }
    body.update(overrides)
    return body


def person(**fields: Any) -> dict[str, Any]:
    return victim(person=fields)


def program(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Safe Return",
        "org": "ngo-lua-hong",
        "support_types": ["medical"],
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
    }
    body.update(overrides)
    return body


def delivery(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": "d-1",
        "victim_id": VICTIM_ID,
        "type": "medical",
        "amount_vnd": 250_000,
        "delivered_on": TODAY.isoformat(),
    }
    body.update(overrides)
    return body


def error_fields(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in exc.value.errors()]


# VictimCreate


def test_a_valid_reception_is_accepted_with_vietnamese_nationality_by_default() -> None:
    parsed = VictimCreate.model_validate(victim())
    assert parsed.nationality == "VN"
    assert parsed.person.date_of_birth == date(2001, 5, 6)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"received_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}, "received_at"),
        ({"ward_code": "99999"}, "ward_code"),
        ({"ward_code": "01"}, "ward_code"),
        ({"ward_code": "0025a"}, "ward_code"),
        ({"source": "walk_in"}, "source"),
        ({"nationality": "vn"}, "nationality"),
        ({"nationality": "VNM"}, "nationality"),
        ({"needs": ["massage"]}, "needs.0"),
        ({"case_id": "not-a-uuid"}, "case_id"),
        ({"is_minor": "perhaps"}, "is_minor"),
        ({"colour": "red"}, "colour"),
    ],
    ids=[
        "future_received_at",
        "unknown_ward",
        "province_as_ward",
        "ward_not_digits",
        "bad_source",
        "lowercase_nationality",
        "three_letter_nationality",
        "bad_need",
        "bad_case_id",
        "bad_is_minor",
        "unknown_field",
    ],
)
def test_a_bad_reception_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        VictimCreate.model_validate(victim(**overrides))
    assert field in error_fields(refused)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"full_name": "A", "nickname": "B"}, "person.nickname"),
        ({"full_name": ""}, "person.full_name"),
        ({"full_name": "x" * 201}, "person.full_name"),
        ({"date_of_birth": (TODAY + timedelta(days=1)).isoformat()}, "person.date_of_birth"),
        ({"age": -1}, "person.age"),
        ({"age": 121}, "person.age"),
        ({"sex": "robot"}, "person.sex"),
        ({"phone": "12"}, "person.phone"),
        ({"id_number": "12-3"}, "person.id_number"),
        ({"hometown_ward_code": "12345"}, "person.hometown_ward_code"),
        ({"notes": "x" * 5001}, "person.notes"),
    ],
    ids=[
        "unknown_person_field",
        "empty_name",
        "huge_name",
        "future_dob",
        "negative_age",
        "absurd_age",
        "bad_sex",
        "bad_phone",
        "short_id_number",
        "unknown_hometown",
        "huge_notes",
    ],
)
def test_bad_person_fields_are_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        VictimCreate.model_validate(person(**fields))
    assert field in error_fields(refused)


def test_a_date_of_birth_and_an_age_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="date_of_birth or age"):
        VictimCreate.model_validate(
            person(full_name="Vi Văn Tám", date_of_birth="2000-01-01", age=26)
        )


@pytest.mark.parametrize(
    ("fields", "date_of_birth", "age"),
    [
        ({"date_of_birth": "2000-01-01"}, date(2000, 1, 1), None),
        ({"age": 26}, None, 26),
        ({}, None, None),
    ],
    ids=["dob_only", "age_only", "neither"],
)
def test_a_date_of_birth_or_an_age_or_neither_is_accepted(
    fields: dict[str, Any], date_of_birth: date | None, age: int | None
) -> None:
    parsed = VictimCreate.model_validate(person(full_name="Vi Văn Tám", **fields))
    assert parsed.person.full_name == "Vi Văn Tám"
    assert (parsed.person.date_of_birth, parsed.person.age) == (date_of_birth, age)


def test_an_id_number_is_normalised_without_separators() -> None:
    parsed = VictimCreate.model_validate(person(id_number=" 0010 9200 1234 "))
    assert parsed.person.id_number == "001092001234"


def test_a_phone_number_is_normalised_to_e164() -> None:
    parsed = VictimCreate.model_validate(person(phone="0912 345 678"))
    assert parsed.person.phone == "+84912345678"


# ConsentIn


def test_a_consent_to_share_with_an_ngo_must_name_the_ngo() -> None:
    with pytest.raises(ValidationError, match=r"share_with_ngo names the organisation \(org\)"):
        ConsentIn.model_validate({"scope": "share_with_ngo", "granted": True, "org": None})


def test_a_consent_to_share_with_an_ngo_refuses_an_empty_org() -> None:
    with pytest.raises(ValidationError) as refused:
        ConsentIn.model_validate({"scope": "share_with_ngo", "granted": True, "org": ""})
    assert error_fields(refused) == ["org"]


@pytest.mark.parametrize("scope", ["share_with_partner", "contact_family"])
def test_other_consents_need_no_org(scope: str) -> None:
    assert ConsentIn.model_validate({"scope": scope, "granted": True}).org is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "share_with_everyone", "granted": True}, "scope"),
        ({"scope": "share_with_ngo", "granted": True, "org": "NGO Upper"}, "org"),
        ({"scope": "share_with_ngo", "granted": True, "org": "x'; DROP TABLE consents;--"}, "org"),
        ({"scope": "share_with_ngo", "granted": "maybe", "org": "ngo-a"}, "granted"),
        (
            {"scope": "share_with_ngo", "granted": True, "org": "ngo-a", "expires": "never"},
            "expires",
        ),
    ],
    ids=["bad_scope", "org_with_spaces", "org_with_sql", "bad_granted", "unknown_field"],
)
def test_a_bad_consent_is_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ConsentIn.model_validate(body)
    assert error_fields(refused) == [field]


# ProgramCreate


def test_a_program_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="end must not be before start"):
        ProgramCreate.model_validate(program(period={"start": "2026-06-01", "end": "2026-05-31"}))


def test_a_program_of_one_day_is_accepted() -> None:
    parsed = ProgramCreate.model_validate(
        program(period={"start": "2026-06-01", "end": "2026-06-01"})
    )
    assert (parsed.period.start, parsed.period.end) == (date(2026, 6, 1), date(2026, 6, 1))
    assert (parsed.name, parsed.org, parsed.support_types) == (
        "Safe Return",
        "ngo-lua-hong",
        ["medical"],
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"support_types": []}, "support_types"),
        ({"support_types": ["massage"]}, "support_types.0"),
        ({"name": "ab"}, "name"),
        ({"org": "Big NGO"}, "org"),
        ({"period": {"start": "2026-01-01"}}, "period.end"),
        ({"budget": 1}, "budget"),
    ],
    ids=["no_types", "bad_type", "short_name", "bad_org", "half_period", "unknown_field"],
)
def test_a_bad_program_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ProgramCreate.model_validate(program(**overrides))
    assert error_fields(refused) == [field]


# SupportIn and DeliveryItem


def test_a_valid_delivery_is_accepted() -> None:
    assert DeliveryItem.model_validate(delivery()).amount_vnd == 250_000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_vnd": -1}, "amount_vnd"),
        ({"amount_vnd": 1000.5}, "amount_vnd"),
        ({"amount_vnd": 10_000_000_001}, "amount_vnd"),
        ({"delivered_on": (TODAY + timedelta(days=1)).isoformat()}, "delivered_on"),
        ({"delivered_on": "2026-02-30"}, "delivered_on"),
        ({"victim_id": "not-a-uuid"}, "victim_id"),
        ({"type": "massage"}, "type"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"note": "hi"}, "note"),
    ],
    ids=[
        "negative_amount",
        "fractional_amount",
        "huge_amount",
        "future_date",
        "impossible_date",
        "bad_victim_id",
        "bad_type",
        "empty_external_id",
        "huge_external_id",
        "unknown_field",
    ],
)
def test_a_bad_delivery_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        DeliveryItem.model_validate(delivery(**overrides))
    assert field in error_fields(refused)


@pytest.mark.parametrize("missing", ["external_id", "victim_id", "type", "delivered_on"])
def test_a_delivery_without_a_required_field_is_refused(missing: str) -> None:
    body = delivery()
    del body[missing]
    with pytest.raises(ValidationError) as refused:
        DeliveryItem.model_validate(body)
    assert missing in error_fields(refused)


def test_a_batch_holds_at_most_a_thousand_items() -> None:
    DeliveryBatchIn.model_validate({"items": [delivery()] * 1000})
    with pytest.raises(ValidationError):
        DeliveryBatchIn.model_validate({"items": [delivery()] * 1001})


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValidationError):
        DeliveryBatchIn.model_validate({"items": []})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_vnd": -5}, "amount_vnd"),
        ({"amount_vnd": 12.75}, "amount_vnd"),
        ({"provided_on": (TODAY + timedelta(days=3)).isoformat()}, "provided_on"),
        ({"provider_org": "<script>"}, "provider_org"),
        ({"program_id": "1"}, "program_id"),
    ],
    ids=["negative_amount", "fractional_amount", "future_date", "html_org", "bad_program_id"],
)
def test_a_bad_support_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    body = {"type": "medical", "provided_on": TODAY.isoformat(), "provider_org": "so-y-te"}
    body.update(overrides)
    with pytest.raises(ValidationError) as refused:
        SupportIn.model_validate(body)
    assert field in error_fields(refused)


def test_a_reception_time_without_an_offset_is_vietnam_s() -> None:
    read = VictimCreate.model_validate(victim(received_at="2026-01-01T08:00:00"))
    assert read.received_at == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
