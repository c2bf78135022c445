"""Casework's request models: the transition body as a discriminated union on ``action`` (each
action with its own legal facts) and the rules of a party."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from services.casework.schemas import (
    CaseCreate,
    Close,
    Decline,
    Indict,
    Initiate,
    PartyIn,
    RecordVerdict,
    ReopenInvestigation,
    Resume,
    ScheduleTrial,
    Suspend,
    TransitionIn,
)

TRANSITION: TypeAdapter[Any] = TypeAdapter(TransitionIn)
TODAY = datetime.now(UTC).date()
TOMORROW = TODAY + timedelta(days=1)
PARTY = "01890000-0000-7000-8000-000000000001"

VALID: dict[str, dict[str, Any]] = {
    "initiate": {
        "action": "initiate",
        "decision_number": "12/QĐ-CSĐT",
        "decided_on": "2026-01-05",
        "penal_code_article": 151,
    },
    "decline": {"action": "decline", "legal_ground": "CPC Art. 157(1): no criminal act"},
    "suspend": {"action": "suspend", "decision_number": "3/QĐ", "reason": "accused absconded"},
    "resume": {"action": "resume", "decision_number": "4/QĐ"},
    "indict": {
        "action": "indict",
        "indictment_number": "7/CT-VKS",
        "indicted_on": "2026-03-01",
        "defendants": [{"party_id": PARTY, "charge_article": 150}],
    },
    "schedule_trial": {
        "action": "schedule_trial",
        "trial_type": "mobile",
        "scheduled_for": "2026-12-20T08:00:00+07:00",
        "venue": "Nhà văn hoá phường (giả lập)",
    },
    "record_verdict": {
        "action": "record_verdict",
        "outcome": "convicted",
        "verdict_number": "21/2026/HS-ST",
        "decided_on": "2026-04-01",
        "sentences": [{"party_id": PARTY, "article": 150, "imprisonment_months": 96}],
    },
    "reopen_investigation": {"action": "reopen_investigation"},
    "close": {"action": "close"},
}
MODEL = {
    "initiate": Initiate,
    "decline": Decline,
    "suspend": Suspend,
    "resume": Resume,
    "indict": Indict,
    "schedule_trial": ScheduleTrial,
    "record_verdict": RecordVerdict,
    "reopen_investigation": ReopenInvestigation,
    "close": Close,
}
REQUIRED = {
    "initiate": ["decision_number", "decided_on", "penal_code_article"],
    "decline": ["legal_ground"],
    "suspend": ["decision_number", "reason"],
    "resume": ["decision_number"],
    "indict": ["indictment_number", "indicted_on", "defendants"],
    "schedule_trial": ["trial_type", "scheduled_for", "venue"],
    "record_verdict": ["outcome", "verdict_number", "decided_on"],
    "reopen_investigation": [],
    "close": [],
}


def _refusal(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str, str]]:
    """Each error of a refusal as (field, pydantic error type): what was refused, and why."""
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in exc.value.errors()]


# TransitionIn ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(VALID))
def test_each_action_parses_to_its_own_model(action: str) -> None:
    assert isinstance(TRANSITION.validate_python(VALID[action]), MODEL[action])


@pytest.mark.parametrize("action", ["reopen", "INITIATE", "", "open", "delete", None, 1])
def test_an_unknown_action_is_refused(action: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["initiate"], "action": action})
    assert _refusal(refused) == [("", "union_tag_invalid")]


def test_an_unknown_action_is_refused_with_the_nine_actions_listed() -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["initiate"], "action": "reopen"})
    listed = refused.value.errors()[0]["ctx"]["expected_tags"]
    assert sorted(re.findall(r"'(\w+)'", listed)) == sorted(VALID)


def test_a_body_without_an_action_is_refused() -> None:
    body = {k: v for k, v in VALID["initiate"].items() if k != "action"}
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python(body)
    assert _refusal(refused) == [("", "union_tag_not_found")]


@pytest.mark.parametrize(
    ("action", "missing"),
    [(action, f) for action, fields in REQUIRED.items() for f in fields],
)
def test_an_action_without_one_of_its_required_fields_is_refused(action: str, missing: str) -> None:
    body = {k: v for k, v in VALID[action].items() if k != missing}
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python(body)
    assert _refusal(refused) == [(f"{action}.{missing}", "missing")]


@pytest.mark.parametrize("action", list(VALID))
def test_a_field_of_another_action_is_refused(action: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID[action], "legal_ground_x": "extra"})
    assert _refusal(refused) == [(f"{action}.legal_ground_x", "extra_forbidden")]


@pytest.mark.parametrize("article", [149, 152, 0, "150a"])
def test_initiate_accepts_only_articles_150_and_151(article: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["initiate"], "penal_code_article": article})
    assert _refusal(refused) == [("initiate.penal_code_article", "literal_error")]


@pytest.mark.parametrize(
    ("action", "field"),
    [("initiate", "decided_on"), ("indict", "indicted_on"), ("record_verdict", "decided_on")],
)
def test_a_decision_dated_in_the_future_is_refused(action: str, field: str) -> None:
    with pytest.raises(ValidationError, match="must not be in the future") as refused:
        TRANSITION.validate_python({**VALID[action], field: TOMORROW.isoformat()})
    assert _refusal(refused) == [(f"{action}.{field}", "value_error")]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-02-30", "date_from_datetime_parsing"),
        ("yesterday", "date_from_datetime_parsing"),
        ("05/01/2026", "date_from_datetime_parsing"),
        ("", "date_from_datetime_parsing"),
        (20260105, "date_from_datetime_inexact"),
    ],
)
def test_a_malformed_decision_date_is_refused(value: Any, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["initiate"], "decided_on": value})
    assert _refusal(refused) == [("initiate.decided_on", reason)]


@pytest.mark.parametrize(
    ("value", "reason"),
    [("x" * 101, "string_too_long"), ("", "string_too_short"), ("   ", "string_too_short")],
    ids=["101-characters", "empty", "blank"],
)
def test_a_decision_number_is_one_to_a_hundred_characters(value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["initiate"], "decision_number": value})
    assert _refusal(refused) == [("initiate.decision_number", reason)]


def test_a_decision_number_of_a_hundred_characters_is_accepted() -> None:
    parsed = TRANSITION.validate_python({**VALID["initiate"], "decision_number": "x" * 100})
    assert parsed.decision_number == "x" * 100


def test_the_decision_number_is_stripped() -> None:
    parsed = TRANSITION.validate_python({**VALID["initiate"], "decision_number": "  12/QĐ  "})
    assert parsed.decision_number == "12/QĐ"


def test_an_indictment_needs_at_least_one_defendant() -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["indict"], "defendants": []})
    assert _refusal(refused) == [("indict.defendants", "too_short")]


def test_a_defendant_needs_a_party_id_that_is_a_uuid() -> None:
    defendants = [{"party_id": "not-a-uuid", "charge_article": 150}]
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["indict"], "defendants": defendants})
    assert _refusal(refused) == [("indict.defendants.0.party_id", "uuid_parsing")]


@pytest.mark.parametrize("trial_type", ["standard", "mobile", "model"])
def test_a_trial_is_standard_mobile_or_model(trial_type: str) -> None:
    parsed = TRANSITION.validate_python({**VALID["schedule_trial"], "trial_type": trial_type})
    assert parsed.trial_type.value == trial_type


@pytest.mark.parametrize("trial_type", ["online", "", "MOBILE"])
def test_an_unknown_trial_type_is_refused(trial_type: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["schedule_trial"], "trial_type": trial_type})
    assert _refusal(refused) == [("schedule_trial.trial_type", "enum")]


def test_a_trial_time_without_a_timezone_is_read_as_vietnam_s() -> None:
    read = TRANSITION.validate_python(
        {**VALID["schedule_trial"], "scheduled_for": "2026-12-20T08:00:00"}
    )
    assert read.scheduled_for == datetime(2026, 12, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("outcome", ["guilty", "", "dismissed"])
def test_an_unknown_verdict_outcome_is_refused(outcome: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["record_verdict"], "outcome": outcome})
    assert _refusal(refused) == [("record_verdict.outcome", "enum")]


@pytest.mark.parametrize(
    ("sentence", "field", "reason"),
    [
        ({"article": 149}, "article", "literal_error"),
        ({"article": 150, "imprisonment_months": -1}, "imprisonment_months", "greater_than_equal"),
        ({"article": 150, "imprisonment_months": 601}, "imprisonment_months", "less_than_equal"),
        ({"article": 150, "fine_vnd": -5}, "fine_vnd", "greater_than_equal"),
        ({"article": 150, "clause": 6}, "clause", "less_than_equal"),
        ({"article": 150, "parole": True}, "parole", "extra_forbidden"),
    ],
    ids=["article", "negative-months", "too-many-months", "negative-fine", "clause", "extra"],
)
def test_a_malformed_sentence_is_refused(sentence: dict[str, Any], field: str, reason: str) -> None:
    sentences = [{"party_id": PARTY, **sentence}]
    with pytest.raises(ValidationError) as refused:
        TRANSITION.validate_python({**VALID["record_verdict"], "sentences": sentences})
    assert _refusal(refused) == [(f"record_verdict.sentences.0.{field}", reason)]


def test_a_verdict_without_sentences_parses_with_none() -> None:
    body = {k: v for k, v in VALID["record_verdict"].items() if k != "sentences"}
    assert TRANSITION.validate_python(body).sentences == []


# PartyIn -----------------------------------------------------------------------------------------


def test_a_party_with_only_a_role_is_refused() -> None:
    with pytest.raises(ValidationError, match="name, a phone or an ID") as refused:
        PartyIn.model_validate({"role": "victim", "age": 15})
    assert _refusal(refused) == [("", "value_error")]


@pytest.mark.parametrize(
    "identity",
    [{"full_name": "Lò Thị Mẩy"}, {"phone": "0912345678"}, {"id_number": "001200000001"}],
)
def test_a_party_is_known_by_a_name_a_phone_or_an_id(identity: dict[str, str]) -> None:
    assert PartyIn.model_validate({"role": "witness", **identity}).role.value == "witness"


def test_a_party_gives_a_date_of_birth_or_an_age_not_both() -> None:
    with pytest.raises(ValidationError, match="date_of_birth or age, not both") as refused:
        PartyIn.model_validate(
            {
                "role": "victim",
                "full_name": "Giàng Thị Sua",
                "date_of_birth": "2011-01-01",
                "age": 15,
            }
        )
    assert _refusal(refused) == [("", "value_error")]


@pytest.mark.parametrize("role", ["defendant", "reporter", "", "VICTIM"])
def test_an_unknown_party_role_is_refused(role: str) -> None:
    with pytest.raises(ValidationError) as refused:
        PartyIn.model_validate({"role": role, "full_name": "Hà Văn Tủa"})
    assert _refusal(refused) == [("role", "enum")]


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("0912 345 678", "+84912345678"),
        ("+84 912-345-678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("(091) 234.5678", "+84912345678"),
    ],
)
def test_a_party_phone_is_stored_in_e164(raw: str, normalised: str) -> None:
    assert PartyIn.model_validate({"role": "suspect", "phone": raw}).phone == normalised


@pytest.mark.parametrize("phone", ["abc", "12", "+1234567890123456789"])
def test_a_party_phone_that_is_not_a_number_is_refused(phone: str) -> None:
    with pytest.raises(ValidationError, match="not a phone number") as refused:
        PartyIn.model_validate({"role": "suspect", "phone": phone})
    assert _refusal(refused) == [("phone", "value_error")]


def test_a_party_id_number_is_stored_without_separators_in_upper_case() -> None:
    party = PartyIn.model_validate({"role": "suspect", "id_number": "001-200 000-001"})
    assert party.id_number == "001200000001"


@pytest.mark.parametrize(
    ("id_number", "reason"),
    [("12345", "value_error"), ("!!!!!!!", "value_error"), ("x" * 21, "string_too_long")],
    ids=["five-digits", "no-digits-or-letters", "21-characters"],
)
def test_a_party_id_number_of_an_implausible_length_is_refused(id_number: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        PartyIn.model_validate({"role": "suspect", "id_number": id_number})
    assert _refusal(refused) == [("id_number", reason)]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("full_name", "x" * 201, "string_too_long"),
        ("full_name", "", "string_too_short"),
        ("notes", "x" * 5001, "string_too_long"),
        ("age", -1, "greater_than_equal"),
        ("age", 121, "less_than_equal"),
        ("sex", "f", "literal_error"),
        ("hometown_ward_code", "99999", "value_error"),
        ("hometown_ward_code", "0025", "string_pattern_mismatch"),
        ("nationality", "vn", "string_pattern_mismatch"),
        ("nationality", "VNM", "string_pattern_mismatch"),
        ("date_of_birth", (date.today() + timedelta(days=2)).isoformat(), "value_error"),
        ("date_of_birth", "2010-13-01", "date_from_datetime_parsing"),
        ("religion", "none", "extra_forbidden"),
    ],
)
def test_a_party_field_out_of_its_rules_is_refused(field: str, value: Any, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        PartyIn.model_validate({"role": "victim", "full_name": "Vàng Thị Dua", field: value})
    assert _refusal(refused) == [(field, reason)]


def test_a_party_accepts_a_known_hometown_ward_and_a_nationality() -> None:
    party = PartyIn.model_validate(
        {
            "role": "victim",
            "full_name": "Vàng Thị Dua",
            "hometown_ward_code": "00256",
            "nationality": "VN",
        }
    )
    assert (party.hometown_ward_code, party.nationality) == ("00256", "VN")


# CaseCreate --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", "ab", "string_too_short"),
        ("title", "x" * 301, "string_too_long"),
        ("ward_code", "99999", "value_error"),
        ("ward_code", "256", "string_pattern_mismatch"),
        ("ward_code", "00256; DROP TABLE x", "string_pattern_mismatch"),
        ("summary", "x" * 20001, "string_too_long"),
        ("tip_id", "not-a-uuid", "uuid_parsing"),
        ("exploitation_types", ["a"] * 10, "too_long"),
        ("status", "closed", "extra_forbidden"),
    ],
)
def test_a_case_field_out_of_its_rules_is_refused(field: str, value: Any, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        CaseCreate.model_validate({"title": "Vụ án giả lập", "ward_code": "00256", field: value})
    assert _refusal(refused) == [(field, reason)]
