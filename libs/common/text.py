"""Normalisation of Vietnamese names, phone numbers and ID numbers for matching.

Matching must treat "Nguyễn Thị Hoa", "nguyen thi  hoa" and "NGUYEN THI HOA" as one name,
and "0912 345 678", "+84 912345678" and "84912345678" as one phone number.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")


def fold_vietnamese(text: str) -> str:
    """Lower-case, strip diacritics (đ→d included), collapse spacing and punctuation."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    cleaned = "".join(c if c.isalnum() else " " for c in stripped.casefold())
    return _SPACES.sub(" ", cleaned).strip()


def name_tokens(name: str) -> list[str]:
    """Folded name parts sorted, so that reordered names ("Hoa Nguyen Thi") compare equal."""
    return sorted(fold_vietnamese(name).split())


def normalize_phone(phone: str) -> str | None:
    """E.164 for Vietnamese numbers (+84...), digits with a + for foreign ones; None if absurd."""
    raw = phone.strip()
    digits = _NON_DIGITS.sub("", raw)
    if raw.startswith("+"):
        result = "+" + digits
    elif digits.startswith("00"):
        result = "+" + digits[2:]
    elif digits.startswith("84") and len(digits) >= 11:
        result = "+" + digits
    elif digits.startswith("0"):
        result = "+84" + digits[1:]
    else:
        result = "+84" + digits
    if result.startswith("+840"):  # "+84 0912 ..." keeps the trunk zero by habit
        result = "+84" + result[4:]
    return result if 8 <= len(result) - 1 <= 15 else None


def normalize_id_number(value: str) -> str:
    """Citizen ID (CCCD, 12 digits), old ID (CMND, 9) or passport: uppercase, no separators."""
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()
