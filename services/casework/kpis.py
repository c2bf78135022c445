"""The plan's casework figures (DESIGN.md section 10), each with numerator and denominator.

* ``initiated_ratio``: substantiated tips verified in the period whose case was initiated /
  substantiated tips verified in the period (from casework's read model of intake's events).
* ``indicted_ratio``: cases initiated in the period that were indicted / cases initiated.
* ``tried_ratio``: cases indicted in the period with a verdict (convicted or acquitted) /
  cases indicted. A file returned for investigation is not yet tried.
* ``trials``: trials scheduled in the period by type (standard, mobile, model).
* ``overdue``: open cases past their stage deadline now.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.errors import Forbidden
from libs.common.figures import day_start, ratio
from services.casework import repository
from services.casework.schemas import CaseworkKpis


async def casework_kpis(
    session: AsyncSession,
    principal: Principal,
    *,
    period_from: date | None,
    period_to: date | None,
    ward_code: str | None,
    now: datetime,
) -> CaseworkKpis:
    if ward_code is not None and not principal.covers(ward_code):
        raise Forbidden("that ward is outside your jurisdiction")
    start = day_start(period_from) if period_from else None
    end = day_start(period_to + timedelta(days=1)) if period_to else None
    scope = repository.case_scope(principal)
    counts = await repository.case_figures(session, scope, (start, end), ward_code, now)
    substantiated, initiated = await repository.substantiated_tip_figures(
        session, principal, (start, end), ward_code
    )
    trials = {"standard": 0, "mobile": 0, "model": 0, **counts["trials"]}
    return CaseworkKpis(
        period_from=period_from,
        period_to=period_to,
        ward_code=ward_code,
        cases_opened=counts["opened"],
        initiated_ratio=ratio(initiated, substantiated),
        indicted_ratio=ratio(counts["initiated_then_indicted"], counts["initiated"]),
        tried_ratio=ratio(counts["indicted_then_tried"], counts["indicted"]),
        trials=trials,
        overdue=counts["overdue"],
        hotspots=await repository.case_hotspots(session, scope, start, end, ward_code),
    )
