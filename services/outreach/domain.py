"""Outreach rules: the plan's 75% target, and how a ward's reach and coverage are counted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

TARGET = 0.75


class ActivityKind(StrEnum):
    meeting = "meeting"
    school_session = "school_session"
    household_visit = "household_visit"
    leaflet = "leaflet"
    broadcast = "broadcast"
    loudspeaker = "loudspeaker"
    social_media = "social_media"
    other = "other"


MASS_MEDIA = frozenset(
    {ActivityKind.broadcast, ActivityKind.loudspeaker, ActivityKind.social_media}
)


class CommendationLevel(StrEnum):
    ward = "ward"
    province = "province"
    ministry = "ministry"
    national = "national"


@dataclass(frozen=True)
class Reach:
    kind: ActivityKind
    people: int


def reached(activities: Iterable[Reach]) -> int:
    """Direct contacts add up; mass media counts once, its largest audience. The database
    applies the same rule to a period's activities (``repository.ward_reach``: one row per ward;
    over whole provinces ``figures_repository.rolled_up_ward_reach``); integration tests draw
    activities at random and hold the rule, the count and the rollups equal."""
    direct = 0
    mass = 0
    for a in activities:
        if a.kind in MASS_MEDIA:
            mass = max(mass, a.people)
        else:
            direct += a.people
    return direct + mass


@dataclass(frozen=True)
class Coverage:
    reached: int
    population: int | None

    @property
    def counted(self) -> int:
        """Reach capped at the population: coverage never exceeds 100%."""
        if self.population is None:
            return self.reached
        return min(self.reached, self.population)

    @property
    def ratio(self) -> float | None:
        if not self.population:
            return None
        return round(self.counted / self.population, 4)

    @property
    def meets_target(self) -> bool | None:
        ratio = self.ratio
        return None if ratio is None else ratio >= TARGET


def coverage(activities: Iterable[Reach], population: int | None) -> Coverage:
    """``min(population, Σ direct-contact reach + max mass-media reach)`` over ``population``."""
    return Coverage(reached(activities), population)


def quarter(period: str) -> tuple[date, date]:
    """``2026-Q3`` → (2026-07-01, 2026-09-30); ``2026`` → the whole year."""
    text = period.strip().upper()
    if len(text) == 4 and text.isdigit():
        year = int(text)
        return date(year, 1, 1), date(year, 12, 31)
    year_text, _, q = text.partition("-Q")
    if not (len(year_text) == 4 and year_text.isdigit() and q in {"1", "2", "3", "4"}):
        raise ValueError("period is a year (2026) or a quarter (2026-Q3)")
    year, n = int(year_text), int(q)
    start = date(year, 3 * n - 2, 1)
    end = date(year + 1, 1, 1) if n == 4 else date(year, 3 * n + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)
