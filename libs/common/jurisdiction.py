"""Administrative codes (two-level government since 1 July 2025: 34 provinces, ~3,300 wards).

Codes come from the ``vietnam-provinces`` package and are never hard-coded: a jurisdiction is a
province code (``"01"``) or a ward/commune code (``"00256"``); a province covers all its wards.
"""

from __future__ import annotations

from functools import lru_cache

from vietnam_provinces import Province, ProvinceCode, Ward, WardCode


@lru_cache(maxsize=1)
def _provinces() -> dict[str, str]:
    return {f"{int(p.code):02d}": p.name for p in Province.iter_all()}


@lru_cache(maxsize=1)
def _wards() -> dict[str, tuple[str, str]]:
    return {f"{int(w.code):05d}": (f"{int(w.province_code):02d}", w.name) for w in Ward.iter_all()}


def is_province_code(code: str) -> bool:
    return len(code) == 2 and code in _provinces()


def is_ward_code(code: str) -> bool:
    return len(code) == 5 and code in _wards()


def is_valid_code(code: str) -> bool:
    return is_province_code(code) or is_ward_code(code)


def province_of(code: str) -> str | None:
    """The province code of a province or ward code; None when the code is unknown."""
    if is_province_code(code):
        return code
    ward = _wards().get(code)
    return ward[0] if ward else None


def name_of(code: str) -> str | None:
    if is_province_code(code):
        return _provinces()[code]
    ward = _wards().get(code)
    return ward[1] if ward else None


def wards_of(province_code: str) -> list[str]:
    return [f"{int(w.code):05d}" for w in Ward.iter_by_province(ProvinceCode(int(province_code)))]


def covers(jurisdiction: list[str] | tuple[str, ...], code: str | None) -> bool:
    """True when one of the jurisdiction codes is ``code`` itself or the province holding it."""
    if code is None:
        return False
    province = province_of(code)
    return any(j == code or (province is not None and j == province) for j in jurisdiction)


def ward_name(code: str) -> str:
    return Ward.from_code(WardCode(int(code))).name
