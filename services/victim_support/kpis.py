"""The plan's victim figures (DESIGN.md section 10), each with numerator and denominator.

Cohort: people received in the period (and jurisdiction, and ward if asked).
* ``verified_ratio``: received people whose identification was decided / received.
* ``identified_within_deadline_ratio``: decisions taken within 3 days of reception (Art. 27) /
  decisions due, i.e. decided ones plus undecided ones already past the 3 days.
* ``protected_ratio``: identified victims with at least one protection measure / identified.
* ``supported_ratio``: identified victims with needs who received at least one support /
  identified victims with needs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.errors import Forbidden
from libs.common.figures import ratio
from services.victim_support import repository
from services.victim_support.models import Victim
from services.victim_support.schemas import VictimKpis


async def victim_kpis(
    session: AsyncSession,
    principal: Principal,
    *,
    period_from: date | None,
    period_to: date | None,
    ward_code: str | None,
    now: datetime,
) -> VictimKpis:
    if ward_code is not None and not principal.covers(ward_code):
        raise Forbidden("that ward is outside your jurisdiction")
    conditions: list[ColumnElement[bool]] = [repository.victim_scope(principal)]
    if ward_code:
        conditions.append(Victim.ward_code == ward_code)
    if period_from:
        conditions.append(Victim.received_at >= datetime.combine(period_from, time.min, UTC))
    if period_to:
        end = datetime.combine(period_to + timedelta(days=1), time.min, UTC)
        conditions.append(Victim.received_at < end)
    f = await repository.victim_figures(session, conditions, now)
    return VictimKpis(
        period_from=period_from,
        period_to=period_to,
        ward_code=ward_code,
        received=f["received"],
        verified_ratio=ratio(f["decided"], f["received"]),
        identified_within_deadline_ratio=ratio(f["decided_in_time"], f["decided"] + f["overdue"]),
        protected_ratio=ratio(f["protected"], f["identified"]),
        supported_ratio=ratio(f["supported"], f["with_needs"]),
        overdue=f["overdue"],
        by_status=f["by_status"],
        hotspots=f["hotspots"],
    )
