"""The notifications half of :mod:`bench.deadlines`: deadline signals on Kafka become inbox rows
(notifications' consumer), and inbox rows become e-mails (notifications' channels worker), each
against a raw client doing the same I/O in the same run.

The mail server (``testkit.mailserver``: aiosmtpd, STARTTLS required, AUTH over TLS only) runs in
a process of its own, so that its work does not share the bench's interpreter; its CPU time is
read from ``/proc`` and reported per message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import ssl
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
from aiokafka import ConsumerRecord

from bench.common import process_cpu_seconds
from bench.report import _table as table
from bench.support import BenchError, raw_read, wait_until
from libs.common.context import context_factory
from libs.common.crypto import BlindIndex
from libs.common.db import Database
from libs.common.directory import SeededDirectory
from libs.common.events import CloudEvent, dlt_topic, event_type, kafka_headers, topic_for
from libs.common.inbox import EventConsumer
from libs.common.jurisdiction import province_of, wards_of
from libs.common.kafka import ensure_topics, new_producer
from libs.common.platform import platform_of
from libs.contracts.deadlines import DeadlineSignal, Jurisdiction
from services.notifications.channels_worker import ChannelsWorker
from services.notifications.consumers import HANDLERS
from services.notifications.email import notices_message
from services.notifications.models import metadata as notifications_metadata
from services.notifications.settings import NotificationsSettings
from testkit.mailserver import PASSWORD, USERNAME, MailServer, make_certificates

PROVINCES = ("01", "79", "12", "14", "31", "48")  # Hà Nội, HCMC, Lai Châu, Sơn La, ...
WARDS_PER_PROVINCE = 10
STAGE_TIMEOUT = 900.0
DAY = 86_400


# -- the people and the signals -------------------------------------------------------------------


def wards() -> list[str]:
    """The places of the bench's tips: ten wards of each province."""
    return [w for p in PROVINCES for w in wards_of(p)[:WARDS_PER_PROVINCE]]


def people() -> list[dict[str, Any]]:
    """Two intake officers per ward (one reads English), one supervisor per province."""
    found: list[dict[str, Any]] = []
    for ward in wards():
        for n, locale in ((1, "vi"), (2, "en")):
            sub = f"io-{ward}-{n}"
            found.append(
                {"sub": sub, "roles": ["intake_officer"], "jurisdiction": [ward],
                 "email": f"{sub}@bench.ctip.example", "locale": locale}
            )  # fmt: skip
    for province in PROVINCES:
        sub = f"sup-{province}"
        found.append(
            {"sub": sub, "roles": ["supervisor"], "jurisdiction": [province],
             "email": f"{sub}@bench.ctip.example", "locale": "vi"}
        )  # fmt: skip
    return found


def deadline_events(count: int, rng: random.Random) -> tuple[list[CloudEvent], int]:
    """``intake.deadline.approaching|missed`` as intake's worker emits them (two approaching to
    one missed, as two thresholds to one deadline; a third of the tips assigned), and how many
    notifications the ladder makes of them."""
    now = datetime.now(UTC)
    places = wards()
    events: list[CloudEvent] = []
    rows = 0
    for _ in range(count):
        ward = rng.choice(places)
        missed = rng.random() < 1 / 3
        assignee = f"io-{ward}-1" if rng.random() < 1 / 3 else None
        rows += (1 if assignee else 2) + (1 if missed else 0)
        threshold = 0 if missed else rng.choice([5 * DAY, DAY])
        tip = uuid.uuid4()
        signal = DeadlineSignal(
            record_type="tip",
            record_id=tip,
            deadline_kind=rng.choice(["resolution", "extension_request"]),
            due_at=now + timedelta(seconds=threshold),
            threshold_seconds=threshold,
            jurisdiction=Jurisdiction(ward_code=ward, province_code=province_of(ward)),
            assignee=assignee,
            armed_at=now - timedelta(days=15),
            signalled_at=now,
        )
        kind = "missed" if missed else "approaching"
        events.append(
            CloudEvent(
                id=str(uuid.uuid4()),
                source="/ctip/intake",
                type=event_type(f"intake.deadline.{kind}"),
                subject=str(tip),
                data=signal.model_dump(mode="json"),
            )
        )
    return events, rows


# -- the mail server, in a process of its own ------------------------------------------------------


def serve_mail(directory: str, pipe: Connection) -> None:
    """The child: a STARTTLS server whose CA is ``directory/ca.pem``; answers ``count`` with how
    many messages it accepted, ``stop`` by stopping."""
    # aiosmtpd logs a warning on every AUTH (an attribute it sets itself is deprecated)
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    server = MailServer(make_certificates(Path(directory)))
    server.up()
    pipe.send(server.port)
    while (command := pipe.recv()) != "stop":
        assert command == "count"
        pipe.send(len(server.accepted))
    server.down()
    pipe.send("stopped")


class MailProcess:
    def __init__(self, directory: str) -> None:
        context = get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=serve_mail, args=(directory, child), daemon=True)
        self.ca_file = str(Path(directory) / "ca.pem")
        self.port = 0

    async def start(self) -> None:
        self.process.start()
        if not await asyncio.to_thread(self.pipe.poll, 60):
            raise BenchError("the mail server did not start within 60 s")
        self.port = int(self.pipe.recv())

    async def accepted(self) -> int:
        self.pipe.send("count")
        return int(await asyncio.to_thread(self.pipe.recv))

    def cpu_seconds(self) -> float:
        assert self.process.pid is not None
        return process_cpu_seconds(self.process.pid)

    async def stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self.pipe.send("stop")
            await asyncio.to_thread(self.pipe.poll, 10)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# -- the stages ----------------------------------------------------------------------------------


class CountingConsumer(EventConsumer):
    """notifications' consumer, noting its first record and when it had handled ``expected``."""

    def __init__(self, *args: Any, expected: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.first: float | None = None
        self.handled = 0
        self.done: float | None = None
        self.finished = asyncio.Event()

    async def handle(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[str]:
        if self.first is None:
            self.first = time.perf_counter()
        outcomes = await super().handle(records)
        self.handled += outcomes.count("handled")
        if self.handled >= self.expected and self.done is None:
            self.done = time.perf_counter()
            self.finished.set()
        return outcomes


async def publish(settings: NotificationsSettings, events: list[CloudEvent]) -> float:
    """On ``intake.deadline.v1``, as intake's relay sends them (idempotent, acks=all)."""
    producer = new_producer(settings)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [
            await producer.send(
                settings.topic(topic_for(e.short_type)),
                value=e.to_json_bytes(),
                key=str(e.subject).encode(),
                headers=kafka_headers(e),
            )
            for e in events
        ]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def consume(
    settings: NotificationsSettings, db: Database, count: int
) -> tuple[float, CountingConsumer]:
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    platform = platform_of(notifications_metadata)
    consumer = CountingConsumer(
        db,
        platform.inbox,
        settings,
        HANDLERS,
        context_factory(settings, platform, index),
        expected=count,
    )
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.finished.wait(), STAGE_TIMEOUT)
    except TimeoutError:
        raise BenchError(f"notifications' consumer handled {consumer.handled} of {count}") from None
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)
    assert consumer.first is not None and consumer.done is not None
    return consumer.done - consumer.first, consumer


async def e_mails(conn: asyncpg.Connection) -> asyncpg.Record:
    return await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
                  count(*) FILTER (WHERE status = 'failed') AS failed,
                  count(*) FILTER (WHERE attempts > 1) AS retried,
                  count(*) AS planned
           FROM notifications.deliveries WHERE channel = 'email' AND kind = 'notices'"""
    )


async def deliver(
    settings: NotificationsSettings, db: Database, conn: asyncpg.Connection, rows: int
) -> dict[str, Any]:
    """The channels worker from its first round until every notification's e-mail is sent."""
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    make_context = context_factory(settings, platform_of(notifications_metadata), index)
    worker = ChannelsWorker(db, settings, make_context)
    cpu, started = time.process_time(), time.perf_counter()
    task = asyncio.create_task(worker.run())

    async def all_done() -> bool:
        found = await e_mails(conn)
        return bool(found["sent"] + found["failed"] >= rows)

    try:
        await wait_until(
            all_done, seconds=STAGE_TIMEOUT, interval=0.1, what=f"{rows} e-mails to be sent"
        )
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
    finally:
        worker.stop()
        await asyncio.wait_for(task, 60)
    return {**dict(await e_mails(conn)), "seconds": seconds, "bench_cpu_seconds": cpu_seconds}


@dataclass(frozen=True)
class _Notice:
    kind: str
    link: str
    due_at: datetime | None


async def same_messages(
    conn: asyncpg.Connection, settings: NotificationsSettings, directory: SeededDirectory
) -> list[EmailMessage]:
    """The messages the worker sent, built beforehand the same way: the raw senders' load."""
    found = await conn.fetch(
        "SELECT recipient, kind, link, due_at FROM notifications.notifications ORDER BY seq"
    )
    address = {p.sub: (p.email, p.locale) for p in directory.people}
    now = datetime.now(UTC)
    messages = []
    for row in found:
        to, locale = address[row["recipient"]]
        assert to is not None
        messages.append(
            notices_message(
                [_Notice(row["kind"], row["link"], row["due_at"])],
                to=to,
                locale=locale,
                delivery_id=uuid.uuid4(),
                from_address=settings.smtp_from,
                base_url=settings.link_base_url,
                now=now,
            )
        )
    return messages


async def raw_each(
    messages: Sequence[EmailMessage], port: int, tls: ssl.SSLContext, concurrency: int
) -> float:
    """aiosmtplib as the sender uses it: a connection, STARTTLS and AUTH per message."""
    slots = asyncio.Semaphore(concurrency)

    async def send(message: EmailMessage) -> None:
        async with slots:
            await aiosmtplib.send(
                message,
                hostname="127.0.0.1",
                port=port,
                username=USERNAME,
                password=PASSWORD,
                start_tls=True,
                tls_context=tls,
                timeout=30,
            )

    started = time.perf_counter()
    await asyncio.gather(*(send(m) for m in messages))
    return time.perf_counter() - started


async def raw_kept(messages: Sequence[EmailMessage], port: int, tls: ssl.SSLContext) -> float:
    """One connection, one STARTTLS and AUTH, every message after the other."""
    started = time.perf_counter()
    smtp = aiosmtplib.SMTP(
        hostname="127.0.0.1", port=port, start_tls=True, tls_context=tls, timeout=30
    )
    await smtp.connect()
    await smtp.login(USERNAME, PASSWORD)
    for message in messages:
        await smtp.send_message(message)
    await smtp.quit()
    return time.perf_counter() - started


async def notifications_stage(
    args: argparse.Namespace, dsn: str, url: str, prefix: str
) -> dict[str, Any]:
    directory = SeededDirectory.of(people())
    events, expected_rows = deadline_events(args.events, random.Random(args.seed))
    with tempfile.TemporaryDirectory(prefix="ctip-bench-mail-") as certificates:
        mail = MailProcess(certificates)
        await mail.start()
        settings = NotificationsSettings(
            database_url=url,
            topic_prefix=prefix,
            environment="test",
            log_level="WARNING",
            smtp_host="127.0.0.1",
            smtp_port=mail.port,
            smtp_username=USERNAME,
            smtp_password=PASSWORD,
            smtp_tls_ca_file=mail.ca_file,
            email_window_seconds=0,
            delivery_concurrency=args.concurrency,
            delivery_poll_seconds=0.2,
        )
        settings.use_directory(directory)
        db = Database(url, pool_size=args.concurrency + 2, application_name="ctip-bench-notify")
        conn = await asyncpg.connect(dsn)
        try:
            topic = settings.topic("intake.deadline.v1")
            topics = sorted({settings.topic(topic_for(t)) for t in HANDLERS})
            await ensure_topics(settings, [*topics, *map(dlt_topic, topics)])
            print(f"notifications: {len(events):,} deadline signals on {topic} ...")
            published = await publish(settings, events)
            raw_seconds = await raw_read(
                settings, topic, len(events), group_id=settings.topic("bench-raw")
            )
            consumer_seconds, consumer = await consume(settings, db, len(events))
            rows = int(await conn.fetchval("SELECT count(*) FROM notifications.notifications"))
            print(f"notifications: e-mailing {rows:,} notifications ...")
            server_cpu, accepted = mail.cpu_seconds(), await mail.accepted()
            delivered = await deliver(settings, db, conn, rows)
            worker_server_cpu = mail.cpu_seconds() - server_cpu
            worker_accepted = await mail.accepted() - accepted
            messages = await same_messages(conn, settings, directory)
            tls = ssl.create_default_context(cafile=mail.ca_file)
            server_cpu = mail.cpu_seconds()
            each_seconds = await raw_each(messages, mail.port, tls, args.concurrency)
            each_server_cpu = mail.cpu_seconds() - server_cpu
            server_cpu = mail.cpu_seconds()
            kept_seconds = await raw_kept(messages, mail.port, tls)
            kept_server_cpu = mail.cpu_seconds() - server_cpu
            total_accepted = await mail.accepted()
        finally:
            await conn.close()
            await db.dispose()
            await mail.stop()
    n = len(events)
    return {
        "events": n,
        "expected_rows": expected_rows,
        "rows": rows,
        "publish": _rate(n, published),
        "raw_consumer": _rate(n, raw_seconds),
        "consumer": {
            **_rate(n, consumer_seconds),
            "rows_per_second": round(rows / consumer_seconds, 1),
            "handled": consumer.handled,
        },
        "email": {
            "messages": rows,
            "worker": {
                **_rate(int(delivered["sent"]), delivered["seconds"]),
                **{k: int(delivered[k]) for k in ("sent", "failed", "retried", "planned")},
                "server_accepted": worker_accepted,
                "bench_cpu_percent": round(
                    100 * delivered["bench_cpu_seconds"] / delivered["seconds"], 1
                ),
                "server_cpu_ms_per_message": _per(worker_server_cpu, worker_accepted),
            },
            "raw_connection_each": {
                **_rate(len(messages), each_seconds),
                "concurrency": args.concurrency,
                "server_cpu_ms_per_message": _per(each_server_cpu, len(messages)),
            },
            "raw_one_connection": {
                **_rate(len(messages), kept_seconds),
                "server_cpu_ms_per_message": _per(kept_server_cpu, len(messages)),
            },
            "server_accepted_total": total_accepted,
        },
    }


def _rate(count: int, seconds: float) -> dict[str, Any]:
    return {"count": count, "seconds": round(seconds, 3), "per_second": round(count / seconds, 1)}


def _per(cpu_seconds: float, messages: int) -> float | None:
    return round(1000 * cpu_seconds / messages, 2) if messages else None


def render_notifications(n: dict[str, Any]) -> list[str]:
    e = n["email"]
    w = e["worker"]
    return [
        f"Deadline signals -> inbox rows: {n['events']:,} events, {n['rows']:,} notifications "
        f"(the ladder expects {n['expected_rows']:,})",
        table(
            ["stage", "count", "seconds", "per second"],
            [
                ["publish (idempotent producer, acks=all)", *_cells(n["publish"])],
                ["raw AIOKafkaConsumer read + json.loads", *_cells(n["raw_consumer"])],
                ["notifications' consumer: events", *_cells(n["consumer"])],
                [
                    "notifications' consumer: inbox rows",
                    f"{n['rows']:,}",
                    f"{n['consumer']['seconds']:.2f}",
                    f"{n['consumer']['rows_per_second']:,.0f}",
                ],
            ],
        ),
        "",
        f"Inbox rows -> e-mails (STARTTLS + AUTH, email_window_seconds=0): {e['messages']:,} "
        f"messages; worker sent {w['sent']:,}, failed {w['failed']}, retried {w['retried']}; "
        f"the server accepted {w['server_accepted']:,} from it",
        table(
            ["sender", "count", "seconds", "per second", "server cpu ms/msg"],
            [
                [
                    f"channels worker (concurrency {e['raw_connection_each']['concurrency']})",
                    *_cells(w),
                    str(w["server_cpu_ms_per_message"]),
                ],
                [
                    "raw aiosmtplib, a connection per message, as many at once",
                    *_cells(e["raw_connection_each"]),
                    str(e["raw_connection_each"]["server_cpu_ms_per_message"]),
                ],
                [
                    "raw aiosmtplib, one kept connection",
                    *_cells(e["raw_one_connection"]),
                    str(e["raw_one_connection"]["server_cpu_ms_per_message"]),
                ],
            ],
        ),
        f"the bench process (worker, its database work) at {w['bench_cpu_percent']}% of a core "
        "while the worker sent",
        "",
    ]


def _cells(figures: dict[str, Any]) -> list[str]:
    return [f"{figures['count']:,}", f"{figures['seconds']:.2f}", f"{figures['per_second']:,.0f}"]
