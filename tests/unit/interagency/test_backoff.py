"""Delivery outcomes and the retry schedule: backoff with jitter, Retry-After, exhaustion."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from services.interagency.domain import (
    AttemptOutcome,
    RetryPolicy,
    outcome_of,
    parse_retry_after,
)
from services.interagency.settings import SVIX_SCHEDULE, InteragencySettings

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
POLICY = RetryPolicy(schedule=tuple(SVIX_SCHEDULE), jitter=0.2)


def test_the_production_default_is_5s_5m_30m_2h_5h_10h_10h() -> None:
    assert InteragencySettings().retry_schedule_seconds == [
        5,
        300,
        1800,
        2 * 3600,
        5 * 3600,
        10 * 3600,
        10 * 3600,
    ]
    assert POLICY.max_attempts == 8


@pytest.mark.parametrize("attempts_made", range(1, 8))
def test_each_wait_stays_within_the_jitter_of_its_step(attempts_made: int) -> None:
    base = SVIX_SCHEDULE[attempts_made - 1]
    rng = random.Random(attempts_made)
    delays = [POLICY.next_delay(attempts_made, rng=rng) for _ in range(500)]
    assert all(d is not None and base * 0.8 <= d <= base * 1.2 for d in delays)
    assert max(d for d in delays if d is not None) - min(d for d in delays if d is not None) > 0


def test_jitter_spreads_retries_of_many_deliveries() -> None:
    rng = random.Random(7)
    delays = {round(POLICY.next_delay(1, rng=rng) or 0, 3) for _ in range(100)}
    assert len(delays) > 50


def test_after_the_last_step_the_delivery_is_exhausted() -> None:
    assert POLICY.next_delay(7) is not None
    assert POLICY.next_delay(8) is None
    compressed = RetryPolicy(schedule=(0.2, 0.5, 1.0))
    assert compressed.max_attempts == 4
    assert compressed.next_delay(4) is None


def test_without_jitter_the_schedule_is_exact() -> None:
    policy = RetryPolicy(schedule=(5.0, 300.0), jitter=0.0)
    assert policy.next_delay(1) == 5.0
    assert policy.next_delay(2) == 300.0


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_on_throttling_is_honoured(status: int) -> None:
    policy = RetryPolicy(schedule=(5.0, 300.0), jitter=0.0)
    assert policy.next_delay(1, status_code=status, retry_after=120.0) == 120.0


def test_retry_after_never_shortens_the_schedule() -> None:
    policy = RetryPolicy(schedule=(300.0,), jitter=0.0)
    assert policy.next_delay(1, status_code=429, retry_after=1.0) == 300.0


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(schedule=(5.0,), jitter=0.0, max_retry_after=3600.0)
    assert policy.next_delay(1, status_code=503, retry_after=10**9) == 3600.0


def test_retry_after_on_a_plain_500_is_ignored() -> None:
    policy = RetryPolicy(schedule=(5.0,), jitter=0.0)
    assert policy.next_delay(1, status_code=500, retry_after=999.0) == 5.0


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(format_datetime(NOW + timedelta(minutes=2), usegmt=True), NOW) == 120.0
    assert parse_retry_after(format_datetime(NOW - timedelta(minutes=2), usegmt=True), NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, AttemptOutcome.delivered),
        (202, AttemptOutcome.delivered),
        (204, AttemptOutcome.delivered),
        (301, AttemptOutcome.retry),
        (400, AttemptOutcome.retry),
        (401, AttemptOutcome.retry),
        (404, AttemptOutcome.retry),
        (410, AttemptOutcome.gone),
        (429, AttemptOutcome.retry),
        (500, AttemptOutcome.retry),
        (503, AttemptOutcome.retry),
        (None, AttemptOutcome.retry),
    ],
)
def test_outcome_of_each_answer(status: int | None, outcome: AttemptOutcome) -> None:
    assert outcome_of(status) is outcome
