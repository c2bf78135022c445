"""Blocking keys: a found person's probe reaches the stored name whatever a partner's officer
made of it (one typo, no diacritics, another order, an extra or missing part), and not names
further away."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.interagency.matching import (
    MAX_PROBED_PARTS,
    one_edit,
    probe_name_keys,
    stored_name_keys,
)
from testkit.names import reorder, strip_marks, typo

STORED = "Nguyễn Thị Ngọc Hoa"


def reaches(found: str, stored: str = STORED) -> bool:
    return bool(probe_name_keys(found) & stored_name_keys(stored))


@pytest.mark.parametrize(
    "found",
    [
        "Nguyễn Thị Ngọc Hoa",  # as stored
        "NGUYEN THI NGOC HOA",  # capitals, no diacritics
        "Hoa Nguyen Thi Ngoc",  # given name first, as on foreign documents
        "Nguyen Thi Ngoc Hao",  # two letters swapped
        "Nguyen Thi Ngoc Ho",  # a letter dropped
        "Nguyen Thi Ngocc Hoa",  # a letter doubled
        "Nguyen Thi Nguc Hoa",  # a letter replaced
        "Nguyen Thi Ngoc Hoa Anh",  # one part more
        "Nguyen Thi Hoa",  # one middle name left out
        "Nguyen Hoa",  # family and given name only
        "Hoa Nguyen",  # the same, reordered
        "Nguyen Hoaa",  # family and given name, with a typo
    ],
)
def test_what_a_partner_may_type_reaches_the_stored_name(found: str) -> None:
    assert reaches(found)


@pytest.mark.parametrize(
    "found",
    [
        "Nguyễn Thị Ngọc Lan",  # another given name
        "Trần Thị Ngọc Hoa",  # another family
        "Nguyen Thi Ngoc Hung",  # two edits (and more) away
        "Nguyen Thu Ngoc Hao",  # two typos
        "Hoa",  # one part tells nothing
    ],
)
def test_other_names_are_not_reached(found: str) -> None:
    assert not reaches(found)


def test_the_keys_a_name_is_stored_under() -> None:
    assert stored_name_keys("Lò Văn Sáng") == {"full:lo sang van", "ends:lo sang"}
    assert stored_name_keys(STORED) == {
        "full:hoa ngoc nguyen thi",
        "full:hoa nguyen thi",  # without one middle name
        "full:hoa ngoc nguyen",  # without the other
        "ends:hoa nguyen",
    }
    assert stored_name_keys("Giàng A") == {"full:a giang"}
    assert stored_name_keys("  ") == set() and probe_name_keys("--") == set()


def test_one_edit_covers_every_kind_of_typo_and_never_the_word_itself() -> None:
    edits = one_edit("hoa")
    assert {"oa", "hao", "hoaa", "hua", "xhoa"} <= edits
    assert "hoa" not in edits and "" not in one_edit("a")


@given(st.randoms(use_true_random=False), st.booleans(), st.booleans(), st.booleans())
def test_the_mutations_of_the_labelled_set_are_always_reached(
    rng: random.Random, marks: bool, order: bool, mistype: bool
) -> None:
    family = rng.choice(["Nguyễn", "Trần", "Đặng", "Lò", "Giàng"])
    middle = " ".join(rng.sample(["Thị", "Ngọc", "Văn", "Hữu", "Diệu"], rng.choice([1, 2])))
    name = f"{family} {middle} {rng.choice(['Hoa', 'Hương', 'Dũng', 'Thắng', 'Yến'])}"
    found = name
    if marks:
        found = strip_marks(found)
    if order:
        found = reorder(found)
    if mistype:
        found = typo(found, rng)
    assert reaches(found, name)


def test_a_probe_stays_small_whatever_a_partner_sends() -> None:
    usual = len(probe_name_keys("Nguyễn Thị Ngọc Hoa"))
    assert 700 < usual < 1500
    many_parts = " ".join(f"{chr(97 + n)}x" for n in range(MAX_PROBED_PARTS + 1))
    assert probe_name_keys(many_parts) == {"full:" + " ".join(sorted(many_parts.split()))}
    assert len(probe_name_keys("a" * 200)) == 1
    assert reaches("Nguyễn Thị Ngọc Hoa")  # the cap leaves real names alone
