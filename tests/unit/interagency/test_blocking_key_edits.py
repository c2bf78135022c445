"""Blocking keys, edit by edit: one typo anywhere in any part of a name, of any of the four kinds,
still reaches the stored name; the probe's limits sit where they are said to.

The oracle for ``one_edit`` is the optimal-string-alignment distance of rapidfuzz (deletion,
insertion, substitution, transposition of adjacent letters), not the matcher's own code.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import OSA

from services.interagency.matching import KEY_PURPOSE, one_edit, probe_name_keys, stored_name_keys

LETTERS = string.ascii_lowercase


def reaches(found: str, stored: str) -> bool:
    return bool(probe_name_keys(found) & stored_name_keys(stored))


def typos(word: str) -> Iterator[tuple[str, str]]:
    """(what was done, the word with one typo): every kind at every position."""
    for i in range(len(word)):
        yield f"drop {i}", word[:i] + word[i + 1 :]
        for c in LETTERS.replace(word[i], ""):
            yield f"replace {i} by {c}", word[:i] + c + word[i + 1 :]
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield f"swap {i}, {i + 1}", word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    for i in range(len(word) + 1):
        for c in LETTERS:
            yield f"insert {c} at {i}", word[:i] + c + word[i:]


def misspelt(parts: list[str]) -> Iterator[tuple[str, str]]:
    """Every name with one typo in one of its parts."""
    for n, part in enumerate(parts):
        for what, typo in typos(part):
            yield f"{part}: {what}", " ".join([*parts[:n], typo, *parts[n + 1 :]])


def test_one_edit_is_every_string_one_edit_away_and_nothing_else() -> None:
    word = "hoa"
    candidates = [
        "".join(letters)
        for length in (len(word) - 1, len(word), len(word) + 1)
        for letters in itertools.product(LETTERS, repeat=length)
    ]
    distances = process.cdist([word], candidates, scorer=OSA.distance, workers=1)[0]
    assert one_edit(word) == {c for c, d in zip(candidates, distances, strict=True) if d == 1}


@given(st.text(alphabet=LETTERS, min_size=1, max_size=8))
def test_every_one_edit_variant_is_one_edit_away(word: str) -> None:
    assert all(OSA.distance(word, variant) == 1 for variant in one_edit(word))


def test_one_typo_anywhere_in_a_three_part_name_reaches_it() -> None:
    stored = "Lò Văn Sáng"
    missed = [what for what, name in misspelt(["lo", "van", "sang"]) if not reaches(name, stored)]
    assert missed == []


def test_one_typo_anywhere_in_a_family_and_given_name_reaches_the_longer_stored_name() -> None:
    stored = "Lò Văn Sáng"
    missed = [what for what, name in misspelt(["sang", "lo"]) if not reaches(name, stored)]
    assert missed == []


def test_a_middle_name_the_report_lacks_is_dropped_from_the_probe() -> None:
    assert reaches("Nguyen Thi Hoa", "Nguyễn Hoa")
    assert reaches("Thi Nguyen Hoa", "Nguyễn Hoa")


def test_a_two_part_name_never_probes_with_one_part() -> None:
    assert not reaches("Nguyen Hoa", "Hoa")
    assert not reaches("Nguyen Hoa", "Nguyễn")


def test_a_name_of_eight_parts_is_still_probed_for_typos() -> None:
    parts = ["an", "binh", "chau", "dung", "giang", "hanh", "khanh", "linh"]
    assert reaches(" ".join([*parts[:-1], "lihn"]), " ".join(parts))


def test_a_name_of_nine_parts_is_probed_as_written_only() -> None:
    parts = ["an", "binh", "chau", "dung", "giang", "hanh", "khanh", "linh", "minh"]
    assert probe_name_keys(" ".join(parts)) == {"full:" + " ".join(parts)}


def test_a_part_of_twenty_letters_is_still_probed_for_typos() -> None:
    long = "abcdefghij" * 2
    assert reaches(f"Lo {long[:-1]}x", f"Lo {long}")


def test_a_part_of_twenty_one_letters_is_probed_as_written_only() -> None:
    long = "abcdefghij" * 2 + "k"
    assert probe_name_keys(f"Lo {long}") == {f"full:{long} lo"}


def test_the_keys_of_stored_reports_are_hashed_for_one_purpose() -> None:
    """The stored keys are HMACs under this purpose (migration 5a8e9f7cf4f9 wrote them): another
    purpose would find none of the reports already stored."""
    assert KEY_PURPOSE == "missing_person_name_key"
