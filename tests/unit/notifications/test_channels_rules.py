"""The channels' pure rules: quiet hours (across midnight too), the digest window a notification
joins, the daily digest's day and span, its counts, the retry schedule and what answers mean."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.channel_rules import (
    MissedSignal,
    Outcome,
    QuietHours,
    digest_due,
    digest_lines,
    email_slot,
    quiet_hours,
    release_at,
    smtp_outcome,
    webhook_outcome,
)


def vn(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A local time in Viet Nam (UTC+7), as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


NIGHT = QuietHours(time(22, 0), time(6, 0))
LUNCH = QuietHours(time(11, 30), time(13, 30))


# Quiet hours -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (vn(24, 21, 59), False),
        (vn(24, 22, 0), True),
        (vn(24, 23, 59), True),
        (vn(25, 0, 0), True),
        (vn(25, 5, 59), True),
        (vn(25, 6, 0), False),
        (vn(25, 12, 0), False),
    ],
)
def test_night_quiet_hours_span_midnight(local: datetime, quiet: bool) -> None:
    assert (NIGHT.until(local) is not None) is quiet


def test_quiet_hours_before_midnight_end_the_next_morning() -> None:
    assert NIGHT.until(vn(24, 23, 15)) == vn(25, 6, 0)


def test_quiet_hours_after_midnight_end_the_same_morning() -> None:
    assert NIGHT.until(vn(25, 2, 0)) == vn(25, 6, 0)


def test_quiet_hours_within_a_day() -> None:
    assert LUNCH.until(vn(24, 11, 29)) is None
    assert LUNCH.until(vn(24, 11, 30)) == vn(24, 13, 30)
    assert LUNCH.until(vn(24, 13, 30)) is None


def test_quiet_hours_are_local_time_not_utc() -> None:
    # 23:00 UTC is 06:00 in Viet Nam: the night is over there.
    assert NIGHT.until(datetime(2026, 11, 24, 23, 0, tzinfo=UTC)) is None
    # 15:30 UTC is 22:30 in Viet Nam.
    assert NIGHT.until(datetime(2026, 11, 24, 15, 30, tzinfo=UTC)) == vn(25, 6, 0)


def test_equal_ends_are_no_quiet_hours() -> None:
    assert QuietHours(time(8, 0), time(8, 0)).until(vn(24, 8, 0)) is None


def test_quiet_hours_need_both_ends() -> None:
    assert quiet_hours(time(22, 0), None) is None
    assert quiet_hours(None, time(6, 0)) is None
    assert quiet_hours(time(22, 0), time(6, 0)) == NIGHT


def test_release_is_the_moment_itself_outside_quiet_hours() -> None:
    assert release_at(vn(24, 9, 0), NIGHT) == vn(24, 9, 0)
    assert release_at(vn(24, 9, 0), None) == vn(24, 9, 0)
    assert release_at(vn(24, 23, 0), NIGHT) == vn(25, 6, 0)


def test_month_end_quiet_hours_roll_into_the_next_month() -> None:
    assert NIGHT.until(vn(30, 23, 0)) == vn(1, 6, 0, month=12)


@given(
    start=st.times(),
    end=st.times(),
    at=st.datetimes(min_value=datetime(2020, 1, 1), timezones=st.just(UTC)),
)
def test_a_quiet_period_ends_within_a_day_and_outside_quiet_hours(
    start: time, end: time, at: datetime
) -> None:
    quiet = QuietHours(start.replace(microsecond=0), end.replace(microsecond=0))
    ends = quiet.until(at)
    if ends is None:
        return
    assert at < ends <= at + timedelta(days=1)
    assert quiet.until(ends) is None


# Digest window -----------------------------------------------------------------------------------


def test_notifications_of_one_window_fold_into_one_message() -> None:
    first = email_slot("s1", vn(24, 9, 1), 900, None)
    second = email_slot(
        "s1",
        vn(
            24,
            9,
            14,
        ),
        900,
        None,
    )
    assert first == second
    assert first.send_at == vn(24, 9, 15)
    assert first.key == "email:s1:2026-11-24T02:15:00Z"


def test_the_next_window_is_another_message() -> None:
    assert email_slot("s1", vn(24, 9, 15), 900, None).send_at == vn(24, 9, 30)
    assert (
        email_slot("s1", vn(24, 9, 14), 900, None).key
        != email_slot("s1", vn(24, 9, 15), 900, None).key
    )


def test_two_people_never_share_a_message() -> None:
    assert (
        email_slot("s1", vn(24, 9, 1), 900, None).key
        != email_slot("s2", vn(24, 9, 1), 900, None).key
    )


def test_a_window_closing_in_quiet_hours_waits_for_their_end_with_the_whole_night() -> None:
    evening = email_slot("s1", vn(24, 21, 50), 900, NIGHT)
    night = email_slot("s1", vn(25, 3, 10), 900, NIGHT)
    assert evening == night
    assert evening.send_at == vn(25, 6, 0)
    assert evening.key == "email:s1:quiet:2026-11-24T23:00:00Z"


def test_a_window_closing_before_quiet_hours_goes_out() -> None:
    assert email_slot("s1", vn(24, 21, 40), 900, NIGHT).send_at == vn(24, 21, 45)


def test_a_zero_window_sends_each_notification_at_once_on_its_own() -> None:
    slot = email_slot("s1", vn(24, 9, 1), 0, NIGHT)
    assert slot.key is None and slot.send_at == vn(24, 9, 1)


def test_a_zero_window_still_holds_quiet_hours_and_folds_the_night() -> None:
    assert email_slot("s1", vn(24, 23, 0), 0, NIGHT) == email_slot("s1", vn(25, 1, 0), 0, NIGHT)
    assert email_slot("s1", vn(24, 23, 0), 0, NIGHT).send_at == vn(25, 6, 0)


@given(
    at=st.datetimes(min_value=datetime(2020, 1, 1), timezones=st.just(UTC)),
    window=st.integers(min_value=1, max_value=86400),
)
def test_a_window_sends_after_its_notification_and_within_one_window(
    at: datetime, window: int
) -> None:
    slot = email_slot("s", at, window, None)
    assert at < slot.send_at <= at + timedelta(seconds=window)


# Daily digest ------------------------------------------------------------------------------------


def test_before_seven_the_due_digest_is_yesterdays() -> None:
    due = digest_due(vn(24, 6, 59), time(7, 0))
    assert due.day == date(2026, 11, 23)
    assert (due.since, due.until) == (vn(22, 7, 0), vn(23, 7, 0))


def test_from_seven_the_due_digest_is_todays_over_the_last_day() -> None:
    due = digest_due(vn(24, 7, 0), time(7, 0))
    assert due.day == date(2026, 11, 24)
    assert (due.since, due.until) == (vn(23, 7, 0), vn(24, 7, 0))
    assert due.key("sup-1") == "digest:2026-11-24:sup-1"


def test_the_digest_day_is_local_even_when_utc_is_still_yesterday() -> None:
    # 00:30 UTC on the 24th is 07:30 in Viet Nam on the 24th; 23:30 UTC on the 23rd is 06:30.
    assert digest_due(datetime(2026, 11, 24, 0, 30, tzinfo=UTC), time(7, 0)).day == date(
        2026, 11, 24
    )
    assert digest_due(datetime(2026, 11, 23, 23, 30, tzinfo=UTC), time(7, 0)).day == date(
        2026, 11, 23
    )


def signal(
    service: str, record_type: str, kind: str, ward: str | None, province: str
) -> MissedSignal:
    return MissedSignal(service, record_type, kind, ward, province, f"/{service}/{ward}/{kind}")


SIGNALS = [
    signal("intake", "tip", "resolution", "00256", "01"),
    signal("intake", "tip", "resolution", "00004", "01"),
    signal("intake", "tip", "extension_request", "00256", "01"),
    signal("casework", "case", "stage", "03637", "12"),
    signal("victim_support", "victim", "verification", None, "12"),
]


def test_a_supervisor_counts_only_their_jurisdiction() -> None:
    lines, links = digest_lines(SIGNALS, ["01"])
    assert [(x.service, x.record_type, x.deadline_kind, x.count) for x in lines] == [
        ("intake", "tip", "resolution", 2),
        ("intake", "tip", "extension_request", 1),
    ]
    assert len(links) == 3


def test_a_ward_supervisor_counts_their_ward_only() -> None:
    lines, _ = digest_lines(SIGNALS, ["00256"])
    assert sum(x.count for x in lines) == 2


def test_a_signal_without_a_ward_belongs_to_its_province() -> None:
    lines, _ = digest_lines(SIGNALS, ["12"])
    assert {(x.service, x.count) for x in lines} == {("casework", 1), ("victim_support", 1)}


def test_the_steering_committee_counts_the_whole_country() -> None:
    lines, links = digest_lines(SIGNALS, None)
    assert sum(x.count for x in lines) == 5 and len(links) == 5


def test_nothing_in_scope_is_no_line() -> None:
    assert digest_lines(SIGNALS, ["79"]) == ([], [])


# Retries and answers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (250, Outcome.sent),
        (421, Outcome.retry),
        (451, Outcome.retry),
        (452, Outcome.retry),
        (None, Outcome.retry),
        (550, Outcome.failed),
        (553, Outcome.failed),
        (535, Outcome.retry),
        (530, Outcome.retry),
    ],
)
def test_what_an_smtp_reply_means(code: int | None, outcome: Outcome) -> None:
    assert smtp_outcome(code) is outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.sent),
        (204, Outcome.sent),
        (410, Outcome.gone),
        (404, Outcome.retry),
        (500, Outcome.retry),
        (503, Outcome.retry),
        (None, Outcome.retry),
        (301, Outcome.retry),
    ],
)
def test_what_a_webhook_answer_means(status: int | None, outcome: Outcome) -> None:
    assert webhook_outcome(status) is outcome
