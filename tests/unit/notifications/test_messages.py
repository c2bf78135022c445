"""What a notification says, in Vietnamese and in English, from the catalogue; and that it says
nothing of a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pytest

from libs.common.i18n import catalogue, normalized
from services.notifications.messages import language_of, render, templates

DUE = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)  # 17:00 in Ha Noi
RECORD = UUID("6f1c7a52-0000-4000-8000-000000000001")


@dataclass
class Row:
    kind: str
    record_type: str
    deadline_kind: str | None
    threshold_seconds: int | None
    record_id: UUID = RECORD
    due_at: datetime | None = DUE
    link: str = f"/intake/v1/tips/{RECORD}"


@pytest.mark.parametrize(
    ("row", "vi", "en"),
    [
        (Row("deadline.approaching", "tip", "resolution", 5 * 86400),
         "Tin báo sắp đến hạn giải quyết (còn 5 ngày)",
         "Tip nearing its resolution deadline (5 days left)"),
        (Row("deadline.approaching", "tip", "resolution", 86400),
         "Tin báo sắp đến hạn giải quyết (còn 1 ngày)",
         "Tip nearing its resolution deadline (1 day left)"),
        (Row("deadline.approaching", "tip", "extension_request", 36 * 3600),
         "Sắp hết thời hạn đề nghị gia hạn giải quyết tin báo (còn 36 giờ)",
         "Last day to request an extension for a tip is near (36 hours left)"),
        (Row("deadline.approaching", "victim", "verification", 3600),
         "Sắp đến hạn xác minh nạn nhân (còn 1 giờ)",
         "Victim verification deadline approaching (1 hour left)"),
        (Row("deadline.approaching", "case", "stage", 600),
         "Vụ việc sắp hết thời hạn của giai đoạn tố tụng (còn chưa đến 1 giờ)",
         "Case stage deadline approaching (less than an hour left)"),
        (Row("deadline.approaching", "case", "appeal", 2 * 86400),
         "Sắp đến hạn (còn 2 ngày)", "Deadline approaching (2 days left)"),
        (Row("deadline.missed", "tip", "resolution", 0),
         "Tin báo đã quá hạn giải quyết", "Tip resolution deadline missed"),
        (Row("deadline.missed", "tip", "extension_request", 0),
         "Đã hết thời hạn đề nghị gia hạn giải quyết tin báo",
         "Last day to request an extension for a tip has passed"),
        (Row("deadline.missed", "victim", "verification", 0),
         "Đã quá hạn xác minh nạn nhân", "Victim verification deadline missed"),
        (Row("deadline.missed", "case", "stage", 0),
         "Vụ việc đã quá thời hạn của giai đoạn tố tụng", "Case stage deadline missed"),
        (Row("deadline.missed", "case", "appeal", 0), "Đã quá hạn", "Deadline missed"),
        (Row("assigned", "tip", None, None, due_at=None),
         "Bạn được giao giải quyết một tin báo", "A tip was assigned to you"),
        (Row("assigned", "case", None, None, due_at=None),
         "Bạn được giao thụ lý một vụ việc", "A case was assigned to you"),
    ],
)  # fmt: skip
def test_each_title_in_both_languages(row: Row, vi: str, en: str) -> None:
    assert render(row, "vi").title == vi
    assert render(row, "en").title == en


def test_a_body_gives_the_deadline_in_local_time_and_the_link() -> None:
    row = Row("deadline.approaching", "tip", "resolution", 5 * 86400)
    assert render(row, "vi").body == f"Hạn: 17:00 ngày 20/12/2026. Xem hồ sơ: {row.link}"
    assert render(row, "en").body == f"Due 2026-12-20 17:00 (UTC+7). Open: {row.link}"
    missed = Row("deadline.missed", "tip", "resolution", 0)
    assert (
        render(missed, "vi").body == f"Đã quá hạn từ 17:00 ngày 20/12/2026. Xem hồ sơ: {row.link}"
    )
    assigned = Row("assigned", "tip", None, None, due_at=None)
    assert render(assigned, "en").body == f"Open: {row.link}"


def test_every_message_has_a_vietnamese_form() -> None:
    vi = catalogue("vi")
    assert [t for t in templates() if normalized(t) not in vi.ids] == []


@pytest.mark.parametrize(
    ("locale", "language"),
    [("vi", "vi"), ("en", "en"), ("en-GB", "en"), ("fr", "vi"), (None, "vi")],
)
def test_the_reader_s_language_is_vietnamese_unless_they_read_english(
    locale: str | None, language: str
) -> None:
    assert language_of(locale) == language
