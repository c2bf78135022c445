"""victim_support's request models refuse what the API contract refuses: naive or future times,
unknown wards, both a date of birth and an age, unknown fields, consents to share with an
unnamed NGO, program periods that end before they start, bad deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.victim_support.program_schemas import (
    DeliveryBatchIn,
    DeliveryCorrection,
    DeliveryItem,
    ProgramCreate,
)
from services.victim_support.schemas import ConsentIn, SupportIn, VictimCreate

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


def refusal(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str, str]]:
    """Each error of a refusal as (field, message): what was refused, and why."""
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.value.errors()]


IN_THE_FUTURE = "Value error, must not be in the future"
NOT_A_WARD = "Value error, not a ward code of the current administrative units"
FIVE_DIGITS = "String should match pattern '^\\d{5}$'"
TWO_LETTERS = "String should match pattern '^[A-Z]{2}$'"
AN_ORG = "String should match pattern '^[a-z0-9][a-z0-9._-]*$'"
EXTRA = "Extra inputs are not permitted"
NOT_AN_INTEGER = "Input should be a valid integer, got a number with a fractional part"
NOT_A_BOOLEAN = "Input should be a valid boolean, unable to interpret input"
SUPPORT_TYPES = (
    "Input should be 'essential_needs', 'medical', 'interpreter', 'legal_support', 'legal_aid', "
    "'travel', 'psychological', 'schooling', 'vocational_training', 'initial_hardship_allowance' "
    "or 'loan'"
)


# VictimCreate


def test_a_valid_reception_is_accepted_with_vietnamese_nationality_by_default() -> None:
    body = victim()
    parsed = VictimCreate.model_validate(body)
    assert parsed.nationality == "VN"
    assert (parsed.source, parsed.ward_code) == ("rescued", WARD)
    assert parsed.received_at == datetime.fromisoformat(body["received_at"])
    assert (parsed.is_minor, parsed.case_id, parsed.needs) == (None, None, [])
    assert parsed.person.model_dump(exclude_none=True) == {
        "full_name": "Hà Thị Bích",
        "date_of_birth": date(2001, 5, 6),
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"received_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()},
            "received_at",
            IN_THE_FUTURE,
        ),
        ({"ward_code": "99999"}, "ward_code", NOT_A_WARD),
        ({"ward_code": "01"}, "ward_code", FIVE_DIGITS),
        ({"ward_code": "0025a"}, "ward_code", FIVE_DIGITS),
        (
            {"source": "walk_in"},
            "source",
            "Input should be 'self_report', 'rescued', 'border_handover', 'repatriated', "
            "'partner_province' or 'case'",
        ),
        ({"nationality": "vn"}, "nationality", TWO_LETTERS),
        ({"nationality": "VNM"}, "nationality", TWO_LETTERS),
        ({"needs": ["massage"]}, "needs.0", SUPPORT_TYPES),
        (
            {"case_id": "not-a-uuid"},
            "case_id",
            "Input should be a valid UUID, invalid character: found `n` at 0",
        ),
        ({"is_minor": "perhaps"}, "is_minor", NOT_A_BOOLEAN),
        ({"colour": "red"}, "colour", EXTRA),
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
def test_a_bad_reception_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        VictimCreate.model_validate(victim(**overrides))
    assert refusal(refused) == [(field, message)]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"full_name": "A", "nickname": "B"}, "person.nickname", EXTRA),
        ({"full_name": ""}, "person.full_name", "String should have at least 1 character"),
        ({"full_name": "x" * 201}, "person.full_name", "String should have at most 200 characters"),
        (
            {"date_of_birth": (TODAY + timedelta(days=1)).isoformat()},
            "person.date_of_birth",
            IN_THE_FUTURE,
        ),
        ({"age": -1}, "person.age", "Input should be greater than or equal to 0"),
        ({"age": 121}, "person.age", "Input should be less than or equal to 120"),
        ({"sex": "robot"}, "person.sex", "Input should be 'female', 'male', 'other' or 'unknown'"),
        ({"phone": "12"}, "person.phone", "Value error, not a phone number"),
        (
            {"id_number": "12-3"},
            "person.id_number",
            "Value error, expected a 12-digit CCCD, a 9-digit CMND, a passport number or an "
            "18-character Chinese resident ID",
        ),
        ({"hometown_ward_code": "12345"}, "person.hometown_ward_code", NOT_A_WARD),
        ({"notes": "x" * 5001}, "person.notes", "String should have at most 5000 characters"),
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
def test_bad_person_fields_are_refused_naming_the_field(
    fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        VictimCreate.model_validate(person(**fields))
    assert refusal(refused) == [(field, message)]


def test_a_date_of_birth_and_an_age_together_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        VictimCreate.model_validate(
            person(full_name="Vi Văn Tám", date_of_birth="2000-01-01", age=26)
        )
    assert refusal(refused) == [("person", "Value error, give date_of_birth or age, not both")]


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
    """The rule spans two fields, so the model refuses it (the API names the ``body``)."""
    with pytest.raises(ValidationError) as refused:
        ConsentIn.model_validate({"scope": "share_with_ngo", "granted": True, "org": None})
    assert refusal(refused) == [("", "Value error, share_with_ngo names the organisation (org)")]


def test_a_consent_to_share_with_an_ngo_refuses_an_empty_org() -> None:
    with pytest.raises(ValidationError) as refused:
        ConsentIn.model_validate({"scope": "share_with_ngo", "granted": True, "org": ""})
    assert refusal(refused) == [("org", "String should have at least 2 characters")]


@pytest.mark.parametrize("scope", ["share_with_partner", "contact_family"])
def test_other_consents_need_no_org(scope: str) -> None:
    assert ConsentIn.model_validate({"scope": scope, "granted": True}).org is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"scope": "share_with_everyone", "granted": True},
            "scope",
            "Input should be 'share_with_ngo', 'share_with_partner' or 'contact_family'",
        ),
        ({"scope": "share_with_ngo", "granted": True, "org": "NGO Upper"}, "org", AN_ORG),
        (
            {"scope": "share_with_ngo", "granted": True, "org": "x'; DROP TABLE consents;--"},
            "org",
            AN_ORG,
        ),
        ({"scope": "share_with_ngo", "granted": "maybe", "org": "ngo-a"}, "granted", NOT_A_BOOLEAN),
        (
            {"scope": "share_with_ngo", "granted": True, "org": "ngo-a", "expires": "never"},
            "expires",
            EXTRA,
        ),
    ],
    ids=["bad_scope", "org_with_spaces", "org_with_sql", "bad_granted", "unknown_field"],
)
def test_a_bad_consent_is_refused_naming_the_field(
    body: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        ConsentIn.model_validate(body)
    assert refusal(refused) == [(field, message)]


# ProgramCreate


def test_a_program_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        ProgramCreate.model_validate(program(period={"start": "2026-06-01", "end": "2026-05-31"}))
    assert refusal(refused) == [("period", "Value error, end must not be before start")]


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
    ("overrides", "field", "message"),
    [
        (
            {"support_types": []},
            "support_types",
            "List should have at least 1 item after validation, not 0",
        ),
        ({"support_types": ["massage"]}, "support_types.0", SUPPORT_TYPES),
        ({"name": "ab"}, "name", "String should have at least 3 characters"),
        ({"org": "Big NGO"}, "org", AN_ORG),
        ({"period": {"start": "2026-01-01"}}, "period.end", "Field required"),
        ({"budget": 1}, "budget", EXTRA),
    ],
    ids=["no_types", "bad_type", "short_name", "bad_org", "half_period", "unknown_field"],
)
def test_a_bad_program_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        ProgramCreate.model_validate(program(**overrides))
    assert refusal(refused) == [(field, message)]


# SupportIn and DeliveryItem


def test_a_valid_delivery_is_accepted() -> None:
    parsed = DeliveryItem.model_validate(delivery())
    assert (parsed.external_id, str(parsed.victim_id), parsed.type) == ("d-1", VICTIM_ID, "medical")
    assert (parsed.amount_vnd, parsed.delivered_on) == (250_000, TODAY)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount_vnd": -1}, "amount_vnd", "Input should be greater than or equal to 0"),
        ({"amount_vnd": 1000.5}, "amount_vnd", NOT_AN_INTEGER),
        (
            {"amount_vnd": 10_000_000_001},
            "amount_vnd",
            "Input should be less than or equal to 10000000000",
        ),
        (
            {"delivered_on": (TODAY + timedelta(days=1)).isoformat()},
            "delivered_on",
            IN_THE_FUTURE,
        ),
        (
            {"delivered_on": "2026-02-30"},
            "delivered_on",
            "Input should be a valid date or datetime, day value is outside expected range",
        ),
        (
            {"victim_id": "not-a-uuid"},
            "victim_id",
            "Input should be a valid UUID, invalid character: found `n` at 0",
        ),
        ({"type": "massage"}, "type", SUPPORT_TYPES),
        ({"external_id": ""}, "external_id", "String should have at least 1 character"),
        ({"external_id": "x" * 101}, "external_id", "String should have at most 100 characters"),
        ({"note": "hi"}, "note", EXTRA),
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
def test_a_bad_delivery_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        DeliveryItem.model_validate(delivery(**overrides))
    assert refusal(refused) == [(field, message)]


@pytest.mark.parametrize("missing", ["external_id", "type", "delivered_on"])
def test_a_delivery_without_a_required_field_is_refused(missing: str) -> None:
    body = delivery()
    del body[missing]
    with pytest.raises(ValidationError) as refused:
        DeliveryItem.model_validate(body)
    assert refusal(refused) == [(missing, "Field required")]


def test_a_delivery_names_the_person_by_the_ngos_own_enrollment_reference() -> None:
    body = {k: v for k, v in delivery().items() if k != "victim_id"}
    parsed = DeliveryItem.model_validate({**body, "person_external_id": "HS-0001"})
    assert (parsed.victim_id, parsed.person_external_id) == (None, "HS-0001")


ONE_PERSON = "Value error, name the person by exactly one of victim_id and person_external_id"


@pytest.mark.parametrize(
    "person",
    [{}, {"victim_id": VICTIM_ID, "person_external_id": "HS-0001"}, {"victim_id": None}],
    ids=["neither", "both", "null_id"],
)
def test_a_delivery_names_its_person_exactly_once(person: dict[str, Any]) -> None:
    body = {k: v for k, v in delivery().items() if k != "victim_id"}
    with pytest.raises(ValidationError) as refused:
        DeliveryItem.model_validate({**body, **person})
    assert refusal(refused) == [("", ONE_PERSON)]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "String should have at least 1 character"),
        ("x" * 101, "String should have at most 100 characters"),
    ],
    ids=["empty", "huge"],
)
def test_a_bad_enrollment_reference_is_refused_naming_it(reference: str, message: str) -> None:
    body = {k: v for k, v in delivery().items() if k != "victim_id"}
    with pytest.raises(ValidationError) as refused:
        DeliveryItem.model_validate({**body, "person_external_id": reference})
    assert refusal(refused) == [("person_external_id", message)]


def test_a_correction_is_the_whole_delivery_but_its_person_and_id() -> None:
    parsed = DeliveryCorrection.model_validate(
        {"type": "medical", "amount_vnd": 5, "delivered_on": TODAY.isoformat()}
    )
    assert (parsed.type, parsed.amount_vnd, parsed.delivered_on) == ("medical", 5, TODAY)
    with pytest.raises(ValidationError) as refused:
        DeliveryCorrection.model_validate({"victim_id": VICTIM_ID, "external_id": "d-1"})
    assert sorted(refusal(refused)) == [
        ("delivered_on", "Field required"),
        ("external_id", EXTRA),
        ("type", "Field required"),
        ("victim_id", EXTRA),
    ]


def test_a_batch_of_a_thousand_items_is_accepted_as_sent() -> None:
    """Kept as sent: each item is validated on its own, so one bad item is refused alone."""
    items = [delivery(external_id=f"d-{n}") for n in range(1000)]
    parsed = DeliveryBatchIn.model_validate({"items": items})
    assert parsed.items == items


def test_a_batch_of_more_than_a_thousand_items_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        DeliveryBatchIn.model_validate({"items": [delivery()] * 1001})
    assert refusal(refused) == [
        ("items", "List should have at most 1000 items after validation, not 1001")
    ]


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        DeliveryBatchIn.model_validate({"items": []})
    assert refusal(refused) == [
        ("items", "List should have at least 1 item after validation, not 0")
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount_vnd": -5}, "amount_vnd", "Input should be greater than or equal to 0"),
        ({"amount_vnd": 12.75}, "amount_vnd", NOT_AN_INTEGER),
        (
            {"provided_on": (TODAY + timedelta(days=3)).isoformat()},
            "provided_on",
            IN_THE_FUTURE,
        ),
        ({"provider_org": "<script>"}, "provider_org", AN_ORG),
        (
            {"program_id": "1"},
            "program_id",
            "Input should be a valid UUID, invalid length: found 1",
        ),
    ],
    ids=["negative_amount", "fractional_amount", "future_date", "html_org", "bad_program_id"],
)
def test_a_bad_support_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    body = {"type": "medical", "provided_on": TODAY.isoformat(), "provider_org": "so-y-te"}
    body.update(overrides)
    with pytest.raises(ValidationError) as refused:
        SupportIn.model_validate(body)
    assert refusal(refused) == [(field, message)]


def test_a_reception_time_without_an_offset_is_vietnam_s() -> None:
    read = VictimCreate.model_validate(victim(received_at="2026-01-01T08:00:00"))
    assert read.received_at == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
