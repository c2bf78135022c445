"""The weight each piece of evidence carries in a match score, and the reason an officer reads.

The scoring rule, stated here once so that every expected value below is a hand computation from
it (never a call to the matcher's own constants or helpers):

* name 0.50 x credit, where credit = (similarity - 0.60) / (1 - 0.60), and nothing at or below
  0.60 (unrelated names share letters);
* birth 0.25: the same date 1.0, the same year another day 0.7, one calendar year apart 0.4, more
  nothing; birth years (from an age) 0, 1, 2, 3 apart: 0.9, 0.8, 0.5, 0.25, more nothing;
* sex 0.10 when the same; a different sex earns nothing and multiplies the sum by 0.6;
* hometown 0.15 for the same ward, 0.6 of it (0.09) for another ward of the same province;
* a field unknown on either side earns half its weight;
* an exact ID number lifts the score to at least 0.98, an exact phone to at least 0.90.

The missing person: Lò Thị Mai, female, born 2 April 2009, from ward 00256 (Phường Hai Bà Trưng,
Hà Nội). Ward 00070 (Phường Hoàn Kiếm) is in Hà Nội too; ward 01273 (Phường Thục Phán) is in Cao
Bằng. Each test changes one field of the found person and holds the others at known weights.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.interagency.matching import (
    PersonFacts,
    Scored,
    birth_year_from_age,
    name_similarity,
    score,
)

MAI = PersonFacts(
    full_name="Lò Thị Mai",
    sex="female",
    date_of_birth=date(2009, 4, 2),
    hometown_ward_code="00256",
)
SAME_NAME = "same name once diacritics, case and order are set aside"
UNKNOWN = "unknown on one side"


def found(**fields: object) -> PersonFacts:
    """The same name (0.50) and sex (0.10), birth and hometown unknown (0.125 + 0.075)."""
    values: dict[str, object] = {"full_name": "Lo Thi Mai", "sex": "female"}
    values.update(fields)
    return PersonFacts(**values)  # type: ignore[arg-type]


def reason(result: Scored, field: str) -> tuple[str, float]:
    """The detail and weight of the one reason about ``field``."""
    about = [r for r in result.reasons if r.field == field]
    assert len(about) == 1, result.reasons
    return about[0].detail, about[0].weight


# Name ---------------------------------------------------------------------------------------------
# Besides the name: sex 0.10 + birth unknown 0.125 + hometown unknown 0.075 = 0.30.


@pytest.mark.parametrize("name", ["Lo Thi Mai", "LÒ THỊ MAI", "Mai Lò Thị"])
def test_the_same_name_earns_the_full_name_weight(name: str) -> None:
    result = score(MAI, found(full_name=name))
    assert (reason(result, "full_name"), result.score) == ((SAME_NAME, 0.5), 0.8)


def test_a_letter_too_many_earns_part_of_the_name_weight() -> None:
    # "lo thi maii" against "lo thi mai": one insertion over 10 + 11 characters, similarity
    # 20/21 = 0.95238; credit (0.95238 - 0.6) / 0.4 = 0.88095; weight 0.5 x 0.88095 = 0.44048,
    # kept to four decimals: 0.4405.
    result = score(MAI, found(full_name="Lo Thi Maii"))
    detail = "similar names (similarity 0.95)"
    assert (reason(result, "full_name"), result.score) == ((detail, 0.4405), 0.7405)


def test_a_letter_replaced_earns_part_of_the_name_weight() -> None:
    # "lo thi mei" against "lo thi mai": one substitution (a deletion and an insertion) over 10 + 10
    # characters, similarity 18/20 = 0.90; credit 0.30 / 0.40 = 0.75; weight 0.375.
    result = score(MAI, found(full_name="Lo Thi Mei"))
    detail = "similar names (similarity 0.90)"
    assert (reason(result, "full_name"), result.score) == ((detail, 0.375), 0.675)


def test_an_unrelated_name_earns_nothing() -> None:
    result = score(MAI, found(full_name="Trần Văn Hùng"))
    detail, weight = reason(result, "full_name")
    assert detail.startswith("similar names (similarity 0.") and weight == 0.0
    assert result.score == 0.3


@pytest.mark.parametrize(
    ("missing", "person"),
    [(MAI, found(full_name=None)), (PersonFacts(sex="female"), found())],
    ids=["found without a name", "missing without a name"],
)
def test_a_name_unknown_on_either_side_earns_half_the_name_weight(
    missing: PersonFacts, person: PersonFacts
) -> None:
    result = score(missing, person)
    assert reason(result, "full_name") == (UNKNOWN, 0.25)


def test_a_middle_name_left_out_keeps_the_names_close() -> None:
    """WRatio weighs the token-set ratio 0.95: every part of the shorter name is in the longer
    one, so the token-set ratio is 1.0. Sorting the parts alone would give 1 - 5/33 = 0.85."""
    assert name_similarity("Nguyễn Thị Ngọc Hoa", "Nguyen Thi Hoa") == 0.95


def test_a_name_with_no_letters_is_like_no_other_name() -> None:
    assert name_similarity("Lò Thị Mai", "?") == 0.0
    assert name_similarity("--", "Lò Thị Mai") == 0.0


# Birth --------------------------------------------------------------------------------------------
# Besides the birth: name 0.50 + sex 0.10 + hometown unknown 0.075 = 0.675.


@pytest.mark.parametrize(
    ("born", "detail", "weight", "total"),
    [
        (date(2009, 4, 2), "same date of birth", 0.25, 0.925),
        (date(2009, 4, 3), "same year of birth, another day", 0.175, 0.85),  # 0.25 x 0.7
        (date(2009, 12, 31), "same year of birth, another day", 0.175, 0.85),
        (date(2008, 4, 2), "dates of birth one year apart", 0.1, 0.775),  # 0.25 x 0.4
        (date(2010, 1, 1), "dates of birth one year apart", 0.1, 0.775),
        (date(2011, 4, 2), "dates of birth 2 years apart", 0.0, 0.675),
        (date(1999, 4, 2), "dates of birth 10 years apart", 0.0, 0.675),
    ],
    ids=["same date", "a day later", "same year", "a year earlier", "next year", "2y", "10y"],
)
def test_a_date_of_birth_on_both_sides_earns_by_calendar_distance(
    born: date, detail: str, weight: float, total: float
) -> None:
    result = score(MAI, found(date_of_birth=born))
    assert (reason(result, "date_of_birth"), result.score) == ((detail, weight), total)


@pytest.mark.parametrize(
    ("year", "weight", "total"),
    [
        (2009, 0.225, 0.9),  # 0.25 x 0.9
        (2008, 0.2, 0.875),  # 0.25 x 0.8
        (2010, 0.2, 0.875),
        (2007, 0.125, 0.8),  # 0.25 x 0.5
        (2012, 0.0625, 0.7375),  # 0.25 x 0.25
        (2005, 0.0, 0.675),
        (1999, 0.0, 0.675),
    ],
)
def test_a_birth_year_from_an_age_earns_by_years_apart(
    year: int, weight: float, total: float
) -> None:
    result = score(MAI, found(birth_year=year))
    detail = f"birth years (from age) {abs(year - 2009)} apart"
    assert (reason(result, "birth_year"), result.score) == ((detail, weight), total)


def test_birth_years_from_ages_on_both_sides_are_compared() -> None:
    missing = PersonFacts(full_name="Lò Thị Mai", sex="female", birth_year=2009)
    result = score(missing, found(birth_year=2010))
    assert reason(result, "birth_year") == ("birth years (from age) 1 apart", 0.2)


@pytest.mark.parametrize(
    ("missing", "person"),
    [(MAI, found()), (PersonFacts(full_name="Lò Thị Mai"), found(date_of_birth=date(2009, 4, 2)))],
    ids=["found without a birth", "missing without a birth"],
)
def test_a_birth_unknown_on_either_side_earns_half_the_birth_weight(
    missing: PersonFacts, person: PersonFacts
) -> None:
    assert reason(score(missing, person), "birth_year") == (UNKNOWN, 0.125)


def test_a_birth_year_is_the_year_of_the_sighting_less_the_age() -> None:
    assert birth_year_from_age(17, date(2026, 11, 1)) == 2009
    assert birth_year_from_age(None, date(2026, 11, 1)) is None


# Sex ----------------------------------------------------------------------------------------------


def test_the_same_sex_earns_the_full_sex_weight() -> None:
    assert reason(score(MAI, found()), "sex") == ("same sex", 0.1)


@pytest.mark.parametrize(
    ("missing", "person"),
    [(MAI, found(sex=None)), (PersonFacts(full_name="Lò Thị Mai"), found())],
    ids=["found without a sex", "missing without a sex"],
)
def test_a_sex_unknown_on_either_side_earns_half_the_sex_weight(
    missing: PersonFacts, person: PersonFacts
) -> None:
    assert reason(score(missing, person), "sex") == (UNKNOWN, 0.05)


def test_a_different_sex_earns_nothing_and_cuts_the_score() -> None:
    # name 0.50 + birth 0.25 + sex 0 + hometown 0.15 = 0.90, x 0.6 = 0.54.
    result = score(
        MAI, found(sex="male", date_of_birth=date(2009, 4, 2), hometown_ward_code="00256")
    )
    assert (reason(result, "sex"), result.score) == (("different sex", 0.0), 0.54)


def test_the_cut_for_a_different_sex_is_kept_to_four_decimals() -> None:
    # "lo thi ma": one deletion over 10 + 9 characters, similarity 18/19 = 0.947368; name weight
    # 0.5 x (0.947368 - 0.6) / 0.4 = 0.43421 -> 0.4342. Sum 0.4342 + 0.25 + 0 + 0.075 = 0.7592,
    # x 0.6 = 0.45552 -> 0.4555.
    result = score(MAI, found(full_name="Lo Thi Ma", sex="male", date_of_birth=date(2009, 4, 2)))
    assert result.score == 0.4555


# Hometown -----------------------------------------------------------------------------------------
# Besides the hometown: name 0.50 + sex 0.10 + birth unknown 0.125 = 0.725.


@pytest.mark.parametrize(
    ("ward", "detail", "weight", "total"),
    [
        ("00256", "same home ward", 0.15, 0.875),
        ("00070", "same home province", 0.09, 0.815),  # 0.15 x 0.6
        ("01273", "different home province", 0.0, 0.725),
    ],
    ids=["same ward", "another ward of Ha Noi", "a ward of Cao Bang"],
)
def test_a_hometown_earns_by_ward_then_province(
    ward: str, detail: str, weight: float, total: float
) -> None:
    result = score(MAI, found(hometown_ward_code=ward))
    assert (reason(result, "hometown_ward_code"), result.score) == ((detail, weight), total)


def test_codes_the_register_does_not_know_share_no_province() -> None:
    missing = PersonFacts(full_name="Lò Thị Mai", sex="female", hometown_ward_code="99998")
    result = score(missing, found(hometown_ward_code="99999"))
    assert reason(result, "hometown_ward_code") == ("different home province", 0.0)


@pytest.mark.parametrize(
    ("missing", "person"),
    [(MAI, found()), (PersonFacts(full_name="Lò Thị Mai"), found(hometown_ward_code="00256"))],
    ids=["found without a hometown", "missing without a hometown"],
)
def test_a_hometown_unknown_on_either_side_earns_half_the_hometown_weight(
    missing: PersonFacts, person: PersonFacts
) -> None:
    assert reason(score(missing, person), "hometown_ward_code") == (UNKNOWN, 0.075)


# Exact identifiers --------------------------------------------------------------------------------
# Nothing else known: name 0.25 + birth 0.125 + sex 0.05 + hometown 0.075 = 0.50.


def test_an_exact_id_number_lifts_the_score_to_its_own_weight() -> None:
    missing = PersonFacts(id_digest="id-mai")
    result = score(missing, PersonFacts(id_digest="id-mai"))
    assert (reason(result, "id_number"), result.score) == (("same ID number (exact)", 0.98), 0.98)


def test_an_exact_phone_lifts_the_score_to_its_own_weight() -> None:
    missing = PersonFacts(phone_digest="phone-mai")
    result = score(missing, PersonFacts(phone_digest="phone-mai"))
    expected = (("same phone number (exact)", 0.9), 0.9)
    assert (reason(result, "phone"), result.score) == expected


def test_an_exact_id_number_outweighs_a_different_sex() -> None:
    # (0.50 + 0.25 + 0 + 0.15) x 0.6 = 0.54 before the ID number lifts it.
    missing = replace(MAI, id_digest="id-mai")
    person = found(
        sex="male", date_of_birth=date(2009, 4, 2), hometown_ward_code="00256", id_digest="id-mai"
    )
    assert score(missing, person).score == 0.98


def test_an_exact_identifier_never_lowers_a_full_score() -> None:
    missing = replace(MAI, id_digest="id-mai", phone_digest="phone-mai")
    person = found(
        date_of_birth=date(2009, 4, 2),
        hometown_ward_code="00256",
        id_digest="id-mai",
        phone_digest="phone-mai",
    )
    result = score(missing, person)
    assert result.score == 1.0
    assert [r.field for r in result.reasons] == [
        "full_name",
        "date_of_birth",
        "sex",
        "hometown_ward_code",
        "id_number",
        "phone",
    ]


def test_identifiers_missing_on_both_sides_are_no_evidence() -> None:
    result = score(PersonFacts(), PersonFacts())
    assert result.score == 0.5
    assert {r.field for r in result.reasons} == {
        "full_name",
        "birth_year",
        "sex",
        "hometown_ward_code",
    }


def test_different_identifiers_are_no_evidence() -> None:
    missing = PersonFacts(id_digest="id-mai", phone_digest="phone-mai")
    result = score(missing, PersonFacts(id_digest="id-hoa", phone_digest="phone-hoa"))
    assert result.score == 0.5 and len(result.reasons) == 4
