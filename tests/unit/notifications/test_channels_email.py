"""The e-mail a person gets: in their language (Vietnamese, English otherwise), with the headers
a mail program needs, one stable Message-ID per delivery, and nothing but kinds, links and
deadlines. The webhook channel's body and the endpoint URL rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import UUID, uuid4

import pytest

from services.notifications.channel_rules import DigestLine
from services.notifications.email import (
    digest_message,
    language_of,
    message_id,
    notices_message,
)
from services.notifications.webhook_channel import (
    UnsafeEndpoint,
    check_endpoint,
    notification_event,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
NOTE_ID = UUID(int=1)
RECORD_ID = UUID(int=2)
FROM = "ctip <no-reply@ctip.example>"
BASE = "https://ctip.example"


@dataclass(frozen=True)
class Note:
    kind: str
    link: str
    due_at: datetime | None
    id: UUID = NOTE_ID
    recipient: str = "officer-hn-1"
    service: str = "intake"
    record_type: str = "tip"
    record_id: UUID = RECORD_ID
    deadline_kind: str | None = "resolution"
    ward_code: str | None = "00256"
    province_code: str | None = "01"
    created_at: datetime = NOW


APPROACHING = Note(
    "deadline.approaching", "/intake/v1/tips/abc", datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
)
MISSED = Note(
    "deadline.missed", "/casework/v1/cases/def", datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
)


def message(*notes: Note, locale: str = "vi", delivery: UUID | None = None) -> EmailMessage:
    return notices_message(
        notes,
        to="canbo@hanoi.ctip.example",
        locale=locale,
        delivery_id=delivery or uuid4(),
        from_address=FROM,
        base_url=BASE,
        now=NOW,
    )


def test_a_vietnamese_reader_gets_vietnamese_with_the_deadline_in_local_time() -> None:
    sent = message(APPROACHING)
    body = sent.get_content()
    assert sent["Subject"] == "[ctip] Sắp đến hạn"
    assert sent["Content-Language"] == "vi"
    assert "Thông báo của ctip" in body
    assert "https://ctip.example/intake/v1/tips/abc" in body
    assert "Thời hạn: 29/11/2026 17:00 (giờ Việt Nam)" in body


def test_a_reader_of_another_language_gets_english() -> None:
    sent = message(APPROACHING, MISSED, locale="fr")
    body = sent.get_content()
    assert sent["Subject"] == "[ctip] 2 notifications"
    assert sent["Content-Language"] == "en"
    assert "Deadline approaching" in body and "Deadline missed" in body
    assert "Deadline: 24/11/2026 00:00 (Viet Nam time)" in body


@pytest.mark.parametrize(
    ("locale", "language"), [("vi", "vi"), ("vi-VN", "vi"), ("en", "en"), ("", "en"), (None, "en")]
)
def test_the_language_of_a_locale(locale: str | None, language: str) -> None:
    assert language_of(locale) == language


def test_the_headers_of_an_automatic_message() -> None:
    delivery = uuid4()
    sent = message(APPROACHING, delivery=delivery)
    assert sent["From"] == FROM
    assert sent["To"] == "canbo@hanoi.ctip.example"
    assert sent["Message-ID"] == f"<{delivery}@ctip.example>"
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["Date"]


def test_the_message_id_is_the_deliverys_whatever_the_attempt() -> None:
    delivery = uuid4()
    assert message_id(delivery, FROM) == message_id(delivery, "no-reply@ctip.example")
    assert message_id(delivery, FROM) != message_id(uuid4(), FROM)


def test_a_digest_counts_and_links_without_names() -> None:
    sent = digest_message(
        [DigestLine("intake", "tip", "resolution", 3), DigestLine("casework", "case", "stage", 1)],
        [f"/intake/v1/tips/{n}" for n in range(4)],
        national=False,
        since=datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
        until=datetime(2026, 11, 24, 0, 0, tzinfo=UTC),
        to="giamsat1@hanoi.ctip.example",
        locale="vi",
        delivery_id=uuid4(),
        from_address=FROM,
        base_url=BASE,
        now=NOW,
        max_links=2,
    )
    body = sent.get_content()
    assert sent["Subject"] == "[ctip] 4 việc quá hạn"
    assert "trong địa bàn của bạn" in body
    assert "* Tiếp nhận tin báo: Tin báo, hạn giải quyết: 3" in body
    assert "* Xử lý vụ án: Vụ án, hạn của giai đoạn tố tụng: 1" in body
    assert "https://ctip.example/intake/v1/tips/1" in body
    assert "/intake/v1/tips/3" not in body and "và 2 hồ sơ khác" in body


def test_the_webhook_body_is_a_cloudevent_of_the_notification_alone() -> None:
    event = json.loads(notification_event(APPROACHING))
    assert event["specversion"] == "1.0"
    assert event["type"] == "vn.ctip.notifications.notification.v1"
    assert event["source"] == "/ctip/notifications"
    assert event["id"] == str(APPROACHING.id)
    assert set(event["data"]) == {
        "id",
        "recipient",
        "kind",
        "service",
        "record_type",
        "record_id",
        "deadline_kind",
        "due_at",
        "ward_code",
        "province_code",
        "link",
    }
    assert event["data"]["due_at"] == "2026-11-29T10:00:00Z"
    assert notification_event(APPROACHING) == notification_event(APPROACHING)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://sms.province.example/hook", "must be an https URL"),
        ("ftp://sms.province.example/hook", "must be an https URL"),
        ("https://user:pw@sms.province.example/hook", "credentials"),
        ("https://sms.province.example/hook#x", "fragment"),
        ("https:///hook", "no host"),
        ("https://sms.province.example:port/hook", "not a valid URL"),
    ],
)
def test_an_endpoint_must_be_plain_https(url: str, reason: str) -> None:
    with pytest.raises(UnsafeEndpoint, match=reason):
        check_endpoint(url, allow_http=False)


def test_http_is_allowed_only_where_the_tests_receive() -> None:
    assert check_endpoint("http://127.0.0.1:9/h", allow_http=True) == "http://127.0.0.1:9/h"
    assert check_endpoint("https://sms.example/h", allow_http=False) == "https://sms.example/h"
