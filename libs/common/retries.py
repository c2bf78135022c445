"""When to try a delivery again: the schedule of Standard Webhooks (5 s, 5 min, 30 min, 2 h,
5 h, 10 h, 10 h) with jitter, and a receiver's ``Retry-After`` when it throttles us. Shared by
interagency's partner webhooks and notifications' e-mail and province gateways."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
THROTTLE_STATUSES = frozenset((429, 503))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)


def retry_after_seconds(status_code: int | None, value: str | None, now: datetime) -> float | None:
    """A receiver's ``Retry-After`` when it throttles (429, 503); None for any other answer."""
    if status_code not in THROTTLE_STATUSES:
        return None
    return parse_retry_after(value, now)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt 1 is at the planned time; after failed attempt ``n`` the next waits
    ``schedule[n-1]`` ± ``jitter`` (so that retries of many deliveries do not arrive in one
    burst); after ``len(schedule) + 1`` attempts the delivery is kept as failed, for an
    administrator to replay. A throttling receiver's ``Retry-After`` lengthens a wait, up to
    ``max_retry_after``, and never shortens it."""

    schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    jitter: float = 0.2
    max_retry_after: float = 36000.0

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def next_delay(
        self,
        attempts_made: int,
        *,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds until the next attempt, or None when the delivery is exhausted."""
        if attempts_made >= self.max_attempts:
            return None
        base = self.schedule[max(attempts_made, 1) - 1]
        delay = base * (1.0 + (rng or random).uniform(-self.jitter, self.jitter))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay
