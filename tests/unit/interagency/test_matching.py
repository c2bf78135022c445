"""The matcher's scores: each kind of difference a partner's record can carry, and decoys."""

from __future__ import annotations

from datetime import date

import pytest

from services.interagency.matching import (
    PersonFacts,
    birth_year_from_age,
    name_similarity,
    score,
)

THRESHOLD = 0.75
MAI = PersonFacts(
    full_name="Lò Thị Mai",
    sex="female",
    date_of_birth=date(2009, 4, 2),
    hometown_ward_code="00256",
    id_digest="id-mai",
    phone_digest="phone-mai",
)


def found(**fields: object) -> PersonFacts:
    values: dict[str, object] = {"full_name": "Lo Thi Mai", "sex": "female"}
    values.update(fields)
    return PersonFacts(**values)  # type: ignore[arg-type]


CASES = [
    # description, found person, matches
    (
        "same everything",
        found(full_name="Lò Thị Mai", date_of_birth=date(2009, 4, 2), hometown_ward_code="00256"),
        True,
    ),
    ("no diacritics", found(date_of_birth=date(2009, 4, 2)), True),
    ("reordered", found(full_name="Mai Lo Thi", date_of_birth=date(2009, 4, 2)), True),
    ("one-letter typo", found(full_name="Lo Thi Maii", date_of_birth=date(2009, 4, 2)), True),
    ("age instead of a date", found(birth_year=birth_year_from_age(17, date(2026, 11, 1))), True),
    ("name only", found(), True),
    ("same name, born 10 years apart", found(date_of_birth=date(1999, 4, 2)), False),
    ("same name and birth, other sex", found(sex="male", date_of_birth=date(2009, 4, 2)), False),
    (
        "other person",
        found(full_name="Nguyễn Văn Hùng", sex="male", date_of_birth=date(1990, 1, 1)),
        False,
    ),
    (
        "other woman, same birth",
        found(full_name="Trần Thu Hương", date_of_birth=date(2009, 4, 2)),
        False,
    ),
    ("same ID number, other spelling", found(full_name="Mei Lu", id_digest="id-mai"), True),
    ("same phone, no name", PersonFacts(phone_digest="phone-mai"), True),
]


@pytest.mark.parametrize(("description", "person", "matches"), CASES, ids=[c[0] for c in CASES])
def test_scoring_table(description: str, person: PersonFacts, matches: bool) -> None:
    result = score(MAI, person)
    assert (result.score >= THRESHOLD) is matches, (result.score, result.reasons)


def test_every_score_is_explained() -> None:
    result = score(MAI, found(date_of_birth=date(2009, 4, 2)))
    fields = {r.field for r in result.reasons}
    assert {"full_name", "date_of_birth", "sex", "hometown_ward_code"} <= fields
    assert all(r.detail and "Mai" not in r.detail for r in result.reasons)
    assert result.score == pytest.approx(min(1.0, sum(r.weight for r in result.reasons)), abs=1e-3)


def test_an_exact_id_number_lifts_the_score_and_says_why() -> None:
    result = score(MAI, PersonFacts(id_digest="id-mai"))
    assert result.score >= 0.98
    assert any(r.field == "id_number" for r in result.reasons)


def test_more_evidence_scores_higher() -> None:
    weak = score(MAI, found()).score
    strong = score(MAI, found(date_of_birth=date(2009, 4, 2), hometown_ward_code="00256")).score
    assert strong > weak


@pytest.mark.parametrize(
    ("a", "b", "at_least"),
    [
        ("Nguyễn Thị Hoa", "nguyen thi hoa", 1.0),
        ("Nguyễn Thị Hoa", "Hoa Nguyen Thi", 1.0),
        ("Đặng Văn Đức", "Dang Van Duc", 1.0),
        ("Nguyễn Thị Hoa", "Nguyen Thi Hao", 0.85),
    ],
)
def test_name_similarity(a: str, b: str, at_least: float) -> None:
    assert name_similarity(a, b) >= at_least


def test_unrelated_names_are_far_apart() -> None:
    assert name_similarity("Nguyễn Thị Hoa", "Trần Văn Sơn") < 0.6
