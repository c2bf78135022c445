"""The deadline rule of ``libs/common/deadlines.py``, pure: which thresholds are configured, which
are still to signal, when a watch next fires and what it says then. Table-driven cases, then
properties of a watch walked forward in time the way the scan walks it (only when its
``fire_at`` has come), around extensions and month ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.deadlines import (
    DEFAULT_THRESHOLDS,
    MISSED,
    Signal,
    horizon_of,
    next_fire_at,
    passed_when_armed,
    pending,
    signal_due,
    thresholds_from_days,
)
from libs.common.settings import ServiceSettings

DAY = timedelta(days=1)
FIVE, ONE = timedelta(days=5), timedelta(days=1)
T = (FIVE, ONE)
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
PLUS7 = timezone(timedelta(hours=7))
DUE = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)  # 2026-03-31 23:30 +07
US = timedelta(microseconds=1)
PROPERTY = settings(max_examples=200, derandomize=True, deadline=None, database=None)


# Thresholds --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([5, 1], (FIVE, ONE)),
        ([1, 5], (FIVE, ONE)),
        ([1, 5, 5.0, 1], (FIVE, ONE)),
        ([0, -1, 2], (timedelta(days=2),)),
        ([], ()),
        ([0.5], (timedelta(hours=12),)),
        ([1 / 86400], (timedelta(seconds=1),)),
        ([1.6 / 86400], (timedelta(seconds=2),)),
        ([1e-6], ()),  # 0.0864 s: it would be stored as 0 seconds, which means "missed"
        ([0.4 / 86400, 3], (timedelta(days=3),)),
    ],
    ids=[
        "latest-first",
        "sorted",
        "repeats-dropped",
        "zero-and-negative-dropped",
        "none",
        "half-a-day",
        "one-second",
        "whole-seconds",
        "under-a-second-dropped",
        "under-a-second-dropped-others-kept",
    ],
)
def test_thresholds_from_days(days: list[float], expected: tuple[timedelta, ...]) -> None:
    assert thresholds_from_days(days) == expected


def test_the_default_thresholds_are_5_days_and_1_day_and_the_settings_say_so() -> None:
    assert DEFAULT_THRESHOLDS == (FIVE, ONE)
    assert thresholds_from_days(ServiceSettings().deadline_thresholds_days) == DEFAULT_THRESHOLDS


@pytest.mark.parametrize(
    ("days", "expected"),
    [([5, 1], FIVE), ([1, 7, 3], timedelta(days=7)), ([0.5], timedelta(hours=12)), ([], FIVE)],
    ids=["the-first-reminder", "the-largest", "under-a-day", "none-configured-5-days"],
)
def test_the_due_soon_horizon_is_the_first_reminders_threshold(
    days: list[float], expected: timedelta
) -> None:
    """What the dashboard calls due soon is what the officers were first reminded of."""
    assert horizon_of(days) == expected


@PROPERTY
@given(st.lists(st.floats(min_value=-10, max_value=400, allow_nan=False), max_size=8))
def test_configured_thresholds_are_whole_positive_seconds_latest_first(days: list[float]) -> None:
    """A watch keeps the threshold it last signalled as whole seconds, 0 meaning ``missed``: a
    threshold must survive that round trip, and never read back as ``missed``."""
    thresholds = thresholds_from_days(days)
    assert list(thresholds) == sorted(set(thresholds), reverse=True)
    for t in thresholds:
        assert t >= timedelta(seconds=1)
        assert timedelta(seconds=int(t.total_seconds())) == t


# What is still to signal, and when ------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (None, [FIVE, ONE]),
        (FIVE, [ONE]),
        (timedelta(days=3), [ONE]),  # signalled under thresholds configured since
        (ONE, []),
        (MISSED, []),
    ],
    ids=["nothing-yet", "after-5-days", "after-an-old-threshold", "after-1-day", "after-missed"],
)
def test_pending(last: timedelta | None, expected: list[timedelta]) -> None:
    assert pending(T, last) == expected


@pytest.mark.parametrize(
    ("thresholds", "last", "expected"),
    [
        (T, None, DUE - FIVE),
        (T, FIVE, DUE - ONE),
        (T, ONE, DUE),
        (T, MISSED, None),
        ((), None, DUE),
        ((ONE, FIVE), None, DUE - FIVE),  # the earliest first, whatever the order given
    ],
    ids=["first", "second", "the-deadline", "done", "no-thresholds", "unordered"],
)
def test_next_fire_at(
    thresholds: tuple[timedelta, ...], last: timedelta | None, expected: datetime | None
) -> None:
    assert next_fire_at(DUE, thresholds, last) == expected


@pytest.mark.parametrize(
    ("now", "last", "expected"),
    [
        (DUE - FIVE - US, None, None),
        (DUE - FIVE, None, Signal("approaching", FIVE)),
        (DUE - timedelta(days=3), None, Signal("approaching", FIVE)),
        (DUE - timedelta(days=3), FIVE, None),
        (DUE - ONE - US, FIVE, None),
        (DUE - ONE, FIVE, Signal("approaching", ONE)),
        # armed late, or the worker was down: only the nearest threshold is said
        (DUE - ONE, None, Signal("approaching", ONE)),
        (DUE - US, ONE, None),
        (DUE, ONE, Signal("missed", MISSED)),
        (DUE, None, Signal("missed", MISSED)),
        (DUE + timedelta(days=40), FIVE, Signal("missed", MISSED)),
        (DUE + DAY, MISSED, None),
        (DUE - ONE, MISSED, None),
    ],
    ids=[
        "before-the-first",
        "at-5-days",
        "within-5-days",
        "5-days-already-said",
        "just-before-1-day",
        "at-1-day",
        "late-nearest-only",
        "just-before-the-deadline",
        "at-the-deadline",
        "at-the-deadline-nothing-said",
        "long-after",
        "missed-said-once",
        "nothing-after-missed",
    ],
)
def test_signal_due(now: datetime, last: timedelta | None, expected: Signal | None) -> None:
    assert signal_due(now, DUE, T, last) == expected


def test_missed_is_said_at_0_seconds_before_the_deadline() -> None:
    """The contract's ``threshold_seconds`` is 0 for ``missed`` (libs/contracts/deadlines.py),
    and a watch that stored 0 has nothing more to say."""
    assert MISSED == timedelta(0)
    assert signal_due(DUE, DUE, T, ONE) == Signal("missed", timedelta(0))
    assert next_fire_at(DUE, T, timedelta(0)) is None
    assert signal_due(DUE + DAY, DUE, T, timedelta(0)) is None


def test_a_deadline_at_the_end_of_a_month_fires_in_the_days_before_it() -> None:
    """A tip received 2026-01-31 23:30 (+07): 20 days is 20 February 23:30; a complex one's
    2 months end on 31 March 23:30, and the last day to ask for an extension is 26 March."""
    received = datetime(2026, 1, 31, 23, 30, tzinfo=VIETNAM)
    plain = received + timedelta(days=20)
    complex_ = received + relativedelta(months=2)
    assert plain == datetime(2026, 2, 20, 23, 30, tzinfo=PLUS7)
    assert complex_ == DUE
    assert next_fire_at(plain, T, None) == datetime(2026, 2, 15, 23, 30, tzinfo=PLUS7)
    assert next_fire_at(plain, T, FIVE) == datetime(2026, 2, 19, 23, 30, tzinfo=PLUS7)
    ask_by = complex_ - timedelta(days=5)
    assert ask_by == datetime(2026, 3, 26, 23, 30, tzinfo=PLUS7)
    assert next_fire_at(ask_by, T, None) == datetime(2026, 3, 21, 23, 30, tzinfo=PLUS7)
    # 16:30 UTC on the 26th is 23:30 in Hà Nội: the same moment, whichever way it is written
    at = datetime(2026, 3, 26, 16, 30, tzinfo=UTC)
    assert signal_due(at, complex_, T, None) == Signal("approaching", FIVE)
    assert signal_due(at - US, complex_, T, None) is None


# A watch walked forward, as the scan walks it ----------------------------------------------------


@dataclass(frozen=True)
class Said:
    at: datetime
    signal: Signal
    due_at: datetime
    clock: int  # which arming of the watch: a moved deadline is another clock


@dataclass
class Watch:
    """What ``DeadlineWatch`` keeps of one clock, and what its ``arm`` and ``scan`` do to it."""

    thresholds: tuple[timedelta, ...]
    due_at: datetime
    last: timedelta | None = None
    fire_at: datetime | None = None
    clock: int = 0
    said: list[Said] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fire_at = next_fire_at(self.due_at, self.thresholds, None)

    def arm(self, due_at: datetime) -> None:
        if due_at != self.due_at:
            self.due_at, self.last, self.clock = due_at, None, self.clock + 1
            self.fire_at = next_fire_at(due_at, self.thresholds, None)

    def scan(self, now: datetime) -> None:
        if self.fire_at is None or self.fire_at > now:
            return
        signal = signal_due(now, self.due_at, self.thresholds, self.last)
        if signal is not None:
            self.said.append(Said(now, signal, self.due_at, self.clock))
            # kept in whole seconds, as the table keeps it (``last_threshold_seconds``)
            self.last = timedelta(seconds=int(signal.threshold.total_seconds()))
        self.fire_at = next_fire_at(self.due_at, self.thresholds, self.last)
        assert self.fire_at is None or self.fire_at > now, "the scan would take it again"

    def of(self, clock: int) -> list[Said]:
        return [s for s in self.said if s.clock == clock]


def check_one_clock(said: list[Said], thresholds: tuple[timedelta, ...]) -> None:
    """What one clock said: each threshold at most once, nearer and nearer, each once it had
    come and before the deadline; ``missed`` at most once, at or after the deadline, and last."""
    kinds = [s.signal.kind for s in said]
    assert kinds.count("missed") <= 1
    if "missed" in kinds:
        assert kinds[-1] == "missed", "never an approaching after missed"
    told = [s.signal.threshold for s in said if s.signal.kind == "approaching"]
    assert told == sorted(set(told), reverse=True), "each threshold once, the nearest last"
    assert set(told) <= set(thresholds)
    for s in said:
        if s.signal.kind == "missed":
            assert s.at >= s.due_at
        else:
            assert s.due_at - s.signal.threshold <= s.at < s.due_at


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
threshold_days = st.lists(
    st.sampled_from([1e-6, 1.5 / 86400, 0.25, 0.5, 1, 2, 3, 5, 7, 10]), min_size=0, max_size=4
).map(thresholds_from_days)


@PROPERTY
@given(
    armed=moments,
    ahead=st.integers(0, 30 * 24 * 60),
    thresholds=threshold_days,
    steps=st.lists(st.integers(1, 3 * 24 * 60), min_size=1, max_size=60),
)
def test_walking_forward_by_random_steps_says_each_thing_once(
    armed: datetime, ahead: int, thresholds: tuple[timedelta, ...], steps: list[int]
) -> None:
    due = armed + timedelta(minutes=ahead)
    watch = Watch(thresholds, due)
    now = armed
    for step in steps:
        now += timedelta(minutes=step)
        watch.scan(now)
    check_one_clock(watch.said, thresholds)
    missed = [s for s in watch.said if s.signal.kind == "missed"]
    assert len(missed) == (1 if now >= due else 0), "missed exactly once after the deadline"


@settings(max_examples=25, derandomize=True, deadline=None, database=None)
@given(
    armed=moments,
    ahead_minutes=st.integers(6 * 24 * 60, 8 * 24 * 60),
    thresholds=threshold_days.filter(
        lambda t: all(x <= FIVE and x % timedelta(minutes=1) == timedelta(0) for x in t)
    ),
)
def test_walking_minute_by_minute_says_every_threshold_once_on_its_minute(
    armed: datetime, ahead_minutes: int, thresholds: tuple[timedelta, ...]
) -> None:
    """Armed more than 5 days ahead and scanned every minute: every threshold (whole minutes, up
    to 5 days) is said on its minute, then ``missed`` on the deadline's."""
    armed = armed.replace(second=0, microsecond=0)
    due = armed + timedelta(minutes=ahead_minutes)
    watch = Watch(thresholds, due)
    now = armed
    while now <= due + timedelta(minutes=2):
        watch.scan(now)
        now += timedelta(minutes=1)
    expected = [(due - t, Signal("approaching", t)) for t in thresholds]
    expected.append((due, Signal("missed", MISSED)))
    assert [(s.at, s.signal) for s in watch.said] == expected


@PROPERTY
@given(
    armed=moments,
    ahead=st.integers(0, 25 * 24 * 60),
    thresholds=threshold_days,
    moves=st.lists(
        st.tuples(st.integers(1, 5 * 24 * 60), st.integers(-3 * 24 * 60, 60 * 24 * 60)),
        max_size=4,
    ),
    tail=st.lists(st.integers(1, 5 * 24 * 60), min_size=1, max_size=40),
)
def test_re_arming_with_another_deadline_starts_afresh(
    armed: datetime,
    ahead: int,
    thresholds: tuple[timedelta, ...],
    moves: list[tuple[int, int]],
    tail: list[int],
) -> None:
    """Each deadline is a clock of its own: after a move (an extension) a new ``approaching``
    can follow, even after ``missed``; the same deadline again changes nothing; what is said
    after the last move is said of the last deadline only, and ``missed`` once it passes."""
    watch = Watch(thresholds, armed + timedelta(minutes=ahead))
    now = armed
    for wait, shift in moves:
        now += timedelta(minutes=wait)
        watch.scan(now)
        watch.arm(watch.due_at + timedelta(minutes=shift))
    moved_at = now
    for step in tail:
        now += timedelta(minutes=step)
        watch.scan(now)
    for clock in range(watch.clock + 1):
        check_one_clock(watch.of(clock), thresholds)
    assert all(s.clock == watch.clock for s in watch.said if s.at > moved_at)
    final = [s.signal.kind for s in watch.of(watch.clock)]
    assert final.count("missed") == (1 if now >= watch.due_at else 0)


@PROPERTY
@given(armed=moments, ahead=st.integers(0, 10 * 24 * 60), steps=st.lists(st.integers(1, 4000)))
def test_arming_again_with_the_same_deadline_changes_nothing(
    armed: datetime, ahead: int, steps: list[int]
) -> None:
    due = armed + timedelta(minutes=ahead)
    once, again = Watch(T, due), Watch(T, due)
    now = armed
    for step in steps:
        now += timedelta(minutes=step)
        once.scan(now)
        again.arm(due)
        again.scan(now)
    assert again.said == once.said


month_ends = st.builds(
    lambda year, month, day, minute: (
        datetime(year, month, 1, tzinfo=VIETNAM)
        + relativedelta(day=day)
        + timedelta(minutes=minute)
    ),
    st.integers(2024, 2030),
    st.integers(1, 12),
    st.integers(28, 31),
    st.sampled_from([0, 1, 5 * 60, 7 * 60 - 1, 7 * 60, 23 * 60 + 30, 24 * 60 - 1]),
)


def walk_a_tip(
    received: datetime, period: relativedelta, asked_days: int | None, zone: ZoneInfo | timezone
) -> tuple[Watch, Watch]:
    """A tip's two clocks (its resolution, and the last day to ask for an extension, 5 days
    before it) scanned every 6 hours on a clock written in ``zone``; an extension of 2 months is
    granted ``asked_days`` after receipt if that is still in time, moving both."""
    due = received + period
    resolution, request = Watch(T, due), Watch(T, due - FIVE)
    now, end = received.astimezone(zone), due + relativedelta(months=2) + DAY
    asked_at = None if asked_days is None else received + timedelta(days=asked_days)
    while now <= end:
        if asked_at is not None and asked_at <= now <= request.due_at and resolution.clock == 0:
            moved = (due + relativedelta(months=2)).astimezone(UTC)
            resolution.arm(moved)
            request.arm(moved - FIVE)
        resolution.scan(now)
        request.scan(now)
        now += timedelta(hours=6)
    return resolution, request


@PROPERTY
@given(
    received=month_ends,
    period=st.sampled_from([relativedelta(days=20), relativedelta(months=2)]),
    asked_days=st.none() | st.integers(0, 20),
)
def test_a_month_end_deadline_and_its_extension_signal_once_per_clock(
    received: datetime, period: relativedelta, asked_days: int | None
) -> None:
    """Received on the 28th to the 31st near midnight in Hà Nội, with 20 days or 2 months: each
    clock says each threshold once and ``missed`` once; an extension granted in time moves both
    clocks (the last day to ask stays 5 days before the deadline) and both speak again."""
    resolution, request = walk_a_tip(received, period, asked_days, VIETNAM)
    assert resolution.clock == request.clock
    assert request.due_at == resolution.due_at - FIVE
    for watch in (resolution, request):
        for clock in range(watch.clock + 1):
            check_one_clock(watch.of(clock), T)
        assert [s.signal.kind for s in watch.of(watch.clock)][-1:] == ["missed"]
    if resolution.clock:
        assert resolution.due_at == received + period + relativedelta(months=2)
        assert any(s.signal.kind == "approaching" for s in resolution.of(1))


@PROPERTY
@given(
    received=month_ends,
    period=st.sampled_from([relativedelta(days=20), relativedelta(months=2)]),
    asked_days=st.none() | st.integers(0, 20),
)
def test_the_rule_reads_instants_so_utc_and_hanoi_clocks_agree(
    received: datetime, period: relativedelta, asked_days: int | None
) -> None:
    """The workers' clock is UTC and a deadline may be written in +07: the same instants fire."""
    in_utc = walk_a_tip(received, period, asked_days, UTC)
    in_hanoi = walk_a_tip(received, period, asked_days, PLUS7)
    for a, b in zip(in_utc, in_hanoi, strict=True):
        assert [(s.at, s.signal, s.clock) for s in a.said] == [
            (s.at, s.signal, s.clock) for s in b.said
        ]


# Armed inside a threshold ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("armed_before_due", "thresholds", "expected"),
    [
        (10 * DAY, T, None),  # armed before every threshold: each will be said
        (5 * DAY, T, FIVE),  # armed on the 5-day mark: said by nobody, skipped
        (5 * DAY + US, T, None),
        (3 * DAY, T, FIVE),  # a 3-day verification never hears "5 days left"
        (timedelta(hours=12), T, FIVE),  # inside both: the nearest is still said, at once
        (DAY, T, FIVE),
        (-DAY, T, FIVE),  # armed past due: only "missed" is left
        (3 * DAY, (ONE,), None),  # the nearest threshold is never skipped
        (timedelta(hours=1), (ONE,), None),
        (3 * DAY, (), None),
        (3 * DAY, (timedelta(days=7), FIVE, ONE), FIVE),  # the nearest of the skipped ones
        (6 * DAY, (timedelta(days=7), FIVE, ONE), timedelta(days=7)),
    ],
)
def test_thresholds_a_clock_starts_inside_are_skipped_but_the_nearest(
    armed_before_due: timedelta, thresholds: tuple[timedelta, ...], expected: timedelta | None
) -> None:
    assert passed_when_armed(DUE - armed_before_due, DUE, thresholds) == expected


def test_a_three_day_clock_says_one_day_left_then_missed() -> None:
    armed = DUE - 3 * DAY
    last = passed_when_armed(armed, DUE, T)
    assert next_fire_at(DUE, T, last) == DUE - ONE
    assert signal_due(armed, DUE, T, last) is None
    assert signal_due(DUE - ONE, DUE, T, last) == Signal("approaching", ONE)
    assert signal_due(DUE, DUE, T, ONE) == Signal("missed", MISSED)


def test_a_clock_armed_with_hours_left_says_one_day_left_at_once() -> None:
    armed = DUE - timedelta(hours=12)
    last = passed_when_armed(armed, DUE, T)
    assert next_fire_at(DUE, T, last) == DUE - ONE
    assert signal_due(armed, DUE, T, last) == Signal("approaching", ONE)
