"""A labelled synthetic set of Vietnamese persons for measuring the matcher (no real people).

Missing persons get full names built from common family, middle and given names, a sex that fits
the middle name, a date of birth and a home ward. Each *true* pair is a missing person as a
partner province might record them once found: diacritics dropped, parts reordered (given name
first), a one-letter typo, an age instead of a date of birth, the home ward missing. *Decoys*
are other people: new names (never equal to a missing person's once folded) and other birth
years, some sharing a family and given name with a missing person.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from libs.common.text import fold_vietnamese

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Lò",
    "Hà",
    "Vàng",
    "Giàng",
]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Kim", "Thanh", "Minh", "Hoài", "Diệu"]
MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Xuân", "Thành", "Công"]
GIVEN_FEMALE = [
    "Anh",
    "Châu",
    "Giang",
    "Hà",
    "Hạnh",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Nga",
    "Ngọc",
    "Nhung",
    "Phương",
    "Thảo",
    "Trang",
    "Vân",
    "Yến",
    "Dung",
    "Huyền",
    "Loan",
    "Tuyết",
]
GIVEN_MALE = [
    "Bình",
    "Dũng",
    "Hải",
    "Hùng",
    "Khánh",
    "Long",
    "Minh",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Trung",
    "Tuấn",
    "Thắng",
    "Cường",
    "Đạt",
    "Hiếu",
    "Kiên",
    "Lộc",
]
WARDS = ["00256", "00004", "00008", "26506", "02824", "03151", "01954", "04480"]


@dataclass(frozen=True)
class Person:
    key: int
    full_name: str
    sex: str
    date_of_birth: date
    hometown_ward_code: str


@dataclass(frozen=True)
class Found:
    """A partner's record: ``truth`` is the key of the missing person it is, or None."""

    truth: int | None
    full_name: str
    sex: str
    date_of_birth: date | None
    age: int | None
    hometown_ward_code: str | None


def strip_marks(name: str) -> str:
    """What a foreign keyboard makes of a Vietnamese name: no diacritics, capitals kept."""
    return " ".join(part.capitalize() for part in fold_vietnamese(name).split())


def reorder(name: str) -> str:
    parts = name.split()
    return " ".join([parts[-1], *parts[:-1]])


def typo(name: str, rng: random.Random) -> str:
    """One letter replaced, dropped or doubled, never in a one-letter word."""
    parts = name.split()
    i = rng.choice([k for k, p in enumerate(parts) if len(p) > 2])
    word = parts[i]
    j = rng.randrange(1, len(word))
    kind = rng.choice(["replace", "drop", "double"])
    if kind == "replace":
        word = word[:j] + rng.choice("aeioungh") + word[j + 1 :]
    elif kind == "drop":
        word = word[:j] + word[j + 1 :]
    else:
        word = word[:j] + word[j] + word[j:]
    parts[i] = word
    return " ".join(parts)


def _random_person(key: int, rng: random.Random) -> Person:
    sex = rng.choice(["female", "male"])
    middle, given = (MIDDLE_FEMALE, GIVEN_FEMALE) if sex == "female" else (MIDDLE_MALE, GIVEN_MALE)
    name = f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"
    born = date(rng.randint(1975, 2012), rng.randint(1, 12), rng.randint(1, 28))
    return Person(key, name, sex, born, rng.choice(WARDS))


def labelled_set(
    *, missing: int = 150, true_pairs: int = 120, decoys: int = 120, seed: int = 20261128
) -> tuple[list[Person], list[Found]]:
    rng = random.Random(seed)  # noqa: S311 (a seeded set, the same every run)
    people: list[Person] = []
    folded: set[str] = set()
    while len(people) < missing:
        person = _random_person(len(people), rng)
        key = " ".join(sorted(fold_vietnamese(person.full_name).split()))
        if key in folded:
            continue
        folded.add(key)
        people.append(person)
    found: list[Found] = []
    today = date(2026, 11, 1)
    for person in rng.sample(people, true_pairs):
        name = person.full_name
        if rng.random() < 0.8:
            name = strip_marks(name)
        if rng.random() < 0.4:
            name = reorder(name)
        if rng.random() < 0.5:
            name = typo(name, rng)
        by_age = rng.random() < 0.4
        age = today.year - person.date_of_birth.year - rng.choice([0, 1])
        found.append(
            Found(
                truth=person.key,
                full_name=name,
                sex=person.sex,
                date_of_birth=None if by_age else person.date_of_birth,
                age=age if by_age else None,
                hometown_ward_code=person.hometown_ward_code if rng.random() < 0.5 else None,
            )
        )
    while len(found) < true_pairs + decoys:
        stranger = _random_person(-1, rng)
        if rng.random() < 0.4:
            # A namesake of a missing person (same family and given name), born years apart.
            model = rng.choice(people)
            parts = model.full_name.split()
            middle = MIDDLE_FEMALE if model.sex == "female" else MIDDLE_MALE
            alt = rng.choice([m for m in middle if m != parts[1]])
            born = model.date_of_birth.replace(
                year=model.date_of_birth.year + rng.choice([-9, -7, 6, 8])
            )
            stranger = Person(
                -1, f"{parts[0]} {alt} {parts[2]}", model.sex, born, model.hometown_ward_code
            )
        key = " ".join(sorted(fold_vietnamese(stranger.full_name).split()))
        if key in folded:
            continue
        by_age = rng.random() < 0.4
        found.append(
            Found(
                truth=None,
                full_name=strip_marks(stranger.full_name)
                if rng.random() < 0.7
                else stranger.full_name,
                sex=stranger.sex,
                date_of_birth=None if by_age else stranger.date_of_birth,
                age=today.year - stranger.date_of_birth.year if by_age else None,
                hometown_ward_code=stranger.hometown_ward_code if rng.random() < 0.5 else None,
            )
        )
    rng.shuffle(found)
    return people, found
