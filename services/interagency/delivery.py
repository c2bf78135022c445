"""The webhook sender: at-least-once delivery of outbound alerts, one leased lane per partner, so
a slow partner delays only itself and never sees two of our requests at once. A lane takes its
partner's due deliveries in batches (one transaction to read them, one to record their attempts)
and asks the partner's circuit breaker (``circuit.py``) whether, and how many, to send."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Database
from libs.common.ids import new_id
from libs.common.observability import WEBHOOK_DELIVERIES
from libs.common.retries import retry_after_seconds
from services.interagency import delivery_repository, domain, partners, repository
from services.interagency.access import Ctx
from services.interagency.circuit import Circuit
from services.interagency.domain import AttemptOutcome, DeliveryStatus, KeySet, PartnerStatus
from services.interagency.egress import (
    Destination,
    Resolver,
    UnsafeUrl,
    check_url,
    system_resolver,
)
from services.interagency.models import Alert
from services.interagency.sending import AttemptResult, BodyCache, Sender
from services.interagency.settings import InteragencySettings

log = logging.getLogger("ctip.interagency.delivery")
PRUNE_EVERY_SECONDS = 3600.0


def alert_envelope(alert: Alert) -> bytes:
    """The CloudEvent we send for ``alert``; the same bytes on every attempt."""
    event = {
        "specversion": "1.0",
        "id": str(alert.id),
        "source": domain.OUR_SOURCE,
        "type": domain.ALERT_EVENT_TYPE,
        "time": alert.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": json.loads(alert.data),
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class _Job:
    delivery_id: UUID
    body: bytes


@dataclass(frozen=True)
class _Batch:
    """A lane's next deliveries to one partner, as one transaction read them."""

    url: str
    keys: list[str]
    circuit: Circuit
    jobs: list[_Job]


@dataclass(frozen=True)
class _Sent:
    job: _Job
    result: AttemptResult
    at: datetime


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        settings: InteragencySettings,
        make_context: Callable[[Any], Ctx],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: Resolver = system_resolver,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.make_context = make_context
        self.policy = settings.retry_policy()
        self.rules = settings.circuit_rules()
        self.lease = timedelta(seconds=settings.delivery_lease_seconds)
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid4().hex[:8]}"
        self.transport = transport
        self.resolve = resolve
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.bodies = BodyCache()
        self.sender = Sender(settings, transport)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()  # a lane ended its turn: claim again without waiting
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._last_prune = 0.0

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Serve lanes until stopped; errors are logged and the loop goes on."""
        try:
            while not self._stop.is_set():
                try:
                    await self._start_lanes()
                    await self._maybe_prune()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("delivery worker error, continuing: %s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.delivery_poll_seconds)
                self._wake.clear()
            lanes = list(self._lanes.values())
            if lanes:
                _, pending = await asyncio.wait(
                    lanes, timeout=self.settings.delivery_timeout_seconds + 1
                )
                for task in pending:
                    task.cancel()
        finally:
            await self.sender.close(0.0)

    async def _start_lanes(self) -> None:
        for code, task in list(self._lanes.items()):
            if task.done():
                del self._lanes[code]
        free = self.settings.delivery_concurrency - len(self._lanes)
        if free <= 0:
            return
        async with self.db.sessions() as session, session.begin():
            codes = await delivery_repository.claim_lanes(
                session, owner=self.owner, exclude=list(self._lanes), limit=free, lease=self.lease
            )
        for code in codes:
            self._lanes[code] = asyncio.create_task(self._serve_lane(code), name=f"lane-{code}")

    async def _serve_lane(self, code: str) -> None:
        left = self.settings.delivery_lane_turn
        try:
            # A bounded turn, then the lane goes back, so every partner due gets served.
            while left > 0 and not self._stop.is_set():
                sent = await self.deliver_batch(code, min(self.settings.delivery_batch, left))
                if sent == 0:
                    break
                left -= sent
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("lane %s failed: %s", code, type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                async with self.db.sessions() as session, session.begin():
                    await delivery_repository.release_lane(session, code, self.owner)
            if left <= 0:  # more may be due: lanes are claimed again at once, not at the poll
                self._wake.set()

    async def deliver_batch(self, code: str, limit: int) -> int:
        """Up to ``limit`` of the partner's most overdue deliveries, one request at a time, and
        their attempts recorded in one transaction; 0 when none is due or the circuit is open.
        A batch stops early when the circuit opens, the partner is gone (410), or half the
        lease is spent, so that the lane's lease never runs out under a request."""
        batch = await self._next_batch(code, limit)
        if batch is None:
            return 0
        sent, circuit = await self._send(batch)
        if sent:
            await self._record(code, batch, sent, circuit)
        return len(sent) if circuit.allows(datetime.now(UTC)) else 0

    async def _next_batch(self, code: str, limit: int) -> _Batch | None:
        async with self.db.sessions() as session, session.begin():
            if not await delivery_repository.renew_lane(session, code, self.owner, self.lease):
                return None
            partner = await repository.get_partner(session, code)
            if partner is None or partner.status != PartnerStatus.enabled.value:
                return None
            circuit = partners.circuit_of(partner)
            size = circuit.batch(datetime.now(UTC), limit)  # one probe when half-open
            if size == 0:
                return None
            deliveries = await delivery_repository.due_deliveries(session, code, size)
            if not deliveries:
                return None
            unknown = list({d.alert_id for d in deliveries if self.bodies.get(d.alert_id) is None})
            for alert in (await delivery_repository.alerts_by_id(session, unknown)).values():
                self.bodies.put(alert.id, alert_envelope(alert))
            jobs = []
            for delivery in deliveries:
                body = self.bodies.get(delivery.alert_id)
                assert body is not None, "a delivery belongs to an alert"
                jobs.append(_Job(delivery.id, body))
            keyset = KeySet(
                partner.outbound_secret, partner.outbound_previous, partner.outbound_previous_until
            )
            return _Batch(partner.webhook_url, keyset.keys(datetime.now(UTC)), circuit, jobs)

    async def _send(self, batch: _Batch) -> tuple[list[_Sent], Circuit]:
        started = time.monotonic()
        budget = self.lease.total_seconds() / 2
        circuit = batch.circuit
        try:
            destination: Destination | str = await asyncio.to_thread(
                check_url, batch.url, production=self.settings.is_production, resolve=self.resolve
            )
        except UnsafeUrl as exc:
            destination = f"destination refused: {exc}"[:500]
        sent: list[_Sent] = []
        for job in batch.jobs:
            if sent and (self._stop.is_set() or time.monotonic() - started > budget):
                break
            if isinstance(destination, str):
                result = AttemptResult(None, destination, 0)
            else:
                result = await self.sender.post(destination, batch.keys, job.delivery_id, job.body)
            now = datetime.now(UTC)
            sent.append(_Sent(job, result, now))
            outcome = domain.outcome_of(result.status_code)
            if outcome is AttemptOutcome.delivered:
                circuit = circuit.succeeded()
            elif outcome is AttemptOutcome.gone:
                break  # the partner is disabled when this is recorded
            else:
                circuit = circuit.failed(now, self.rules)
                if not circuit.allows(now):
                    break
        return sent, circuit

    async def _record(self, code: str, batch: _Batch, sent: list[_Sent], circuit: Circuit) -> None:
        async with self.db.sessions() as session, session.begin():
            outcomes = await self._record_attempts(session, code, sent)
            if circuit != batch.circuit:
                await delivery_repository.save_circuit(session, code, circuit)
        for outcome in outcomes:  # counted once the attempts are stored
            label = "failed" if outcome is AttemptOutcome.retry else outcome.value
            WEBHOOK_DELIVERIES.labels(self.settings.service_name, code, label).inc()
        if circuit.state is not batch.circuit.state:
            log.warning("partner %s: circuit %s", code, circuit.state.value)

    async def _record_attempts(
        self, session: AsyncSession, code: str, sent: list[_Sent]
    ) -> list[AttemptOutcome]:
        """The batch's attempts in two statements (one INSERT, one UPDATE from arrays) of the
        deliveries still pending, locked; a 410 disables the partner as well."""
        pending = await delivery_repository.pending_for_update(
            session, [s.job.delivery_id for s in sent]
        )
        outcomes: list[AttemptOutcome] = []
        attempts: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        gone = False
        for s in sent:
            if s.job.delivery_id not in pending:
                continue
            count, due = pending[s.job.delivery_id]
            result, now = s.result, s.at
            outcome = domain.outcome_of(result.status_code)
            outcomes.append(outcome)
            attempts.append(
                {
                    "id": new_id(),
                    "delivery_id": s.job.delivery_id,
                    "attempted_at": now,
                    "status_code": result.status_code,
                    "error": result.error,
                    "duration_ms": result.duration_ms,
                    "outcome": outcome.value,
                }
            )
            change = {
                "id": s.job.delivery_id,
                "attempts": count + 1,
                "last_status_code": result.status_code,
                "last_error": result.error,
                "status": DeliveryStatus.pending.value,
                "next_attempt_at": due,
                "delivered_at": None,
                "failed_at": None,
            }
            if outcome is AttemptOutcome.delivered:
                change.update(status=DeliveryStatus.delivered.value, delivered_at=now)
            elif outcome is AttemptOutcome.gone:
                gone = True
                change.update(
                    status=DeliveryStatus.failed.value,
                    failed_at=now,
                    last_error="410 Gone: the partner retired this endpoint",
                )
            else:
                delay = self.policy.next_delay(
                    count + 1,
                    retry_after=retry_after_seconds(result.status_code, result.retry_after, now),
                    rng=self.rng,
                )
                if delay is None:
                    change.update(status=DeliveryStatus.failed.value, failed_at=now)
                    log.warning("delivery to %s exhausted after %d attempts", code, count + 1)
                else:
                    change["next_attempt_at"] = now + timedelta(seconds=delay)
            changes.append(change)
        await delivery_repository.record_attempts(session, attempts, changes)
        if gone:
            partner = await repository.get_partner(session, code, for_update=True)
            if partner is not None and partner.status == PartnerStatus.enabled.value:
                reason = "the endpoint answered 410 Gone"
                await partners.disable(self.make_context(session), partner, reason)
            log.warning("partner %s answered 410: endpoint disabled", code)
        return outcomes

    async def _maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = time.monotonic()
        before = datetime.now(UTC) - timedelta(days=self.settings.inbound_dedup_days)
        async with self.db.sessions() as session, session.begin():
            await repository.prune_receipts(session, before)
        await self.sender.close(PRUNE_EVERY_SECONDS)
