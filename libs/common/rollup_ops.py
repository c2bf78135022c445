"""What a service does with its rollups (``libs/common/rollups.py``): the settings, which reads
use them, the worker that folds them, and ``ctip rollups check|fold|backfill``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from libs.common.auth import Principal
from libs.common.context import Context
from libs.common.db import Database
from libs.common.jurisdiction import is_province_code
from libs.common.periodic import Periodic
from libs.common.rollups import Rollup


class RollupSettings(BaseModel):
    """Settings of a service that keeps rollups (mixed into its settings)."""

    kpi_rollups: bool = Field(
        True,
        description="GET /v1/kpis over whole provinces sums the daily rollups (exact, kept by "
        "triggers); false: counts the records again on every request",
    )
    rollup_fold_seconds: float = Field(
        60, gt=0, description="how often the worker folds new rollup rows into day and month rows"
    )


def over_whole_provinces(principal: Principal, ward_code: str | None) -> bool:
    """Whether a figure is read from the rollups: an area of whole provinces (the country, a
    province), where a count would read a year of records. A ward, or a jurisdiction of wards,
    is counted from its few records through the ward indexes."""
    return ward_code is None and all(is_province_code(c) for c in principal.jurisdiction)


def fold_worker(
    rollups: Sequence[Rollup], settings: Any
) -> Callable[[Database, Callable[[Any], Context[Any]]], Periodic | None]:
    """The worker that folds a service's rollups every ``rollup_fold_seconds`` of its
    ``settings`` (a service's, with :class:`RollupSettings`), with the relay (the figures are the
    same before and after: the fold keeps the rows few)."""

    async def fold(ctx: Context[Any]) -> int:
        return sum([await rollup.compact(ctx.session) for rollup in rollups])

    def factory(db: Database, make_context: Callable[[Any], Context[Any]]) -> Periodic | None:
        if not settings.run_relay:
            return None
        return Periodic(
            db, make_context, "rollup fold", fold, interval_seconds=settings.rollup_fold_seconds
        )

    return factory


async def run(action: str, services: list[str], url: str) -> int:
    """``ctip rollups check|fold|backfill``: over the ``ROLLUPS`` of each service's models,
    each in a transaction of its own; ``check`` prints the differences, 1 if there are any."""
    wrong = 0
    db = Database(url, pool_size=1)
    try:
        for service in services:
            models = importlib.import_module(f"services.{service}.models")
            for rollup in getattr(models, "ROLLUPS", ()):
                async with db.sessions() as session, session.begin():
                    if action == "fold":
                        print(f"{rollup.qualified}: {await rollup.compact(session)} rows folded")
                    elif action == "backfill":
                        await rollup.backfill(session)
                        print(f"{rollup.qualified}: rebuilt from a recount")
                    else:
                        differences = await rollup.check(session)
                        wrong += bool(differences)
                        for row in differences[:20]:
                            print(f"{rollup.qualified}: {row}")
                        outcome = f"{len(differences)} differences" if differences else "ok"
                        print(f"{rollup.qualified}: {outcome}")
    finally:
        await db.dispose()
    return 1 if wrong else 0
