"""Intake HTTP API (DESIGN.md section 5). Thin handlers: access checks as dependencies, rules in
``domain.py``, use cases in ``service.py`` and ``missing_persons.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import OptionalPrincipal, Principal, Role, require_roles
from libs.common.concurrency import IfMatch
from libs.common.context import Purpose
from libs.common.crypto import BlindIndex
from libs.common.db import Database, DbSession
from libs.common.errors import NotFound, TooManyRequests
from libs.common.figures import PeriodFrom, PeriodTo
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from libs.common.platform import platform_of
from libs.common.ratelimit import (
    Budget,
    SharedLimiter,
    SlidingWindow,
    client_key,
    site_key,
    slowdown,
)
from services.intake import kpis, missing_persons, repository, service
from services.intake.domain import MissingPersonStatus, Priority, Publication, TipStatus
from services.intake.models import metadata, rate_limits
from services.intake.schemas import (
    ClassificationIn,
    ExtensionIn,
    IntakeKpis,
    MessageIn,
    MessageOut,
    MissingPersonCreate,
    MissingPersonCreated,
    MissingPersonRead,
    MissingPersonSummary,
    ReceiptLookupIn,
    ReceiptMessageIn,
    ReceiptView,
    ResolutionIn,
    ReviewIn,
    TipCreate,
    TipCreated,
    TipRead,
    TipSummary,
    VerificationIn,
)
from services.intake.settings import IntakeSettings

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

router = APIRouter(prefix="/v1")

Reader = Annotated[
    Principal, Depends(require_roles(Role.intake_officer, Role.investigator, Role.supervisor))
]
IntakeOfficer = Annotated[Principal, Depends(require_roles(Role.intake_officer))]
Officer = Annotated[Principal, Depends(require_roles(Role.intake_officer, Role.investigator))]
DEFAULT_PURPOSE = "case handling"


@dataclass
class Limits:
    """The public endpoints' guards, one set per app. The receipt budgets are kept in
    PostgreSQL, shared by every replica (``libs/common/ratelimit.py``); the filing flood limit
    is per process.

    A client that keeps guessing receipt codes is refused (429) by its own budget, checked before
    the lookup. Global pressure never refuses anyone: it is counted only once a code turned out
    wrong, and it slows wrong answers down (``slowdown``), so a reporter with a right code always
    gets through, whatever other clients do."""

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


GLOBAL = "*"
# What operators watch for a guessing campaign: every wrong code, every refusal, and the wait
# wrong answers get now (SECURITY.md: the per-client limits bound a botnet, not the slowdown).
RECEIPT_FAILURES = Counter(
    "ctip_intake_receipt_failures_total", "Wrong receipt codes (lookups and messages)"
)
RECEIPT_REFUSED = Counter(
    "ctip_intake_receipt_refused_total", "Receipt requests refused by a client's or site's budget"
)
RECEIPT_SLOWDOWN = Gauge(
    "ctip_intake_receipt_slowdown_seconds", "Wait of the latest wrong receipt answer"
)


def _limits(request: Request) -> Limits:
    limits: Limits = request.app.state.intake_limits
    return limits


def _engine(request: Request) -> AsyncEngine:
    db: Database = request.app.state.db
    return db.engine


def _triage_province(request: Request) -> str:
    settings: IntakeSettings = request.app.state.settings
    return settings.triage_province


def _actor(request: Request, principal: Principal | None) -> service.Actor:
    index: BlindIndex = request.app.state.blind_index
    return service.Actor(
        principal=principal,
        index=index,
        now=service.now_utc(),
        triage_province=_triage_province(request),
    )


def _guard_filing(request: Request, principal: Principal | None) -> str | None:
    """Anonymous filings are rate-limited per client (flooding, per process: no secret is
    guessed here); officers filing are not. Returns the client key to charge once the filing is
    known not to be a replay."""
    if principal is not None:
        return None
    limits = _limits(request)
    client = client_key(request, trust_forwarded_for=limits.trust_forwarded_for)
    limits.filings.check(client)
    return client


def _charge_filing(request: Request, client: str | None, response: JSONResponse) -> JSONResponse:
    """A replay of an earlier filing (same Idempotency-Key) costs nothing."""
    if client is not None and response.headers.get("idempotent-replayed") != "true":
        _limits(request).filings.hit(client)
    return response


# Public: tips, missing-person reports and receipts ----------------------------------------------


@router.post("/tips", status_code=201, response_model=TipCreated, tags=["tips"])
async def create_tip(
    body: TipCreate,
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """File a tip, with or without a token. The receipt code is shown once: keep it."""
    client = _guard_filing(request, principal)
    actor = _actor(request, principal)
    response = await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub if principal else None,
        lambda: service.file_tip(session, body, actor),
        headers={"Cache-Control": "no-store"},
    )
    return _charge_filing(request, client, response)


@router.post(
    "/missing-persons",
    status_code=201,
    response_model=MissingPersonCreated,
    tags=["missing persons"],
)
async def create_missing_person(
    body: MissingPersonCreate,
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Report a missing person (đơn trình báo mất tích), with or without a token."""
    client = _guard_filing(request, principal)
    actor = _actor(request, principal)
    response = await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub if principal else None,
        lambda: missing_persons.report(session, body, actor),
        headers={"Cache-Control": "no-store"},
    )
    return _charge_filing(request, client, response)


async def _receipt_client(request: Request) -> str:
    """Refuse a client that guessed too often: its own budget, and its IPv6 site's, never the
    global one."""
    limits = _limits(request)
    client = client_key(request, trust_forwarded_for=limits.trust_forwarded_for)
    try:
        await limits.limiter.check(_engine(request), *_client_budgets(limits, client))
    except TooManyRequests:
        RECEIPT_REFUSED.inc()
        raise
    return client


def _client_budgets(limits: Limits, client: str) -> list[tuple[Budget, str]]:
    budgets = [(limits.receipt_per_client, client)]
    site = site_key(client)
    if site is not None:
        budgets.append((limits.receipt_per_site, site))
    return budgets


async def _known_code(request: Request, code: str) -> bool:
    """Whether the code names a receipt, asked on a connection of its own and before the
    request's session touches the database: a wrong answer may then wait (``_wrong_code``)
    without holding a pooled connection that reporters with right codes need."""
    if not (len(code) == service.RECEIPT_DIGITS and code.isdigit()):
        return False
    db: Database = request.app.state.db
    async with db.sessions() as session:
        found = await repository.receipt_by_hash(
            session, service.receipt_hash(_actor(request, None).index, code)
        )
    return found is not None


async def _wrong_code(request: Request, client: str) -> NotFound:
    """Counts the failure against the client and against everyone, then answers after a wait
    that grows with the failures of all clients in the window (bounded)."""
    limits = _limits(request)
    counts = await limits.limiter.hit(
        _engine(request), *_client_budgets(limits, client), (limits.receipt_global, GLOBAL)
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


@router.post("/receipts/lookup", response_model=ReceiptView, tags=["receipts"])
async def look_up_receipt(
    body: ReceiptLookupIn, request: Request, session: DbSession
) -> JSONResponse:
    """The status and the messages meant for the reporter. The code travels in the body, never
    in a URL, which proxies and gateways log. A wrong code is 404; guessing is rate-limited
    (429 with Retry-After)."""
    client = await _receipt_client(request)
    if not await _known_code(request, body.receipt_code):
        raise await _wrong_code(request, client)
    view = await service.receipt_view(session, _actor(request, None), body.receipt_code)
    if view is None:
        raise NotFound("no report with this receipt code")
    return JSONResponse(view.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.post(
    "/receipts/messages",
    status_code=201,
    response_model=MessageOut,
    tags=["receipts"],
)
async def post_receipt_message(
    body: ReceiptMessageIn,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """The reporter adds information to their report. An ``Idempotency-Key`` is scoped to the
    receipt by its keyed hash, never by the code: two reporters who pick the same key never
    replay each other's message, and the stored scope reveals no code."""
    client = await _receipt_client(request)
    code = body.receipt_code
    if not await _known_code(request, code):
        raise await _wrong_code(request, client)
    actor = _actor(request, None)

    async def add() -> MessageOut:
        message = await service.add_reporter_message(session, actor, code, body.body)
        if message is None:
            raise NotFound("no report with this receipt code")
        return message

    scope = "receipt:" + service.receipt_hash(actor.index, code)
    return await platform.idempotency.run(session, request, idempotency_key, scope, add)


# Officers: tips ---------------------------------------------------------------------------------


@router.get("/tips", response_model=Page[TipSummary], tags=["tips"])
async def list_tips(
    principal: Reader,
    request: Request,
    session: DbSession,
    status: TipStatus | None = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    priority: Priority | None = None,
    overdue: bool | None = None,
    due_soon: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TipSummary]:
    """Tips in your jurisdiction, newest first; no personal data in the list."""
    now = service.now_utc()
    tips = await repository.list_tips(
        session,
        scope=repository.tip_scope(principal, _triage_province(request)),
        status=status.value if status else None,
        ward_code=ward_code,
        priority=priority.value if priority else None,
        overdue=overdue,
        due_soon=due_soon,
        now=now,
        after=time_keyset(cursor),
        limit=limit,
    )
    return Page(
        items=[service.summary(t, now) for t in tips],
        next_cursor=time_cursor(tips, "received_at", limit),
    )


@router.get("/tips/{tip_id}", response_model=TipRead, tags=["tips"])
async def get_tip(
    tip_id: UUID,
    principal: Reader,
    request: Request,
    session: DbSession,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> TipRead:
    """The tip with its persons, messages and possible duplicates; the read is audited."""
    return await service.read_tip(session, _actor(request, principal), tip_id, purpose)


@router.post("/tips/{tip_id}/messages", status_code=201, response_model=MessageOut, tags=["tips"])
async def message_reporter(
    tip_id: UUID,
    body: MessageIn,
    principal: IntakeOfficer,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Ask the reporter a question; they read it through their receipt."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: service.message_reporter(session, actor, tip_id, body.body),
    )


@router.post("/tips/{tip_id}/classification", response_model=TipSummary, tags=["tips"])
async def classify_tip(
    tip_id: UUID,
    body: ClassificationIn,
    principal: IntakeOfficer,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> TipSummary:
    return await service.classify(session, _actor(request, principal), tip_id, body, if_match)


@router.post("/tips/{tip_id}/extension", response_model=TipSummary, tags=["tips"])
async def extend_tip_deadline(
    tip_id: UUID,
    body: ExtensionIn,
    principal: IntakeOfficer,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> TipSummary:
    """Record an extension of the resolution deadline (Criminal Procedure Code Art. 147)."""
    return await service.extend_deadline(
        session, _actor(request, principal), tip_id, body, if_match
    )


@router.post("/tips/{tip_id}/verification", response_model=TipSummary, tags=["tips"])
async def verify_tip(
    tip_id: UUID,
    body: VerificationIn,
    principal: Officer,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> TipSummary:
    """``substantiated`` opens a case in casework; the others close the tip."""
    return await service.verify(session, _actor(request, principal), tip_id, body, if_match)


# Officers: missing persons ----------------------------------------------------------------------


@router.get("/missing-persons", response_model=Page[MissingPersonSummary], tags=["missing persons"])
async def list_missing_persons(
    principal: Reader,
    session: DbSession,
    status: MissingPersonStatus | None = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    publication: Publication | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MissingPersonSummary]:
    """Reports in your jurisdiction, newest first; ``publication=pending`` is the review queue."""
    rows = await repository.list_missing_persons(
        session,
        scope=repository.missing_person_scope(principal),
        status=status.value if status else None,
        ward_code=ward_code,
        publication=publication.value if publication else None,
        after=time_keyset(cursor),
        limit=limit,
    )
    counts = await repository.match_counts(session, [r.id for r in rows])
    return Page(
        items=[missing_persons.summary(r, counts.get(r.id, 0)) for r in rows],
        next_cursor=time_cursor(rows, "reported_at", limit),
    )


@router.get(
    "/missing-persons/{missing_person_id}",
    response_model=MissingPersonRead,
    tags=["missing persons"],
)
async def get_missing_person(
    missing_person_id: UUID,
    principal: Reader,
    request: Request,
    session: DbSession,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> MissingPersonRead:
    """The report with possible matches found by interagency; the read is audited."""
    return await missing_persons.read(
        session, _actor(request, principal), missing_person_id, purpose
    )


@router.post(
    "/missing-persons/{missing_person_id}/messages",
    status_code=201,
    response_model=MessageOut,
    tags=["missing persons"],
)
async def message_missing_person_reporter(
    missing_person_id: UUID,
    body: MessageIn,
    principal: Officer,
    request: Request,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Write to the family who reported; they read it through their receipt."""
    actor = _actor(request, principal)
    return await platform.idempotency.run(
        session,
        request,
        idempotency_key,
        principal.sub,
        lambda: missing_persons.message_reporter(session, actor, missing_person_id, body.body),
    )


@router.post(
    "/missing-persons/{missing_person_id}/resolution",
    response_model=MissingPersonSummary,
    tags=["missing persons"],
)
async def resolve_missing_person(
    missing_person_id: UUID,
    body: ResolutionIn,
    principal: Officer,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> MissingPersonSummary:
    return await missing_persons.resolve(
        session, _actor(request, principal), missing_person_id, body, if_match
    )


@router.post(
    "/missing-persons/{missing_person_id}/review",
    response_model=MissingPersonSummary,
    tags=["missing persons"],
)
async def review_missing_person(
    missing_person_id: UUID,
    body: ReviewIn,
    principal: IntakeOfficer,
    request: Request,
    session: DbSession,
    if_match: IfMatch = None,
) -> MissingPersonSummary:
    """``publish`` alerts partner provinces (``intake.missing_person.published``); ``hold``
    keeps the report from them, with a reason. A report from the public is never sent to
    partners before an intake officer of the place publishes it."""
    return await missing_persons.review(
        session, _actor(request, principal), missing_person_id, body, if_match
    )


# Figures -----------------------------------------------------------------------------------------


@router.get("/kpis", response_model=IntakeKpis, tags=["figures"])
async def get_kpis(
    principal: Reader,
    request: Request,
    session: DbSession,
    from_: PeriodFrom = None,
    to: PeriodTo = None,
    ward_code: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> IntakeKpis:
    """The plan's intake targets as figures, each with numerator and denominator."""
    return await kpis.intake_kpis(
        session,
        principal,
        period_from=from_,
        period_to=to,
        ward_code=ward_code,
        now=service.now_utc(),
        triage_province=_triage_province(request),
    )
