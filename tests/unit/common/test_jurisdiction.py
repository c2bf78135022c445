"""Codes checked against the ``vietnam-provinces`` package (two-level government, 2025).

``01`` is Thành phố Hà Nội; ward ``00256`` (Phường Hai Bà Trưng) and ``00070`` (Phường Hoàn
Kiếm) are in it; ward ``26506`` (Phường Vũng Tàu) is in ``79`` (Thành phố Hồ Chí Minh); ``02``
(the former Hà Giang) no longer exists.
"""

from __future__ import annotations

import pytest

from libs.common.jurisdiction import (
    covers,
    is_province_code,
    is_valid_code,
    is_ward_code,
    name_of,
    province_of,
    ward_name,
    wards_of,
)

HANOI = "01"
HCMC = "79"
HAI_BA_TRUNG = "00256"
HOAN_KIEM = "00070"
VUNG_TAU = "26506"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (HANOI, True),
        (HCMC, True),
        ("02", False),
        ("1", False),
        ("001", False),
        (HAI_BA_TRUNG, False),
    ],
)
def test_is_province_code(code: str, expected: bool) -> None:
    assert is_province_code(code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (HAI_BA_TRUNG, True),
        (VUNG_TAU, True),
        ("256", False),
        ("99999", False),
        (HANOI, False),
        ("abcde", False),
    ],
)
def test_is_ward_code(code: str, expected: bool) -> None:
    assert is_ward_code(code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [(HANOI, True), (HAI_BA_TRUNG, True), ("02", False), ("99999", False), ("", False)],
)
def test_is_valid_code(code: str, expected: bool) -> None:
    assert is_valid_code(code) is expected


@pytest.mark.parametrize(
    ("code", "province"),
    [(HAI_BA_TRUNG, HANOI), (HOAN_KIEM, HANOI), (VUNG_TAU, HCMC), (HANOI, HANOI), ("99999", None)],
)
def test_province_of(code: str, province: str | None) -> None:
    assert province_of(code) == province


@pytest.mark.parametrize(
    ("code", "name"),
    [(HANOI, "Thành phố Hà Nội"), (HAI_BA_TRUNG, "Phường Hai Bà Trưng"), ("99999", None)],
)
def test_name_of(code: str, name: str | None) -> None:
    assert name_of(code) == name


def test_ward_name_of_a_known_ward() -> None:
    assert ward_name(HAI_BA_TRUNG) == "Phường Hai Bà Trưng"


def test_wards_of_a_province_lists_its_wards_only() -> None:
    wards = wards_of(HANOI)
    assert HAI_BA_TRUNG in wards
    assert HOAN_KIEM in wards
    assert VUNG_TAU not in wards


def test_wards_of_gives_five_digit_codes() -> None:
    assert all(len(code) == 5 and code.isdigit() for code in wards_of(HANOI))


@pytest.mark.parametrize(
    ("jurisdiction", "code", "expected"),
    [
        pytest.param([HANOI], HAI_BA_TRUNG, True, id="province-covers-its-ward"),
        pytest.param([HANOI], HANOI, True, id="province-covers-itself"),
        pytest.param([HAI_BA_TRUNG], HAI_BA_TRUNG, True, id="ward-covers-itself"),
        pytest.param([HOAN_KIEM], HAI_BA_TRUNG, False, id="ward-not-other-ward"),
        pytest.param([HAI_BA_TRUNG], HANOI, False, id="ward-not-its-province"),
        pytest.param([HCMC], HAI_BA_TRUNG, False, id="province-not-other-provinces-ward"),
        pytest.param([HCMC, HANOI], HAI_BA_TRUNG, True, id="any-of-several"),
        pytest.param([HANOI], "99999", False, id="unknown-ward"),
        pytest.param([HANOI], None, False, id="no-location"),
        pytest.param([], HANOI, False, id="empty-jurisdiction"),
    ],
)
def test_covers(jurisdiction: list[str], code: str | None, expected: bool) -> None:
    assert covers(jurisdiction, code) is expected
