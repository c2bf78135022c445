"""The webhook sender: at-least-once delivery of outbound alerts, one leased lane per partner, so
a slow partner delays only itself and never sees two of our requests at once."""

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

from libs.common.db import Database
from libs.common.events import CONTENT_TYPE
from libs.common.ids import new_id
from libs.common.observability import WEBHOOK_DELIVERIES
from libs.common.retries import retry_after_seconds
from libs.common.webhooks import signed_headers
from services.interagency import domain, partners, repository
from services.interagency.access import Ctx
from services.interagency.domain import AttemptOutcome, DeliveryStatus, KeySet, PartnerStatus
from services.interagency.egress import Resolver, UnsafeUrl, check_url, system_resolver
from services.interagency.models import Alert, DeliveryAttempt
from services.interagency.settings import InteragencySettings

log = logging.getLogger("ctip.interagency.delivery")
USER_AGENT = "ctip-interagency/1.0 (+standard-webhooks)"
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
class AttemptResult:
    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: str | None = None


@dataclass(frozen=True)
class _Job:
    delivery_id: UUID
    url: str
    keys: list[str]
    body: bytes


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
        self.lease = timedelta(seconds=settings.delivery_lease_seconds)
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid4().hex[:8]}"
        self.transport = transport
        self.resolve = resolve
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._stop = asyncio.Event()
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._last_prune = 0.0

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Serve lanes until stopped; errors are logged and the loop goes on."""
        async with httpx.AsyncClient(
            timeout=self.settings.delivery_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            transport=self.transport,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            while not self._stop.is_set():
                try:
                    await self._start_lanes(client)
                    await self._maybe_prune()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("delivery worker error, continuing: %s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.settings.delivery_poll_seconds)
            lanes = list(self._lanes.values())
            if lanes:
                _, pending = await asyncio.wait(
                    lanes, timeout=self.settings.delivery_timeout_seconds + 1
                )
                for task in pending:
                    task.cancel()

    async def _start_lanes(self, client: httpx.AsyncClient) -> None:
        for code, task in list(self._lanes.items()):
            if task.done():
                del self._lanes[code]
        free = self.settings.delivery_concurrency - len(self._lanes)
        if free <= 0:
            return
        async with self.db.sessions() as session, session.begin():
            codes = await repository.claim_lanes(
                session, owner=self.owner, exclude=list(self._lanes), limit=free, lease=self.lease
            )
        for code in codes:
            self._lanes[code] = asyncio.create_task(
                self._serve_lane(client, code), name=f"lane-{code}"
            )

    async def _serve_lane(self, client: httpx.AsyncClient, code: str) -> None:
        try:
            # A bounded turn, then the lane goes back, so every partner due gets served.
            for _ in range(self.settings.delivery_lane_turn):
                if self._stop.is_set() or not await self.deliver_next(client, code):
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("lane %s failed: %s", code, type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                async with self.db.sessions() as session, session.begin():
                    await repository.release_lane(session, code, self.owner)

    async def deliver_next(self, client: httpx.AsyncClient, code: str) -> bool:
        """One attempt of the partner's most overdue delivery; False when none is due."""
        job = await self._next_job(code)
        if job is None:
            return False
        result = await self.attempt(client, job)
        await self._record(code, job.delivery_id, result)
        return True

    async def _next_job(self, code: str) -> _Job | None:
        async with self.db.sessions() as session, session.begin():
            if not await repository.renew_lane(session, code, self.owner, self.lease):
                return None
            partner = await repository.get_partner(session, code)
            if partner is None or partner.status != PartnerStatus.enabled.value:
                return None
            delivery = await repository.next_due_delivery(session, code)
            if delivery is None:
                return None
            alert = await repository.get_alert(session, delivery.alert_id)
            assert alert is not None, "a delivery belongs to an alert"
            keyset = KeySet(
                partner.outbound_secret, partner.outbound_previous, partner.outbound_previous_until
            )
            return _Job(
                delivery_id=delivery.id,
                url=partner.webhook_url,
                keys=keyset.keys(datetime.now(UTC)),
                body=alert_envelope(alert),
            )

    async def attempt(self, client: httpx.AsyncClient, job: _Job) -> AttemptResult:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            destination = await asyncio.to_thread(
                check_url, job.url, production=self.settings.is_production, resolve=self.resolve
            )
        except UnsafeUrl as exc:
            return AttemptResult(None, f"destination refused: {exc}"[:500], elapsed())
        timestamp = int(time.time())
        headers = signed_headers(job.keys, str(job.delivery_id), timestamp, job.body)
        headers["content-type"] = CONTENT_TYPE
        headers["host"] = destination.host_header()
        extensions = {"sni_hostname": destination.host} if job.url.startswith("https:") else {}
        try:
            async with client.stream(
                "POST",
                destination.pinned_url(),
                content=job.body,
                headers=headers,
                extensions=extensions,
            ) as response:
                return AttemptResult(
                    response.status_code,
                    None if response.is_success else f"HTTP {response.status_code}",
                    elapsed(),
                    response.headers.get("retry-after"),
                )
        except httpx.TimeoutException:
            return AttemptResult(None, "timed out", elapsed())
        except httpx.HTTPError as exc:
            return AttemptResult(None, f"{type(exc).__name__}: {exc}"[:500], elapsed())

    async def _record(self, code: str, delivery_id: UUID, result: AttemptResult) -> None:
        outcome = await self._record_attempt(code, delivery_id, result)
        if outcome is not None:  # counted once the attempt is stored
            label = "failed" if outcome is AttemptOutcome.retry else outcome.value
            WEBHOOK_DELIVERIES.labels(self.settings.service_name, code, label).inc()

    async def _record_attempt(
        self, code: str, delivery_id: UUID, result: AttemptResult
    ) -> AttemptOutcome | None:
        now = datetime.now(UTC)
        async with self.db.sessions() as session, session.begin():
            delivery = await repository.get_delivery(session, delivery_id, for_update=True)
            if delivery is None or delivery.status != DeliveryStatus.pending.value:
                return None
            outcome = domain.outcome_of(result.status_code)
            session.add(
                DeliveryAttempt(
                    id=new_id(),
                    delivery_id=delivery.id,
                    attempted_at=now,
                    status_code=result.status_code,
                    error=result.error,
                    duration_ms=result.duration_ms,
                    outcome=outcome.value,
                )
            )
            delivery.attempts += 1
            delivery.last_status_code = result.status_code
            delivery.last_error = result.error
            if outcome is AttemptOutcome.delivered:
                delivery.status = DeliveryStatus.delivered.value
                delivery.delivered_at = now
            elif outcome is AttemptOutcome.gone:
                delivery.status = DeliveryStatus.failed.value
                delivery.failed_at = now
                delivery.last_error = "410 Gone: the partner retired this endpoint"
                partner = await repository.get_partner(session, code, for_update=True)
                if partner is not None and partner.status == PartnerStatus.enabled.value:
                    reason = "the endpoint answered 410 Gone"
                    await partners.disable(self.make_context(session), partner, reason)
                log.warning("partner %s answered 410: endpoint disabled", code)
            else:
                delay = self.policy.next_delay(
                    delivery.attempts,
                    retry_after=retry_after_seconds(result.status_code, result.retry_after, now),
                    rng=self.rng,
                )
                if delay is None:
                    delivery.status = DeliveryStatus.failed.value
                    delivery.failed_at = now
                    log.warning(
                        "delivery to %s exhausted after %d attempts", code, delivery.attempts
                    )
                else:
                    delivery.next_attempt_at = now + timedelta(seconds=delay)
        return outcome

    async def _maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = time.monotonic()
        before = datetime.now(UTC) - timedelta(days=self.settings.inbound_dedup_days)
        async with self.db.sessions() as session, session.begin():
            await repository.prune_receipts(session, before)
