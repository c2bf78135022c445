"""Channels and quiet hours as rules, and what the preferences body accepts."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
from pydantic import ValidationError

from services.notifications.domain import (
    DEFAULT_CHANNELS,
    DEFAULT_EMAIL_DIGEST,
    LOCAL_TIME,
    Channel,
    in_quiet_hours,
    with_inbox,
)
from services.notifications.schemas import PreferencesIn


def hanoi(hour: int, minute: int = 0) -> datetime:
    """That local time of Viet Nam (UTC+7, no daylight saving), as an aware UTC moment."""
    return datetime(2026, 12, 31, hour, minute, tzinfo=LOCAL_TIME).astimezone(UTC)


@pytest.mark.parametrize(
    ("local", "start", "end", "quiet"),
    [
        ((23, 0), time(22), time(6), True),  # past midnight
        ((2, 30), time(22), time(6), True),
        ((22, 0), time(22), time(6), True),  # the start is quiet
        ((6, 0), time(22), time(6), False),  # the end is not
        ((12, 0), time(22), time(6), False),
        ((21, 59), time(22), time(6), False),
        ((13, 0), time(12), time(14), True),  # within a day
        ((12, 0), time(12), time(14), True),
        ((14, 0), time(12), time(14), False),
        ((11, 59), time(12), time(14), False),
    ],
)
def test_quiet_hours_are_local_time_of_viet_nam(
    local: tuple[int, int], start: time, end: time, quiet: bool
) -> None:
    assert in_quiet_hours(hanoi(*local), start, end) is quiet


def test_the_local_time_is_utc_plus_seven() -> None:
    """16:30 UTC is 23:30 in Ha Noi: quiet in a 22:00-06:00 window, though 16:30 is not in it."""
    assert in_quiet_hours(datetime(2026, 6, 1, 16, 30, tzinfo=UTC), time(22), time(6))
    assert not in_quiet_hours(datetime(2026, 6, 1, 23, 30, tzinfo=UTC), time(22), time(6))


@pytest.mark.parametrize(("start", "end"), [(None, None), (time(22), None), (time(8), time(8))])
def test_no_window_is_never_quiet(start: time | None, end: time | None) -> None:
    assert not in_quiet_hours(hanoi(8), start, end)


@pytest.mark.parametrize(
    ("chosen", "kept"),
    [
        ([Channel.email], [Channel.inbox, Channel.email]),
        ([Channel.webhook, Channel.inbox], [Channel.inbox, Channel.webhook]),
        ([], [Channel.inbox]),
        ([Channel.webhook, Channel.email], [Channel.inbox, Channel.email, Channel.webhook]),
    ],
)
def test_the_inbox_is_always_on(chosen: list[Channel], kept: list[Channel]) -> None:
    assert with_inbox(chosen) == kept


VALID: dict[str, Any] = {
    "channels": ["inbox", "email"],
    "quiet_hours": {"start": "22:00", "end": "06:00"},
    "email_digest": True,
}


def test_a_valid_body() -> None:
    body = PreferencesIn.model_validate(VALID)
    assert body.quiet_hours is not None and body.quiet_hours.start == time(22)
    assert body.channels == [Channel.inbox, Channel.email]


@pytest.mark.parametrize(
    ("change", "field", "match"),
    [
        ({"channels": ["sms"]}, "channels", "Input should be 'inbox', 'email' or 'webhook'"),
        ({"channels": []}, "channels", "at least 1 item"),
        ({"channels": ["email", "email"]}, "channels", "a channel is named twice"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours", "different times"),
        ({"quiet_hours": {"start": "22:00"}}, "quiet_hours", "Field required"),
        ({"quiet_hours": {"start": "22:00+07:00", "end": "06:00"}}, "quiet_hours",
         "without an offset"),
        ({"quiet_hours": {"start": "25:00", "end": "06:00"}}, "quiet_hours", "time"),
        ({"email_digest": None}, "email_digest", "valid boolean"),
        ({"muted": True}, "muted", "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_an_invalid_body_is_refused_naming_the_field(
    change: dict[str, Any], field: str, match: str
) -> None:
    with pytest.raises(ValidationError, match=match) as raised:
        PreferencesIn.model_validate(VALID | change)
    assert {str(e["loc"][0]) for e in raised.value.errors()} == {field}


def test_a_person_who_never_chose_hears_by_inbox_and_e_mail_and_gets_the_digest() -> None:
    """A missed legal deadline reaches people who never opened their preferences."""
    assert DEFAULT_CHANNELS == (Channel.inbox, Channel.email)
    assert DEFAULT_EMAIL_DIGEST is True
