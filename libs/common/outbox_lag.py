"""How far behind an outbox's relay is, read at a cost that does not grow with the backlog.

A ``count(*)`` and ``min(created_at)`` over every unpublished row walks the whole backlog: after
an hour's Kafka outage (100,000 rows) that is tens of milliseconds each time the relay reports,
and the relay reports while it drains. Here every figure comes from a bounded walk of the
relay's own partial index (``ix_outbox_unpublished``, on ``seq`` where ``published_at IS
NULL``) or of the primary key:

* the head of the queue: the first unpublished row in ``seq`` order (``LIMIT 1``), the row the
  relay publishes next; its age is the lag;
* the count, walked no further than ``COUNT_CAP`` rows: exact below it, "at least" at it;
* the ``seq`` span from the head to the newest row: the relay publishes in ``seq`` order, so
  every row past the head is unpublished save identity gaps (rolled-back inserts) and a row
  that committed late; an upper bound, and the figure reported once the count is capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

COUNT_CAP = 10_000


@dataclass(frozen=True)
class OutboxLag:
    head_created_at: datetime | None
    """When the first unpublished row (in ``seq`` order) was written; None: nothing pending."""
    counted: int
    """Unpublished rows counted, at most ``COUNT_CAP``."""
    seq_span: int
    """Rows from the head to the newest ``seq``: an upper bound of the pending rows."""
    cap: int = COUNT_CAP

    @property
    def capped(self) -> bool:
        """The count stopped at the cap: there are at least ``counted`` rows pending."""
        return self.counted >= self.cap

    @property
    def pending(self) -> int:
        """The exact count below the cap, the ``seq`` span (an upper bound) above it."""
        return max(self.counted, self.seq_span) if self.capped else self.counted

    def age_seconds(self, now: datetime | None = None) -> float:
        if self.head_created_at is None:
            return 0.0
        return max(0.0, ((now or datetime.now(UTC)) - self.head_created_at).total_seconds())


def lag_query(table: Table, cap: int = COUNT_CAP) -> Select[datetime, int, int]:
    """One statement, three bounded subqueries (see the module's docstring); no row when
    nothing is pending."""
    unpublished = table.c.published_at.is_(None)
    head = (
        select(table.c.seq, table.c.created_at)
        .where(unpublished)
        .order_by(table.c.seq)
        .limit(1)
        .subquery("head")
    )
    counted = select(table.c.seq).where(unpublished).limit(cap).subquery("counted")
    newest = select(func.max(table.c.seq)).scalar_subquery()
    return select(
        head.c.created_at,
        select(func.count()).select_from(counted).scalar_subquery(),
        func.coalesce(newest - head.c.seq + 1, 0),
    ).select_from(head)


async def outbox_lag(session: AsyncSession, table: Table, cap: int = COUNT_CAP) -> OutboxLag:
    row = (await session.execute(lag_query(table, cap))).first()
    if row is None:  # no head: nothing pending
        return OutboxLag(head_created_at=None, counted=0, seq_span=0, cap=cap)
    created_at, counted, span = row
    return OutboxLag(head_created_at=created_at, counted=counted, seq_span=span, cap=cap)
