"""When a delivery is tried again (``libs/common/retries.py``), for partners' webhooks and
notifications' e-mail and gateways alike: the Standard Webhooks schedule with jitter, exhaustion,
and a throttling receiver's ``Retry-After``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from libs.common.retries import (
    DEFAULT_RETRY_SCHEDULE,
    THROTTLE_STATUSES,
    RetryPolicy,
    parse_retry_after,
    retry_after_seconds,
)

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
POLICY = RetryPolicy(jitter=0.2)


def test_the_default_is_5s_5m_30m_2h_5h_10h_10h_then_failed() -> None:
    assert DEFAULT_RETRY_SCHEDULE == (5, 300, 1800, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
    assert POLICY.schedule == DEFAULT_RETRY_SCHEDULE
    assert POLICY.max_attempts == 8
    assert RetryPolicy().jitter == 0.2
    assert RetryPolicy().max_retry_after == 36000.0
    assert THROTTLE_STATUSES == {429, 503}


@pytest.mark.parametrize("attempts_made", range(1, 8))
def test_each_wait_stays_within_the_jitter_of_its_step(attempts_made: int) -> None:
    base = DEFAULT_RETRY_SCHEDULE[attempts_made - 1]
    rng = random.Random(attempts_made)
    delays = [POLICY.next_delay(attempts_made, rng=rng) for _ in range(500)]
    assert all(d is not None and base * 0.8 <= d <= base * 1.2 for d in delays)
    assert max(d for d in delays if d) > base * 1.15 and min(d for d in delays if d) < base * 0.85
    assert len({round(d or 0, 6) for d in delays}) > 100, "the jitter spreads the retries"


def test_after_the_last_step_the_delivery_is_exhausted() -> None:
    assert POLICY.next_delay(7) is not None
    assert POLICY.next_delay(8) is None
    assert POLICY.next_delay(9) is None
    compressed = RetryPolicy(schedule=(0.2, 0.5, 1.0))
    assert compressed.max_attempts == 4
    assert compressed.next_delay(3) is not None and compressed.next_delay(4) is None


def test_without_jitter_the_schedule_is_exact_and_attempt_zero_waits_the_first_step() -> None:
    policy = RetryPolicy(schedule=(5.0, 300.0), jitter=0.0)
    assert policy.next_delay(0) == 5.0
    assert policy.next_delay(1) == 5.0
    assert policy.next_delay(2) == 300.0
    assert policy.next_delay(3) is None


def test_retry_after_lengthens_a_wait_up_to_its_cap_and_never_shortens_it() -> None:
    policy = RetryPolicy(schedule=(5.0,), jitter=0.0, max_retry_after=600.0)
    assert policy.next_delay(1, retry_after=90.0) == 90.0
    assert policy.next_delay(1, retry_after=1.0) == 5.0
    assert policy.next_delay(1, retry_after=99999.0) == 600.0
    assert policy.next_delay(1, retry_after=None) == 5.0
    assert policy.next_delay(2, retry_after=90.0) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("  120 ", 120.0),
        ("0", 0.0),
        ("Fri, 04 Dec 2026 10:02:00 GMT", 120.0),
        ("Fri, 04 Dec 2026 09:00:00 GMT", 0.0),
        ("Fri, 04 Dec 2026 10:00:30", 30.0),  # no zone: read as UTC
        ("soon", None),
        ("-5", None),
        ("١٢", None),  # digits, but not ASCII ones
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_an_http_date_counts_from_now() -> None:
    assert parse_retry_after(format_datetime(NOW + timedelta(minutes=2), usegmt=True), NOW) == 120
    assert parse_retry_after(format_datetime(NOW - timedelta(minutes=2), usegmt=True), NOW) == 0


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, 120.0), (503, 120.0), (500, None), (200, None), (410, None), (None, None)],
)
def test_retry_after_counts_on_throttling_answers_only(
    status: int | None, expected: float | None
) -> None:
    assert retry_after_seconds(status, "120", NOW) == expected
    assert retry_after_seconds(status, None, NOW) is None
