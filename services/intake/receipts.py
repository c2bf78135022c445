"""Receipts: the code a reporter keeps, what they read and write through it, and the limits that
keep the public endpoints from being flooded or the codes from being guessed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Gauge

from libs.common.auth import Principal
from libs.common.crypto import BlindIndex
from libs.common.db import Database
from libs.common.errors import NotFound, TooManyRequests
from libs.common.ids import new_id
from libs.common.ratelimit import (
    Budget,
    SharedLimiter,
    SlidingWindow,
    client_key,
    site_key,
    slowdown,
)
from services.intake import domain, repository
from services.intake.access import Ctx
from services.intake.filing_rows import NewReceipt
from services.intake.models import Message, Tip, rate_limits
from services.intake.schemas import MessageOut, ReceiptView
from services.intake.settings import IntakeSettings

RECEIPT_DIGITS = 16
TO_REPORTER = "to_reporter"
FROM_REPORTER = "from_reporter"
GLOBAL = "*"


def new_receipt_code() -> str:
    """16 random decimal digits (10^16 codes, each as likely) from the OS CSPRNG: one draw, not
    one per digit."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def receipt_hash(index: BlindIndex, code: str) -> str:
    return index.digest("receipt", code)


def new_receipt(ctx: Ctx, kind: str, subject_id: UUID) -> tuple[str, NewReceipt]:
    """The code, shown once, and the row that keeps only its keyed hash."""
    code = new_receipt_code()
    return code, NewReceipt(receipt_hash(ctx.index, code), kind, subject_id)


def touch(tip: Tip, ctx: Ctx) -> None:
    tip.version += 1
    tip.updated_at = ctx.now


async def add_message(
    ctx: Ctx, kind: str, subject_id: UUID, direction: str, body: str
) -> MessageOut:
    author = None if direction == FROM_REPORTER else ctx.sub
    message = Message(
        id=new_id(),
        subject_kind=kind,
        subject_id=subject_id,
        direction=direction,
        body=body,
        author=author,
        created_at=ctx.now,
    )
    await repository.save(ctx.session, message)
    return MessageOut.model_validate(message)


async def receipt_view(ctx: Ctx, code: str) -> ReceiptView | None:
    receipt = await repository.receipt_by_hash(ctx.session, receipt_hash(ctx.index, code))
    if receipt is None:
        return None
    messages = await repository.messages_of(ctx.session, receipt.subject_kind, receipt.subject_id)
    if receipt.subject_kind == "tip":
        tip = await repository.get_tip(ctx.session, receipt.subject_id)
        assert tip is not None
        status, received = tip.status, tip.received_at
    else:
        mp = await repository.get_missing_person(ctx.session, receipt.subject_id)
        assert mp is not None
        status, received = mp.status, mp.reported_at
    return ReceiptView(
        kind=receipt.subject_kind,
        status=status,
        received_at=received,
        messages=[MessageOut.model_validate(m) for m in messages],
    )


async def add_reporter_message(ctx: Ctx, code: str, body: str) -> MessageOut | None:
    receipt = await repository.receipt_by_hash(ctx.session, receipt_hash(ctx.index, code))
    if receipt is None:
        return None
    if receipt.subject_kind == "tip":
        tip = await repository.get_tip(ctx.session, receipt.subject_id, for_update=True)
        assert tip is not None
        domain.TIP_LIFECYCLE.take(domain.TipStatus(tip.status), domain.TipAction.reporter_message)
        touch(tip, ctx)
    return await add_message(ctx, receipt.subject_kind, receipt.subject_id, FROM_REPORTER, body)


# The guards of the public endpoints --------------------------------------------------------------

# What operators watch for a guessing campaign: every wrong code, every refusal, and the wait
# wrong answers get now.
RECEIPT_FAILURES = Counter(
    "ctip_intake_receipt_failures_total", "Wrong receipt codes (lookups and messages)"
)
RECEIPT_REFUSED = Counter(
    "ctip_intake_receipt_refused_total", "Receipt requests refused by a client's or site's budget"
)
RECEIPT_SLOWDOWN = Gauge(
    "ctip_intake_receipt_slowdown_seconds", "Wait of the latest wrong receipt answer"
)


@dataclass
class Limits:
    """The public endpoints' guards, one set per app: receipt budgets shared by every replica in
    PostgreSQL, the filing flood limit per process. Global pressure only slows wrong answers."""

    limiter: SharedLimiter
    receipt_per_client: Budget
    receipt_per_site: Budget
    receipt_global: Budget
    filings: SlidingWindow
    slowdown_max_seconds: float
    trust_forwarded_for: bool
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def from_settings(cls, settings: IntakeSettings, index: BlindIndex) -> Limits:
        window = settings.receipt_window_seconds
        return cls(
            limiter=SharedLimiter(rate_limits, index),
            receipt_per_client=Budget("receipt", settings.receipt_failures_per_client, window),
            receipt_per_site=Budget(
                "receipt_site", settings.receipt_failures_per_ipv6_site, window
            ),
            receipt_global=Budget("receipt_global", settings.receipt_failures_global, window),
            filings=SlidingWindow(settings.anonymous_filings_per_hour, 3600),
            slowdown_max_seconds=settings.receipt_slowdown_max_seconds,
            trust_forwarded_for=settings.trust_forwarded_for,
        )

    def client_budgets(self, client: str) -> list[tuple[Budget, str]]:
        budgets = [(self.receipt_per_client, client)]
        site = site_key(client)
        if site is not None:
            budgets.append((self.receipt_per_site, site))
        return budgets


def _limits(request: Request) -> Limits:
    limits: Limits = request.app.state.intake_limits
    return limits


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def guard_filing(request: Request, principal: Principal | None) -> str | None:
    """Anonymous filings are rate-limited per client (flooding, per process); officers filing
    are not. The client key to charge once the filing is known not to be a replay."""
    if principal is not None:
        return None
    limits = _limits(request)
    client = client_key(request, trust_forwarded_for=limits.trust_forwarded_for)
    limits.filings.check(client)
    return client


def charge_filing(request: Request, client: str | None, response: JSONResponse) -> JSONResponse:
    """A replay of an earlier filing (same Idempotency-Key) costs nothing."""
    if client is not None and response.headers.get("idempotent-replayed") != "true":
        _limits(request).filings.hit(client)
    return response


async def receipt_client(request: Request) -> str:
    """Refuse a client that guessed too often: its own budget and its IPv6 site's, never the
    global one."""
    limits = _limits(request)
    client = client_key(request, trust_forwarded_for=limits.trust_forwarded_for)
    try:
        await limits.limiter.check(_db(request).engine, *limits.client_budgets(client))
    except TooManyRequests:
        RECEIPT_REFUSED.inc()
        raise
    return client


async def known_code(request: Request, index: BlindIndex, code: str) -> bool:
    """Whether the code names a receipt, asked on a connection of its own before the request's
    session touches the database, so a wrong answer may wait without holding a pooled one."""
    if not (len(code) == RECEIPT_DIGITS and code.isdigit()):
        return False
    async with _db(request).sessions() as session:
        found = await repository.receipt_by_hash(session, receipt_hash(index, code))
    return found is not None


async def wrong_code(request: Request, client: str) -> NotFound:
    """Counts the failure against the client and everyone, then answers after a wait that grows
    with all clients' failures in the window (bounded)."""
    limits = _limits(request)
    counts = await limits.limiter.hit(
        _db(request).engine,
        *limits.client_budgets(client),
        (limits.receipt_global, GLOBAL),
    )
    delay = slowdown(
        counts[limits.receipt_global.bucket],
        limits.receipt_global.limit,
        limits.slowdown_max_seconds,
    )
    RECEIPT_FAILURES.inc()
    RECEIPT_SLOWDOWN.set(delay)
    await limits.sleep(delay)
    return NotFound("no report with this receipt code")
