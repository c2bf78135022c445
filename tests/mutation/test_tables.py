"""The table mutator changes what it says it changes, and only the tables."""

from __future__ import annotations

from typing import Any

from tests.mutation.tables import Mutant, mutants, mutated_code

SOURCE = """
from enum import StrEnum


class Status(StrEnum):
    open = "open"
    closed = "closed"


ROLES = frozenset({"investigator"})
PERIOD_DAYS = 20
WEIGHT = 0.5
NEXT = {Status.open: (Status.closed, "why it closes")}
GROUPS = (("a", "A"), ("b", "B"))
label = "not a table"


def rule() -> int:
    return 1 + 1
"""


def _run(mutant: Mutant) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "sample"}
    exec(mutated_code(SOURCE, "sample.py", mutant), namespace)  # noqa: S102 - our own source
    return namespace


def _descriptions() -> list[str]:
    return [f"{m.table}: {m.description}" for m in mutants(SOURCE)]


def test_each_mutant_of_the_sample_is_listed_once() -> None:
    assert sorted(_descriptions()) == sorted(
        [
            "ROLES: drop 'investigator'",
            "PERIOD_DAYS: 20 -> 21",
            "PERIOD_DAYS: 20 -> 19",
            "WEIGHT: 0.5 -> 0.55",
            "WEIGHT: 0.5 -> 0.45",
            "NEXT: drop Status.open",
            "NEXT: drop Status.closed",
            "NEXT: drop 'why it closes'",
            "NEXT: Status.closed -> Status.open",
            "GROUPS: drop ('a', 'A')",
            "GROUPS: drop ('b', 'B')",
        ]
    )


def _mutant(description: str) -> Mutant:
    return next(m for m in mutants(SOURCE) if f"{m.table}: {m.description}" == description)


def test_dropping_the_only_element_of_a_set_leaves_an_empty_set() -> None:
    assert _run(_mutant("ROLES: drop 'investigator'"))["ROLES"] == frozenset()


def test_dropping_a_dict_entry_removes_its_key() -> None:
    assert _run(_mutant("NEXT: drop Status.open"))["NEXT"] == {}


def test_an_enum_member_is_swapped_for_the_next_one() -> None:
    namespace = _run(_mutant("NEXT: Status.closed -> Status.open"))
    assert namespace["NEXT"] == {"open": ("open", "why it closes")}


def test_an_integer_moves_by_one() -> None:
    assert _run(_mutant("PERIOD_DAYS: 20 -> 19"))["PERIOD_DAYS"] == 19


def test_a_float_moves_by_five_hundredths() -> None:
    assert _run(_mutant("WEIGHT: 0.5 -> 0.55"))["WEIGHT"] == 0.55


def test_a_record_is_dropped_whole() -> None:
    assert _run(_mutant("GROUPS: drop ('a', 'A')"))["GROUPS"] == (("b", "B"),)
