"""Scoring a partner's found person against one of our missing persons, field by field with the
reasons kept (an officer decides), and the name's blocking keys that find whom to score. Pure."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from libs.common.jurisdiction import province_of
from libs.common.text import fold_vietnamese

W_NAME = 0.50
W_BIRTH = 0.25
W_SEX = 0.10
W_HOMETOWN = 0.15
NAME_FLOOR = 0.60
"""Name similarity at or below which the name adds nothing (unrelated names share letters)."""
SEX_MISMATCH_FACTOR = 0.6
ID_NUMBER_SCORE = 0.98
PHONE_SCORE = 0.90


@dataclass(frozen=True)
class PersonFacts:
    """What matching may use of one person; ID number and phone only as blind-index digests."""

    full_name: str | None = None
    sex: str | None = None
    date_of_birth: date | None = None
    birth_year: int | None = None
    hometown_ward_code: str | None = None
    id_digest: str | None = None
    phone_digest: str | None = None

    @property
    def year(self) -> int | None:
        return self.date_of_birth.year if self.date_of_birth else self.birth_year


@dataclass(frozen=True)
class Reason:
    field: str
    detail: str
    weight: float


@dataclass(frozen=True)
class Scored:
    score: float
    reasons: list[Reason] = field(default_factory=list)


def birth_year_from_age(age: int | None, at: date) -> int | None:
    return None if age is None else at.year - age


def name_similarity(a: str, b: str) -> float:
    """0..1 over folded names: reordered parts and small typos stay close to 1."""
    fa, fb = fold_vietnamese(a), fold_vietnamese(b)
    if not fa or not fb:
        return 0.0
    return max(fuzz.token_sort_ratio(fa, fb), fuzz.WRatio(fa, fb)) / 100.0


def _name(missing: PersonFacts, found: PersonFacts) -> Reason:
    if not missing.full_name or not found.full_name:
        return Reason("full_name", "unknown on one side", W_NAME / 2)
    similarity = name_similarity(missing.full_name, found.full_name)
    credit = max(0.0, (similarity - NAME_FLOOR) / (1.0 - NAME_FLOOR))
    if similarity >= 0.999:
        detail = "same name once diacritics, case and order are set aside"
    else:
        detail = f"similar names (similarity {similarity:.2f})"
    return Reason("full_name", detail, round(W_NAME * credit, 4))


def _birth(missing: PersonFacts, found: PersonFacts) -> Reason:
    if missing.date_of_birth and found.date_of_birth:
        delta_days = abs((missing.date_of_birth - found.date_of_birth).days)
        delta_years = abs(missing.date_of_birth.year - found.date_of_birth.year)
        if delta_days == 0:
            return Reason("date_of_birth", "same date of birth", W_BIRTH)
        if delta_years == 0:
            return Reason("date_of_birth", "same year of birth, another day", W_BIRTH * 0.7)
        if delta_years == 1:
            return Reason("date_of_birth", "dates of birth one year apart", W_BIRTH * 0.4)
        return Reason("date_of_birth", f"dates of birth {delta_years} years apart", 0.0)
    if missing.year is None or found.year is None:
        return Reason("birth_year", "unknown on one side", W_BIRTH / 2)
    delta = abs(missing.year - found.year)
    credit = {0: 0.9, 1: 0.8, 2: 0.5, 3: 0.25}.get(delta, 0.0)
    return Reason("birth_year", f"birth years (from age) {delta} apart", round(W_BIRTH * credit, 4))


def _sex(missing: PersonFacts, found: PersonFacts) -> Reason:
    if not missing.sex or not found.sex:
        return Reason("sex", "unknown on one side", W_SEX / 2)
    if missing.sex == found.sex:
        return Reason("sex", "same sex", W_SEX)
    return Reason("sex", "different sex", 0.0)


def _hometown(missing: PersonFacts, found: PersonFacts) -> Reason:
    a, b = missing.hometown_ward_code, found.hometown_ward_code
    if not a or not b:
        return Reason("hometown_ward_code", "unknown on one side", W_HOMETOWN / 2)
    if a == b:
        return Reason("hometown_ward_code", "same home ward", W_HOMETOWN)
    if province_of(a) is not None and province_of(a) == province_of(b):
        return Reason("hometown_ward_code", "same home province", W_HOMETOWN * 0.6)
    return Reason("hometown_ward_code", "different home province", 0.0)


def score(missing: PersonFacts, found: PersonFacts) -> Scored:
    reasons = [
        _name(missing, found),
        _birth(missing, found),
        _sex(missing, found),
        _hometown(missing, found),
    ]
    total = sum(r.weight for r in reasons)
    if missing.sex and found.sex and missing.sex != found.sex:
        total *= SEX_MISMATCH_FACTOR
    if missing.id_digest and missing.id_digest == found.id_digest:
        reasons.append(Reason("id_number", "same ID number (exact)", ID_NUMBER_SCORE))
        total = max(total, ID_NUMBER_SCORE)
    if missing.phone_digest and missing.phone_digest == found.phone_digest:
        reasons.append(Reason("phone", "same phone number (exact)", PHONE_SCORE))
        total = max(total, PHONE_SCORE)
    return Scored(score=round(min(total, 1.0), 4), reasons=reasons)


# Blocking keys ------------------------------------------------------------------------------------

KEY_PURPOSE = "missing_person_name_key"
# Beyond these no one-edit probes (no real name comes close): the probe stays bounded.
MAX_PROBED_PARTS = 8
MAX_PROBED_PART_LENGTH = 20
_ALPHABET = string.ascii_lowercase


def _parts(name: str) -> list[str]:
    return fold_vietnamese(name).split()


def _full(parts: list[str]) -> str:
    return "full:" + " ".join(sorted(parts))


def _ends(parts: list[str]) -> str:
    return "ends:" + " ".join(sorted(parts))


def stored_name_keys(name: str) -> set[str]:
    """The keys a missing person's name is stored under (before HMAC)."""
    parts = _parts(name)
    if not parts:
        return set()
    keys = {_full(parts)}
    if len(parts) >= 3:
        keys.add(_ends([parts[0], parts[-1]]))
    if len(parts) >= 4:  # two middle names or more: one of them may be left out
        keys |= {_full(parts[:i] + parts[i + 1 :]) for i in range(1, len(parts) - 1)}
    return keys


def one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away (Norvig's
    ``edits1``), over the letters of a folded name."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    edits |= {a + c + b for a, b in splits for c in _ALPHABET}
    edits.discard("")
    edits.discard(word)
    return edits


def probe_name_keys(name: str) -> set[str]:
    """The keys a found person's name is looked up with (before HMAC): a stored name one typo,
    one extra part, any reordering, or (for a two-part name) the middle names away.

    About 230 variants per part of four letters: 700 to 1,000 keys for a usual name, an index
    probe each.
    """
    parts = _parts(name)
    if not parts:
        return set()
    keys = {_full(parts)}
    if len(parts) > MAX_PROBED_PARTS or max(map(len, parts)) > MAX_PROBED_PART_LENGTH:
        return keys  # not a person's name as people write it: the exact key only
    for i, part in enumerate(parts):
        others = parts[:i] + parts[i + 1 :]
        for variant in one_edit(part):
            keys.add(_full([*others, variant]))
        if len(others) >= 2:
            keys.add(_full(others))
    if len(parts) == 2:
        first, last = parts
        keys.add(_ends(parts))
        keys |= {_ends([variant, last]) for variant in one_edit(first)}
        keys |= {_ends([first, variant]) for variant in one_edit(last)}
    return keys
