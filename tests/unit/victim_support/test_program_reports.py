"""The donor report's words: every label and every support type has its Vietnamese form in the
message catalogue (the spreadsheet is in Vietnamese unless English is asked for), and the CSV
names the program and its period on every row and ends with the totals."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from libs.common.i18n import catalogue
from services.victim_support.domain import SupportType
from services.victim_support.program_reports import (
    LABELS,
    SUPPORT_LABELS,
    language,
    report_csv,
    support_label,
)

VI = catalogue("vi")


def test_every_support_type_has_words() -> None:
    assert set(SUPPORT_LABELS) == set(SupportType)


@pytest.mark.parametrize("label", LABELS)
def test_every_label_has_a_vietnamese_form(label: str) -> None:
    assert VI.exact.get(label), label


def test_a_support_type_reads_as_words_in_either_language() -> None:
    assert support_label("vocational_training", "vi") == "Hỗ trợ học nghề"
    assert support_label("vocational_training", "en") == "Vocational training"
    assert support_label("retired_type", "vi") == "retired_type"


@pytest.mark.parametrize(
    ("lang", "header", "chosen"),
    [(None, None, "vi"), (None, "en-US,en;q=0.9", "en"), ("vi", "en", "vi"), ("en", None, "en")],
)
def test_the_language_is_the_query_s_then_the_header_s_then_vietnamese(
    lang: str | None, header: str | None, chosen: str
) -> None:
    assert language(lang, header) == chosen


def data(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program_id": "p-1",
        "name": "Safe Homecoming (synthetic)",
        "org": "ngo-a",
        "funder": None,
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
        "generated_on": "2026-05-03",
        "rows": [
            {
                "support_type": "medical",
                "month": "2026-03",
                "deliveries": 3,
                "people": 2,
                "amount_vnd": 175_000,
            },
            {
                "support_type": "schooling",
                "month": "2026-03",
                "deliveries": 1,
                "people": 1,
                "amount_vnd": 2_000_000,
            },
        ],
        "totals": {"deliveries": 4, "people": 2, "amount_vnd": 2_175_000},
    }
    return body | overrides


def test_the_csv_names_the_program_and_period_and_ends_with_the_totals() -> None:
    rows = list(csv.DictReader(io.StringIO(report_csv(data()))))
    assert {(r["program"], r["funder"], r["period_start"], r["period_end"]) for r in rows} == {
        ("Safe Homecoming (synthetic)", "", "2026-01-01", "2026-12-31")
    }
    total = rows[-1]
    assert (total["month"], total["support_type"]) == ("total", "")
    assert (total["deliveries"], total["people"], total["amount_vnd"]) == ("4", "2", "2175000")


def test_a_formula_like_program_name_is_text_in_the_csv() -> None:
    rows = list(csv.DictReader(io.StringIO(report_csv(data(name="=1+1")))))
    assert {r["program"] for r in rows} == {"'=1+1"}
