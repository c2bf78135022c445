"""Coverage arithmetic: reach is counted once per audience and never exceeds the population."""

from __future__ import annotations

from datetime import date

import pytest

from services.outreach.domain import ActivityKind as K
from services.outreach.domain import Reach, coverage, quarter, reached


@pytest.mark.parametrize(
    ("activities", "expected"),
    [
        ([], 0),
        ([Reach(K.meeting, 120)], 120),
        ([Reach(K.meeting, 120), Reach(K.school_session, 300)], 420),
        ([Reach(K.broadcast, 5000), Reach(K.broadcast, 4000)], 5000),
        ([Reach(K.loudspeaker, 800), Reach(K.social_media, 2000)], 2000),
        ([Reach(K.meeting, 100), Reach(K.broadcast, 900), Reach(K.loudspeaker, 1000)], 1100),
        ([Reach(K.household_visit, 0), Reach(K.leaflet, 50)], 50),
    ],
)
def test_direct_contacts_add_up_and_mass_media_counts_its_largest_audience(
    activities: list[Reach], expected: int
) -> None:
    assert reached(activities) == expected


# The two natures of an activity in the coverage rule: direct contacts reach their own audience
# each time; mass media reach the same residents again and again.
DIRECT_CONTACT = (K.meeting, K.school_session, K.household_visit, K.leaflet, K.other)
MASS_MEDIA = (K.broadcast, K.loudspeaker, K.social_media)


def test_every_activity_kind_is_either_direct_contact_or_mass_media() -> None:
    assert sorted(DIRECT_CONTACT + MASS_MEDIA) == sorted(K)


def test_the_activity_kinds_are_the_contract_s() -> None:
    """The kinds the API and its events accept: adding or renaming one changes the contract."""
    assert sorted(k.value for k in K) == [
        "broadcast",
        "household_visit",
        "leaflet",
        "loudspeaker",
        "meeting",
        "other",
        "school_session",
        "social_media",
    ]


@pytest.mark.parametrize("kind", DIRECT_CONTACT, ids=str)
def test_two_direct_contacts_of_one_kind_add_up(kind: K) -> None:
    assert reached([Reach(kind, 300), Reach(kind, 200)]) == 500


@pytest.mark.parametrize("kind", MASS_MEDIA, ids=str)
def test_two_mass_media_activities_of_one_kind_count_the_larger_audience(kind: K) -> None:
    assert reached([Reach(kind, 300), Reach(kind, 200)]) == 300


@pytest.mark.parametrize("kind", MASS_MEDIA, ids=str)
def test_a_mass_media_audience_is_added_once_to_the_direct_contacts(kind: K) -> None:
    assert reached([Reach(K.leaflet, 40), Reach(kind, 300), Reach(kind, 200)]) == 340


@pytest.mark.parametrize(
    ("activities", "population", "ratio", "meets"),
    [
        ([Reach(K.meeting, 750)], 1000, 0.75, True),
        ([Reach(K.meeting, 749)], 1000, 0.749, False),
        ([Reach(K.meeting, 3000)], 1000, 1.0, True),  # over-reach is capped at 100%
        ([Reach(K.broadcast, 900), Reach(K.broadcast, 900)], 1000, 0.9, True),
        ([Reach(K.meeting, 10)], 0, None, None),  # zero population: no ratio
        ([Reach(K.meeting, 10)], None, None, None),  # unknown population: no ratio
        ([], 1000, 0.0, False),
    ],
)
def test_coverage_ratio_and_the_75_percent_target(
    activities: list[Reach], population: int | None, ratio: float | None, meets: bool | None
) -> None:
    result = coverage(activities, population)
    assert result.ratio == ratio
    assert result.meets_target is meets


def test_counted_reach_never_exceeds_the_population() -> None:
    assert coverage([Reach(K.meeting, 5000)], 1200).counted == 1200


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_periods_are_quarters_or_years(period: str, start: date, end: date) -> None:
    assert quarter(period) == (start, end)


@pytest.mark.parametrize(
    "period",
    ["2026-Q5", "2026-Q0", "Q3-2026", "26-Q1", "", "2026-Q", "20261", "ABCD", "2026-Q3-Q3"],
)
def test_other_periods_are_refused_saying_what_a_period_is(period: str) -> None:
    with pytest.raises(ValueError, match=r"^period is a year \(2026\) or a quarter \(2026-Q3\)$"):
        quarter(period)
