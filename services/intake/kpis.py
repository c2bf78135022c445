"""The plan's intake figures (DESIGN.md section 10), each with its numerator and denominator.

* ``classified_ratio``: tips received in the period that were classified / tips received.
* ``verified_ratio``: tips received in the period whose verification finished / tips received.
* ``resolved_within_deadline_ratio``: tips resolved on or before their (possibly extended)
  deadline / tips whose outcome is due, i.e. resolved ones plus open ones already overdue. Open
  tips still within their deadline are not yet counted either way.
* ``overdue`` and ``due_soon`` are counts of open tips now, whatever the period.

Tips filed without a ward count in the triage province (``CTIP_INTAKE_TRIAGE_PROVINCE``) until
triage places them in a ward.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.errors import Forbidden
from libs.common.figures import ratio
from libs.common.scoping import jurisdiction_clause
from services.intake import repository
from services.intake.models import MissingPerson, Tip
from services.intake.schemas import IntakeKpis


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def intake_kpis(
    session: AsyncSession,
    principal: Principal,
    *,
    period_from: date | None,
    period_to: date | None,
    ward_code: str | None,
    now: datetime,
    triage_province: str | None = None,
) -> IntakeKpis:
    if ward_code is not None and not principal.covers(ward_code):
        raise Forbidden("that ward is outside your jurisdiction")
    where: ColumnElement[bool] = jurisdiction_clause(
        principal, Tip.incident_ward_code, Tip.province_code
    )
    if repository.unlocated_counted_by(principal, triage_province):
        where = or_(where, Tip.incident_ward_code.is_(None))
    area: list[ColumnElement[bool]] = [where]
    mp_conditions: list[ColumnElement[bool]] = [repository.missing_person_scope(principal)]
    if ward_code:
        area.append(Tip.incident_ward_code == ward_code)
        mp_conditions.append(MissingPerson.last_seen_ward_code == ward_code)
    tip_conditions = list(area)
    if period_from:
        tip_conditions.append(Tip.received_at >= _start(period_from))
        mp_conditions.append(MissingPerson.reported_at >= _start(period_from))
    if period_to:
        end = _start(period_to + timedelta(days=1))
        tip_conditions.append(Tip.received_at < end)
        mp_conditions.append(MissingPerson.reported_at < end)

    counts = await repository.tip_figures(session, tip_conditions, now)
    # The deadline picture is of now, whatever the period: every open tip in the area.
    open_now = await repository.tip_figures(session, area, now)
    hotspots = await repository.tip_hotspots(session, tip_conditions)
    reported, still_open = await repository.missing_person_figures(session, mp_conditions)
    received = counts["received"]
    return IntakeKpis(
        period_from=period_from,
        period_to=period_to,
        ward_code=ward_code,
        tips_received=received,
        classified_ratio=ratio(counts["classified"], received),
        verified_ratio=ratio(counts["verified"], received),
        resolved_within_deadline_ratio=ratio(
            counts["on_time"], counts["resolved"] + counts["overdue"]
        ),
        overdue=open_now["overdue"],
        due_soon=open_now["due_soon"],
        missing_persons_reported=reported,
        missing_persons_open=still_open,
        hotspots=hotspots,
    )
