from __future__ import annotations

import unicodedata

import pytest

from libs.common.text import fold_vietnamese, name_tokens, normalize_id_number, normalize_phone


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Nguyễn Thị  Hoà", "nguyen thi hoa"),
        ("NGUYỄN THỊ HOÀ", "nguyen thi hoa"),
        ("nguyen thi hoa", "nguyen thi hoa"),
        ("Đặng Văn Đức", "dang van duc"),
        ("đường", "duong"),
        ("Trương Thị Ngọc Hương", "truong thi ngoc huong"),
        ("Phường  Rạch Dừa", "phuong rach dua"),
        ("  Trần-Văn, Bình. ", "tran van binh"),
        ("Lê\tThị\nMai", "le thi mai"),
        ("Tổ 5, Ấp 3", "to 5 ap 3"),
        ("", ""),
    ],
)
def test_fold_vietnamese_strips_diacritics_case_spacing_and_punctuation(
    text: str, folded: str
) -> None:
    assert fold_vietnamese(text) == folded


@pytest.mark.parametrize(
    "text",
    ["Nguyễn Thị Hoà", "Đặng Văn Đức", "Trương Ngọc Hương", "Phường Hai Bà Trưng"],
)
def test_fold_vietnamese_gives_the_same_result_for_nfc_and_nfd_input(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    assert nfc != nfd
    assert fold_vietnamese(nfc) == fold_vietnamese(nfd)


def test_fold_vietnamese_ignores_old_and_new_tone_mark_placement() -> None:
    assert fold_vietnamese("Hòa") == fold_vietnamese("Hoà") == "hoa"


def test_name_tokens_compare_equal_for_reordered_names() -> None:
    assert name_tokens("Hoa Nguyễn Thị") == name_tokens("nguyen thi  HOA")


def test_name_tokens_are_folded_and_sorted() -> None:
    assert name_tokens("Trần Văn Bình") == ["binh", "tran", "van"]


def test_name_tokens_differ_for_different_names() -> None:
    assert name_tokens("Nguyễn Thị Hoa") != name_tokens("Nguyễn Thị Hoà Bình")


@pytest.mark.parametrize(
    ("phone", "normalized"),
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("(091) 234-5678", "+84912345678"),
        ("+84 912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084 912 345 678", "+84912345678"),
        ("912345678", "+84912345678"),
        ("024 3825 1234", "+842438251234"),
        ("+856 20 5555 1234", "+8562055551234"),
        ("00856 20 5555 1234", "+8562055551234"),
    ],
)
def test_normalize_phone_gives_e164(phone: str, normalized: str) -> None:
    assert normalize_phone(phone) == normalized


@pytest.mark.parametrize(
    "phone",
    ["", "   ", "abc", "123", "+1", "12345678901234567890", "0000000000000000000000"],
)
def test_normalize_phone_rejects_absurd_numbers(phone: str) -> None:
    assert normalize_phone(phone) is None


def test_normalize_phone_drops_the_trunk_zero_written_after_the_country_code() -> None:
    assert normalize_phone("+84 0912 345 678") == "+84912345678"


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("001 095 012 345", "001095012345"),
        ("001-095-012-345", "001095012345"),
        ("012.345.678", "012345678"),
        ("b1234567", "B1234567"),
        (" C 123 4567 ", "C1234567"),
        ("", ""),
    ],
)
def test_normalize_id_number_uppercases_and_removes_separators(value: str, normalized: str) -> None:
    assert normalize_id_number(value) == normalized


@pytest.mark.parametrize(
    ("phone", "normalized"),
    [
        ("+12345678", "+12345678"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_normalize_phone_accepts_8_to_15_digits_after_the_plus(phone: str, normalized: str) -> None:
    """ITU-T E.164 allows at most 15 digits; fewer than 8 is taken for a typing mistake."""
    assert normalize_phone(phone) == normalized


@pytest.mark.parametrize("phone", ["+1234567", "+1234567890123456"])
def test_normalize_phone_refuses_7_or_16_digits_after_the_plus(phone: str) -> None:
    assert normalize_phone(phone) is None
