"""Rate limits for guessing (shared through PostgreSQL) and flooding (in process) on public
endpoints.

Why PostgreSQL: limits held in each process's memory give an attacker N times the budget with N
API replicas, and forget everything at a restart. A row per (bucket, client) in the service's
own schema holds across processes and replicas; each counted event is one indexed upsert.

Why a keyed hash: no IP address of an anonymous reporter may be stored. A row holds only an HMAC
(the blind-index key) of the client key, and lives only as long as its window: expired rows are
reset in place by the next upsert and deleted by a purge at most once a minute per process.

Why /64: one IPv6 subscriber usually gets a whole /64 (often far more), so a client keyed by its
full address could walk through 2^64 identities. A site often gets a /48 (65,536 /64s), so the
/48 has a wider budget of its own (``site_key``). IPv4 clients are keyed by their address, IPv4
mapped into IPv6 as IPv4.

Why a drip, not a window: a budget is a bucket of ``limit`` events that refills one event every
``window / limit`` seconds (GCRA: a row keeps the moment the bucket will be full again). A client
may spend the whole bucket at once, then one event per interval: never more than ``limit`` in any
window-long span, as a fixed window promised, but a refused client waits one interval (90 s for
10 wrong receipt codes in 15 minutes), not what is left of a window. A resident who mistyped their
receipt code until refused types it again a minute and a half later and is let in; a guesser still
gets ``limit`` codes per window and no more.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import os
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    case,
    delete,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.crypto import BlindIndex
from libs.common.errors import TooManyRequests

_PURPOSE = "rate-limit"
UNPARSED = "unparsed"


def network_key(address: str) -> str:
    """The identity a limit counts: an IPv4 address, or the /64 holding an IPv6 address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNPARSED
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def site_key(client: str) -> str | None:
    """The /48 holding an IPv6 client's /64 (one site's allocation: 65,536 /64s), which gets a
    wider budget of its own; None for an IPv4 client."""
    try:
        network = ipaddress.ip_network(client)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen == 64:
        return str(network.supernet(new_prefix=48))
    return None


def client_key(request: Request, *, trust_forwarded_for: bool = False) -> str:
    """The caller's network (see :func:`network_key`); ``X-Forwarded-For`` only when a trusted
    proxy (our gateway) sets it."""
    address = request.client.host if request.client else ""
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            address = forwarded.split(",")[0]
    return network_key(address)


def rate_limit_table(metadata: MetaData) -> Table:
    return Table(
        "rate_limits",
        metadata,
        Column("bucket", String(40), primary_key=True),
        Column("client", String(32), primary_key=True, comment="HMAC of the client key"),
        Column("hits", Integer, nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Index(f"ix_{metadata.schema}_rate_limits_expires_at", "expires_at"),
    )


@dataclass(frozen=True)
class Budget:
    """``limit`` events per ``window_seconds`` in ``bucket``: a burst of ``limit``, then one
    event every ``interval_seconds``."""

    bucket: str
    limit: int
    window_seconds: int

    @property
    def interval_seconds(self) -> float:
        return self.window_seconds / max(self.limit, 1)

    @property
    def burst_seconds(self) -> float:
        """How far ahead of now a client's full-again moment may be while it may still act."""
        return self.window_seconds - self.interval_seconds if self.limit > 0 else -1.0


_TOLERANCE_SECONDS = 0.001  # not a rule: the database keeps microseconds, an interval rounds


def slowdown(failures: int, free: int, max_seconds: float) -> float:
    """How long a wrong answer waits under global pressure: nothing up to ``free`` failures in
    the window, then growing linearly with the excess, reaching ``max_seconds`` at twice ``free``
    and staying there. It slows a distributed guesser without refusing anyone."""
    if failures <= free or free <= 0:
        return 0.0
    return min(max_seconds, max_seconds * (failures - free) / free)


class SharedLimiter:
    """Budgets kept in ``table`` (see :func:`rate_limit_table`), keyed by an HMAC of the client."""

    PURGE_EVERY_SECONDS = 60.0

    def __init__(self, table: Table, index: BlindIndex) -> None:
        self.table = table
        self._index = index
        self._last_purge = -math.inf

    def _client(self, raw: str) -> str:
        return self._index.digest(_PURPOSE, raw)

    async def check(self, engine: AsyncEngine, *checked: tuple[Budget, str]) -> None:
        """429 with ``Retry-After`` (until the next event drips back in) when any (budget,
        client) has its bucket empty (one query for all of them)."""
        t = self.table
        budgets = {(b.bucket, self._client(raw)): b for b, raw in checked}
        query = select(
            t.c.bucket,
            t.c.client,
            func.extract("epoch", t.c.expires_at - func.now()).label("left"),
        ).where(tuple_(t.c.bucket, t.c.client).in_(list(budgets)), t.c.expires_at > func.now())
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        waits = [
            float(row.left) - budget.burst_seconds
            for row in rows
            if float(row.left)
            > (budget := budgets[(row.bucket, row.client)]).burst_seconds + _TOLERANCE_SECONDS
        ]
        if waits:
            raise TooManyRequests(
                "too many attempts; try again later",
                headers={"Retry-After": str(max(1, math.ceil(max(waits))))},
            )

    async def hit(self, engine: AsyncEngine, *counted: tuple[Budget, str]) -> dict[str, int]:
        """Take one event out of each (budget, client)'s bucket in one statement, committed on its
        own (a refused request's rollback must not undo it): the moment it is full again moves
        one interval later. Returns, per bucket, the events it is short of full (about the
        events of the last window)."""
        t = self.table
        rows = [
            {
                "bucket": budget.bucket,
                "client": self._client(raw),
                "hits": 1,
                "expires_at": func.now() + literal(timedelta(seconds=budget.interval_seconds)),
            }
            for budget, raw in counted
        ]
        values = insert(t).values(rows)
        expired = t.c.expires_at <= func.now()
        interval = values.excluded.expires_at - func.now()  # now() is the transaction's
        upsert = values.on_conflict_do_update(
            index_elements=[t.c.bucket, t.c.client],
            set_={
                "hits": case((expired, 1), else_=t.c.hits + 1),
                "expires_at": func.greatest(t.c.expires_at, func.now()) + interval,
            },
        ).returning(t.c.bucket, func.extract("epoch", t.c.expires_at - func.now()).label("left"))
        intervals = {budget.bucket: budget.interval_seconds for budget, _ in counted}
        async with engine.begin() as conn:
            counts = {
                row.bucket: math.ceil(float(row.left) / intervals[row.bucket] - 1e-6)
                for row in await conn.execute(upsert)
            }
            if time.monotonic() - self._last_purge >= self.PURGE_EVERY_SECONDS:
                self._last_purge = time.monotonic()
                await conn.execute(delete(t).where(t.c.expires_at < func.now()))
        return counts


class SlidingWindow:
    """In-process sliding windows, for flooding limits that guard no secret (anonymous filings):
    only an HMAC of the key with a random per-process salt is held, in memory, for the window.
    With N replicas the budget is N times larger, which for flooding is acceptable."""

    def __init__(self, limit: int, window_seconds: float, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._salt = os.urandom(16)
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _key(self, raw: str) -> str:
        return hmac.new(self._salt, raw.encode(), hashlib.sha256).hexdigest()[:24]

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = deque()
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def check(self, raw: str) -> None:
        """429 with ``Retry-After`` when ``raw`` has used up its budget in the window."""
        now = time.monotonic()
        hits = self._recent(self._key(raw), now)
        if len(hits) >= self.limit:
            retry = max(1, int(hits[0] + self.window - now) + 1)
            raise TooManyRequests(
                "too many attempts; try again later", headers={"Retry-After": str(retry)}
            )

    def hit(self, raw: str) -> None:
        now = time.monotonic()
        self._recent(self._key(raw), now).append(now)
