"""What the channels' integration tests share: people with an address in the directory,
notifications written as the consumer writes them, preferences, the deliveries as stored, and
the app with a real mail server behind it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.directory import SeededDirectory
from libs.common.schemas import VIETNAM
from testkit.mailserver import PASSWORD, USERNAME, MailServer
from tests.support import fresh_ward

COMPRESSED = [0.3, 0.6, 1.2]
WINDOW_SECONDS = 2


def channel_settings(mail: MailServer | None) -> dict[str, Any]:
    """Overrides of the notifications settings: e-mail through ``mail`` (none: no e-mail),
    a two-second window, a compressed retry schedule, no Kafka consumer."""
    values: dict[str, Any] = {
        "run_consumers": False,
        "email_window_seconds": WINDOW_SECONDS,
        "delivery_retry_schedule_seconds": COMPRESSED,
        "delivery_retry_jitter": 0.1,
        "delivery_poll_seconds": 0.1,
        "delivery_lease_seconds": 10.0,
        "webhook_timeout_seconds": 3.0,
        "link_base_url": "https://ctip.example",
        "smtp_from": "ctip <no-reply@ctip.example>",
    }
    if mail is not None:
        values |= {
            "smtp_host": "127.0.0.1",
            "smtp_port": mail.port,
            "smtp_username": USERNAME,
            "smtp_password": PASSWORD,
            "smtp_tls_ca_file": str(mail.certificates.ca_file),
            "smtp_timeout_seconds": 5.0,
        }
    return values


@dataclass(frozen=True)
class Officer:
    sub: str
    email: str


def officer(
    directory: SeededDirectory,
    *,
    locale: str = "vi",
    roles: Sequence[str] = ("intake_officer",),
    jurisdiction: Sequence[str] | None = None,
    groups: Sequence[str] = (),
    email: bool = True,
) -> Officer:
    """A person of the test's own, with an address unless ``email=False``; by default an
    officer of a ward of their own, so that no other test's signal is for them. That ward is in
    Hải Phòng (31): its province does not matter here, and Hà Nội's fresh wards run short."""
    tag = uuid.uuid4().hex[:10]
    address = f"canbo.{tag}@hanoi.ctip.example"
    raw = {
        "sub": f"person-{tag}",
        "roles": list(roles),
        "jurisdiction": list(jurisdiction) if jurisdiction is not None else [fresh_ward("31")],
        "email": address if email else None,
        "locale": locale,
        "groups": list(groups),
    }
    directory.people.extend(SeededDirectory.of([raw]).people)
    return Officer(str(raw["sub"]), address)


async def notify(
    db: AsyncEngine,
    recipient: str,
    count: int = 1,
    *,
    kind: str = "deadline.approaching",
    service: str = "intake",
    record_type: str = "tip",
    deadline_kind: str = "resolution",
    ward_code: str | None = "00004",
    province_code: str | None = "01",
    created_at: datetime | None = None,
    source_event_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """``count`` notifications for ``recipient``, committed together (as one consumer
    transaction would); their ids, in order."""
    now = datetime.now(UTC)
    ids = []
    async with db.begin() as conn:
        for n in range(count):
            record = uuid.uuid4()
            ids.append(uuid.uuid4())
            await conn.execute(
                text(
                    "INSERT INTO notifications.notifications (id, recipient, kind, service,"
                    " record_type, record_id, deadline_kind, due_at, threshold_seconds, ward_code,"
                    " province_code, link, source_event_id, created_at)"
                    " VALUES (:id, :recipient, :kind, :service, :record_type, :record_id,"
                    " :deadline_kind, :due_at, :threshold, :ward, :province, :link, :source,"
                    " :created_at)"
                ),
                {
                    "id": ids[-1],
                    "recipient": recipient,
                    "kind": kind,
                    "service": service,
                    "record_type": record_type,
                    "record_id": record,
                    "deadline_kind": deadline_kind,
                    "due_at": now + timedelta(days=5, hours=n),
                    "threshold": 5 * 86400 if kind == "deadline.approaching" else 0,
                    "ward": ward_code,
                    "province": province_code,
                    "link": f"/{service}/v1/{record_type}s/{record}",
                    "source": source_event_id or uuid.uuid4(),
                    "created_at": created_at or now,
                },
            )
    return ids


async def prefer(
    db: AsyncEngine,
    sub: str,
    channels: Sequence[str] = ("inbox", "email"),
    *,
    quiet: tuple[time, time] | None = None,
    email_digest: bool = True,
) -> None:
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO notifications.preferences (recipient, channels, quiet_start,"
                " quiet_end, email_digest, updated_at) VALUES (:sub, :channels, :start, :end,"
                " :digest, now()) ON CONFLICT (recipient) DO UPDATE SET channels ="
                " excluded.channels, quiet_start = excluded.quiet_start, quiet_end ="
                " excluded.quiet_end, email_digest = excluded.email_digest"
            ),
            {
                "sub": sub,
                "channels": list(channels),
                "start": quiet[0] if quiet else None,
                "end": quiet[1] if quiet else None,
                "digest": email_digest,
            },
        )


def local_time(moment: datetime) -> time:
    return moment.astimezone(VIETNAM).time().replace(microsecond=0, tzinfo=None)


async def deliveries_of(db: AsyncEngine, recipient: str) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM notifications.deliveries WHERE recipient = :r ORDER BY created_at"),
            {"r": recipient},
        )
        return [dict(row._mapping) for row in rows]


def sent(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "sent"]
