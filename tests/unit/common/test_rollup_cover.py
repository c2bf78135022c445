"""Which folded periods a rollup read takes (``libs.common.rollup_reads.cover``): their signed sum
is the period asked, day by day, whatever the bounds, and as few as the grains allow."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from libs.common.rollup_reads import Part, cover
from libs.common.rollups import DAY, MONTH, QUARTER, YEAR

WINDOW = (date(2023, 11, 1), date(2028, 3, 1))  # the days each sum is checked on
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
bounds = st.none() | days


def _holds(part: Part, day: date) -> bool:
    """Whether ``part`` reads a period of its grain that holds ``day``."""
    start = {
        DAY: day,
        MONTH: day.replace(day=1),
        QUARTER: date(day.year, (day.month - 1) // 3 * 3 + 1, 1),
        YEAR: date(day.year, 1, 1),
    }[part.grain]
    return (part.low is None or start >= part.low) and (part.high is None or start < part.high)


def _assert_covers(first: date | None, after: date | None, parts: list[Part]) -> None:
    day = WINDOW[0]
    while day < WINDOW[1]:
        inside = (first is None or day >= first) and (after is None or day < after)
        summed = sum(p.sign for p in parts if _holds(p, day))
        assert summed == int(inside), (first, after, day, parts)
        day += timedelta(days=1)


@given(first=bounds, after=bounds, empty_from=st.none() | days)
def test_the_parts_add_up_to_the_period_day_by_day(
    first: date | None, after: date | None, empty_from: date | None
) -> None:
    if first is not None and after is not None and after < first:
        first, after = after, first
    _assert_covers(first, after, cover(first, after, empty_from=empty_from))


def test_a_year_of_days_already_past_reads_its_first_month_less_its_days_and_one_year() -> None:
    # the national dashboard's year: 2025-12-07 to 2026-12-06, asked on 2026-12-07
    parts = cover(date(2025, 12, 7), date(2026, 12, 7), empty_from=date(2026, 12, 8))
    assert sorted(parts) == sorted(
        [
            Part(MONTH, date(2025, 12, 1), date(2026, 1, 1), 1),
            Part(DAY, date(2025, 12, 1), date(2025, 12, 7), -1),
            Part(YEAR, date(2026, 1, 1), date(2027, 1, 1), 1),
            Part(DAY, date(2026, 12, 7), date(2027, 1, 1), -1),  # only today's rows, if any
        ]
    )


def test_without_empty_days_to_come_the_year_ends_in_its_month_less_its_days() -> None:
    parts = cover(date(2025, 12, 7), date(2026, 12, 7))
    assert Part(YEAR, date(2026, 1, 1), date(2027, 1, 1), 1) in parts
    assert Part(MONTH, date(2026, 12, 1), date(2027, 1, 1), -1) in parts
    assert Part(DAY, date(2026, 12, 1), date(2026, 12, 7), 1) in parts
    assert len(parts) == 5


def test_whole_periods_are_read_at_their_own_grain() -> None:
    assert cover(date(2026, 1, 1), date(2027, 1, 1)) == [
        Part(YEAR, date(2026, 1, 1), date(2027, 1, 1), 1)
    ]
    assert cover(date(2026, 4, 1), date(2026, 10, 1)) == [
        Part(QUARTER, date(2026, 4, 1), date(2026, 10, 1), 1)
    ]
    assert cover(date(2026, 3, 5), date(2026, 3, 9)) == [
        Part(DAY, date(2026, 3, 5), date(2026, 3, 9), 1)
    ]
    assert cover(None, None) == [Part(YEAR, None, None, 1)]


def test_everything_before_a_day_is_its_years_less_the_rest_of_its_month() -> None:
    # the open clocks missed before today: every year to this one's end, less December, plus
    # December's first six days
    assert sorted(cover(None, date(2026, 12, 7))) == sorted(
        [
            Part(YEAR, None, date(2027, 1, 1), 1),
            Part(MONTH, date(2026, 12, 1), date(2027, 1, 1), -1),
            Part(DAY, date(2026, 12, 1), date(2026, 12, 7), 1),
        ]
    )
