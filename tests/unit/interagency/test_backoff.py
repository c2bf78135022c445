"""Delivery outcomes, and the retry schedule partners get (the schedule itself is
``libs/common/retries.py``, tested in tests/unit/common/test_retries.py)."""

from __future__ import annotations

import pytest

from services.interagency.domain import AttemptOutcome, outcome_of
from services.interagency.settings import InteragencySettings


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
    assert InteragencySettings().retry_policy().max_attempts == 8


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
