"""The clock arithmetic of libs/common: what counts as the future, how far back idempotency
records are kept, how long a wrong answer waits. The clock is frozen at ``NOW`` on a server whose
local time is Hà Nội's (UTC+7), so that a rule reading the server's zone instead of UTC fails."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from libs.common import idempotency, schemas
from libs.common.idempotency import retention_cutoff
from libs.common.ratelimit import slowdown
from libs.common.schemas import not_future, utc_moment

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
ICT = timezone(timedelta(hours=7))
# 20:00 UTC on 30 November is already 03:00 on 1 December in Hà Nội.
NOW = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


class FrozenClock(datetime):
    @classmethod
    def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
        if tz is None:  # a naive local time, as on a server set to Hà Nội
            return NOW.astimezone(HANOI).replace(tzinfo=None)
        assert isinstance(tz, timezone | ZoneInfo)
        return NOW.astimezone(tz)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "datetime", FrozenClock)
    monkeypatch.setattr(idempotency, "datetime", FrozenClock)


@pytest.fixture
def server_in_hanoi(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone set to Hà Nội (``astimezone()`` with no argument reads it)."""
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_utc_moment_gives_the_same_instant_in_utc(server_in_hanoi: None) -> None:
    moment = utc_moment(datetime(2026, 11, 1, 8, 0, tzinfo=ICT))
    assert (moment.tzinfo, moment.hour, moment.day) == (UTC, 1, 1)


def test_utc_moment_reads_a_time_without_an_offset_as_vietnam_s() -> None:
    """Viet Nam has one time zone (UTC+7, no daylight saving): 08:00 there is 01:00 UTC."""
    moment = utc_moment(datetime(2026, 11, 1, 8, 0))
    assert moment == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def test_utc_moment_refuses_a_time_that_overflows_in_utc() -> None:
    """9999-12-31 23:00 at UTC-2 is in the year 10000 in UTC, which Python cannot hold."""
    with pytest.raises(ValueError, match=r"^out of range$"):
        utc_moment(datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-2))))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1900, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_utc_moment_accepts_the_first_and_last_moments_of_1900_to_2100(moment: datetime) -> None:
    assert utc_moment(moment) == moment


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2101, 1, 1, 0, 0, tzinfo=UTC),
        # 1 January 1900 at 03:00 in Hà Nội is still 1899 in UTC: the year is the UTC one.
        datetime(1900, 1, 1, 3, 0, tzinfo=ICT),
    ],
)
def test_utc_moment_refuses_a_moment_outside_1900_to_2100(moment: datetime) -> None:
    with pytest.raises(ValueError, match=r"^a time between the years 1900 and 2100$"):
        utc_moment(moment)


def test_utc_moment_in_the_past_accepts_the_present_moment(frozen: None) -> None:
    assert utc_moment(NOW, past=True) == NOW


def test_utc_moment_in_the_past_refuses_a_second_later(frozen: None) -> None:
    with pytest.raises(ValueError, match=r"^must not be in the future$"):
        utc_moment(NOW + timedelta(seconds=1), past=True)


def test_utc_moment_accepts_a_future_moment_unless_asked_for_the_past(frozen: None) -> None:
    later = NOW + timedelta(days=1)
    assert utc_moment(later) == later


def test_not_future_accepts_today_by_the_utc_date(frozen: None) -> None:
    """At 03:00 on 1 December in Hà Nội it is still 30 November in UTC."""
    assert not_future(date(2026, 11, 30)) == date(2026, 11, 30)


def test_not_future_refuses_tomorrow_by_the_utc_date(frozen: None) -> None:
    with pytest.raises(ValueError, match=r"^must not be in the future$"):
        not_future(date(2026, 12, 1))


def test_not_future_lets_no_date_through() -> None:
    assert not_future(None) is None


def test_retention_cutoff_is_that_many_hours_before_the_given_time() -> None:
    given = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert retention_cutoff(48, given) == datetime(2026, 5, 30, 12, 0, tzinfo=UTC)


def test_retention_cutoff_counts_back_from_the_utc_clock_by_default(frozen: None) -> None:
    cutoff = retention_cutoff(24)
    assert (cutoff, cutoff.utcoffset()) == (datetime(2026, 11, 29, 20, 0, tzinfo=UTC), timedelta())


@pytest.mark.parametrize(
    ("failures", "free", "delay"),
    [
        (10, 10, 0.0),  # up to the free budget: nothing
        (11, 10, 0.3),  # one over: a tenth of the way, 3 s x 1/10
        (15, 10, 1.5),  # half-way to twice the budget
        (20, 10, 3.0),  # twice the budget: the bound
        (50, 10, 3.0),  # and no more
        (2, 1, 3.0),  # a budget of one is a budget: twice it is the bound
    ],
)
def test_slowdown_grows_linearly_from_the_free_budget_to_twice_it(
    failures: int, free: int, delay: float
) -> None:
    assert slowdown(failures, free, 3.0) == pytest.approx(delay)


def test_a_plain_date_is_its_midnight_in_vietnam() -> None:
    """A partner's ``"found_at": "2026-11-24"`` is 24 November at 00:00 in Hà Nội."""
    from pydantic import field_validator

    from libs.common.schemas import StrictModel

    class Found(StrictModel):
        found_at: datetime

        _aware = field_validator("found_at")(utc_moment)

    read = Found.model_validate({"found_at": "2026-11-24"})
    assert read.found_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
