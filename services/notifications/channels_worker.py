"""The channels' worker: plans the deliveries of new notifications and the daily digests, takes
the deliveries that are due and sends them by e-mail or webhook, and records each attempt.

At least once: a delivery is taken with a lease (``next_attempt_at`` moves past the send), so a
worker that dies mid-send leaves it due again, and the retry carries the same Message-ID or
webhook-id. No transaction stays open while a mail server or a gateway answers; the directory
is asked for the address then too, so no address is ever stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import httpx

from libs.common.app import Worker
from libs.common.db import Database
from libs.common.observability import NOTIFICATION_DELIVERIES
from libs.common.retries import retry_after_seconds
from services.notifications import deliveries, digests
from services.notifications import delivery_repository as repository
from services.notifications.access import Ctx
from services.notifications.channel_rules import (
    DigestLine,
    Outcome,
    digest_due,
    digest_lines,
    smtp_outcome,
    webhook_outcome,
)
from services.notifications.deliveries import Attempt, quiet_of
from services.notifications.email import SmtpSender, digest_message, notices_message
from services.notifications.models import Delivery, Notification
from services.notifications.settings import NotificationsSettings
from services.notifications.webhook_channel import (
    UnsafeEndpoint,
    check_endpoint,
    notification_event,
    post,
)

log = logging.getLogger("ctip.notifications.channels")
NO_ADDRESS = "the directory has no e-mail address for this person"


@dataclass
class Job:
    """A taken delivery with what its message needs, read in the transaction that took it."""

    id: UUID
    channel: str
    kind: str
    recipient: str
    notices: list[Notification] = field(default_factory=list)
    lines: list[DigestLine] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    national: bool = False
    since: datetime | None = None
    until: datetime | None = None
    url: str | None = None
    secret: str | None = None


class ChannelsWorker:
    def __init__(
        self,
        db: Database,
        settings: NotificationsSettings,
        make_context: Callable[[Any], Ctx],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.make_context = make_context
        self.transport = transport
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.smtp = SmtpSender(settings.smtp_config()) if settings.email_enabled else None
        self.lease = timedelta(seconds=settings.delivery_lease_seconds)
        self._slots = asyncio.Semaphore(settings.delivery_concurrency)
        self._digest_day: date | None = None
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Rounds until stopped; an error is logged and the next round goes on."""
        async with httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            transport=self.transport,
        ) as client:
            while not self._stop.is_set():
                busy = False
                try:
                    busy = await self.round(client)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("channels round failed, continuing: %s", type(exc).__name__)
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._stop.wait(), self.settings.delivery_poll_seconds
                        )

    async def round(self, client: httpx.AsyncClient) -> bool:
        """Plan, then send what is due; True when a full batch suggests more is waiting."""
        async with self.db.sessions() as session, session.begin():
            planned = await deliveries.plan(
                self.make_context(session), self.settings.delivery_batch
            )
        await self.plan_digests()
        jobs = await self.take()
        await asyncio.gather(*(self.deliver(client, job) for job in jobs))
        return planned >= self.settings.delivery_batch or len(jobs) >= self.settings.delivery_batch

    async def plan_digests(self, now: datetime | None = None) -> int:
        due = digest_due(now or datetime.now(UTC), self.settings.digest_local_time)
        if due.day == self._digest_day:
            return 0
        async with self.db.sessions() as session, session.begin():
            planned = await digests.plan(self.make_context(session), due)
        self._digest_day = due.day
        return planned

    async def take(self) -> list[Job]:
        channels = ["webhook", *(["email"] if self.smtp is not None else [])]
        jobs: list[Job] = []
        async with self.db.sessions() as session, session.begin():
            ctx = self.make_context(session)
            taken = await repository.claim_due(
                session,
                now=ctx.now,
                lease=self.lease,
                limit=self.settings.delivery_batch,
                channels=channels,
            )
            for delivery in taken:
                preference = await repository.preference(session, delivery.recipient)
                quiet = quiet_of(preference)
                ends = quiet.until(ctx.now) if quiet is not None else None
                if ends is not None:  # their quiet hours began since it was planned
                    delivery.next_attempt_at = ends
                    continue
                jobs.append(await self._job(ctx, delivery))
        return jobs

    async def _job(self, ctx: Ctx, delivery: Delivery) -> Job:
        job = Job(delivery.id, delivery.channel, delivery.kind, delivery.recipient)
        if delivery.kind == "digest":
            assert delivery.digest_since is not None and delivery.digest_until is not None
            signals = await repository.missed_signals(
                ctx.session, delivery.digest_since, delivery.digest_until
            )
            job.lines, job.links = digest_lines(signals, delivery.digest_scope)
            job.national = delivery.digest_scope is None
            job.since, job.until = delivery.digest_since, delivery.digest_until
        else:
            job.notices = list(
                await repository.notifications(ctx.session, delivery.notification_ids)
            )
        if delivery.channel == "webhook":
            endpoint = await repository.get_endpoint(ctx.session, delivery.province_code)
            if endpoint is not None:
                job.url, job.secret = endpoint.url, endpoint.secret
        return job

    async def deliver(self, client: httpx.AsyncClient, job: Job) -> None:
        async with self._slots:
            try:
                attempt = (
                    await self.email(job)
                    if job.channel == "email"
                    else await self.webhook(client, job)
                )
            except Exception as exc:  # a bug must not lose the delivery: it is retried
                log.warning("delivery %s raised %s", job.id, type(exc).__name__)
                attempt = Attempt(Outcome.retry, error=f"{type(exc).__name__}"[:500])
        async with self.db.sessions() as session, session.begin():
            stored = await deliveries.record(self.make_context(session), job.id, attempt, self.rng)
        if stored is not None:  # counted once the attempt is stored
            labels = (self.settings.service_name, job.channel, attempt.outcome.value)
            NOTIFICATION_DELIVERIES.labels(*labels).inc()

    async def email(self, job: Job) -> Attempt:
        assert self.smtp is not None
        person = await self.settings.directory.person(job.recipient)
        if person is None or not person.email:
            return Attempt(Outcome.failed, error=NO_ADDRESS)
        result = await self.smtp.send(self.message(job, person.email, person.locale))
        return Attempt(smtp_outcome(result.code), result.code, result.error)

    def message(self, job: Job, to: str, locale: str) -> EmailMessage:
        settings = self.settings
        common: dict[str, Any] = {
            "to": to,
            "locale": locale,
            "delivery_id": job.id,
            "from_address": settings.smtp_from,
            "base_url": settings.link_base_url,
            "now": datetime.now(UTC),
        }
        if job.kind == "digest":
            assert job.since is not None and job.until is not None
            return digest_message(
                job.lines,
                job.links,
                national=job.national,
                since=job.since,
                until=job.until,
                **common,
            )
        return notices_message(job.notices, **common)

    async def webhook(self, client: httpx.AsyncClient, job: Job) -> Attempt:
        if job.url is None or job.secret is None or not job.notices:
            return Attempt(Outcome.failed, error="no gateway is set for this province")
        try:
            url = check_endpoint(job.url, allow_http=self.settings.environment == "test")
        except UnsafeEndpoint as exc:
            return Attempt(Outcome.failed, error=f"destination refused: {exc}"[:500])
        result = await post(
            client,
            url=url,
            secret=job.secret,
            delivery_id=job.id,
            body=notification_event(job.notices[0]),
        )
        wait = retry_after_seconds(result.status_code, result.retry_after, datetime.now(UTC))
        return Attempt(webhook_outcome(result.status_code), result.status_code, result.error, wait)


def channels_worker(
    settings: NotificationsSettings, **options: Any
) -> Callable[[Database, Callable[[Any], Any]], Worker | None]:
    """The worker factory for ``create_app``: with the relay (the worker process) only."""

    def factory(db: Database, make_context: Callable[[Any], Any]) -> Worker | None:
        if not settings.run_relay:
            return None
        return ChannelsWorker(db, settings, make_context, **options)

    return factory
