"""The worker that keeps checking each service's audit chain: the whole chain at start, then
every minute from the last verified entry, with the result as Prometheus gauges
(``ctip_audit_chain_ok``...)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from prometheus_client import Gauge

from libs.common.audit import AuditLog, ChainReport

if TYPE_CHECKING:
    from libs.common.db import Database

log = logging.getLogger("ctip.audit")

AUDIT_CHAIN_OK = Gauge(
    "ctip_audit_chain_ok", "1 if the audit chain verified at the last check, else 0", ["service"]
)
AUDIT_ENTRIES_VERIFIED = Gauge(
    "ctip_audit_entries_verified", "Audit entries verified in the chain so far", ["service"]
)
AUDIT_LAST_VERIFIED = Gauge(
    "ctip_audit_last_verified_timestamp_seconds",
    "When the audit chain was last checked (Unix time)",
    ["service"],
)
AUDIT_FIRST_BROKEN = Gauge(
    "ctip_audit_first_broken_seq",
    "seq of the first entry that breaks the chain (0: none)",
    ["service"],
)


def publish_report(service: str, report: ChainReport) -> None:
    AUDIT_CHAIN_OK.labels(service).set(1 if report.ok else 0)
    AUDIT_ENTRIES_VERIFIED.labels(service).set(report.entries)
    AUDIT_FIRST_BROKEN.labels(service).set(report.first_broken_seq or 0)
    AUDIT_LAST_VERIFIED.labels(service).set(time.time())


class AuditChainVerifier:
    """Worker: the whole chain at start and every ``full_every_seconds``, otherwise only the
    entries appended since the last check, every ``interval_seconds``. A broken chain is logged
    (the seq, never the content) and shown as ``ctip_audit_chain_ok{service} 0``; while broken,
    every check is a full one, so the gauge comes back to 1 once the rows are restored."""

    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        service: str,
        *,
        interval_seconds: float = 60.0,
        full_every_seconds: float = 24 * 3600.0,
    ) -> None:
        self.db = db
        self.audit = audit
        self.service = service
        self.interval_seconds = interval_seconds
        self.full_every_seconds = full_every_seconds
        self.last: ChainReport | None = None
        self._high_water: ChainReport | None = None  # the newest entry ever verified
        self._last_full = 0.0
        self._stop = asyncio.Event()

    async def verify_once(self) -> ChainReport:
        full = (
            self.last is None
            or not self.last.ok
            or time.monotonic() - self._last_full >= self.full_every_seconds
        )
        since = None if full else self.last
        async with self.db.sessions() as session, session.begin():
            report = await self.audit.verify_chain(session, since=since)
            if full and report.ok and self._high_water is not None:
                # A chain that holds from the start can still have lost its newest entries.
                report = await self.audit.verify_chain(session, since=self._high_water)
        if report.ok:
            self._high_water = report
        if full:
            self._last_full = time.monotonic()
        if not report.ok and (self.last is None or self.last.ok):
            log.error(
                "audit chain broken at seq %s: %s",
                report.first_broken_seq,
                report.reason,
                extra={"audit": self.service},
            )
        self.last = report
        publish_report(self.service, report)
        return report

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.verify_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("audit verification failed, retrying: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_seconds)

    def stop(self) -> None:
        self._stop.set()
