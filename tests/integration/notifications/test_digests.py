"""The daily digests against a real STARTTLS mail server: a supervisor's counts of their
jurisdiction, the steering committee's of the country, no names, and exactly one message per
person and day however many workers plan it, and however often."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.context import context_factory
from libs.common.crypto import BlindIndex
from libs.common.db import Database
from libs.common.directory import SeededDirectory
from libs.common.jurisdiction import wards_of
from libs.common.platform import platform_of
from services.notifications.app import create_app
from services.notifications.channel_rules import digest_due
from services.notifications.channels_worker import ChannelsWorker
from services.notifications.models import metadata
from services.notifications.settings import NotificationsSettings
from testkit.mailserver import MailServer, make_certificates
from tests.integration.notifications.channels import channel_settings, notify, officer, prefer
from tests.support import eventually, fresh_ward, running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServer]:
    server = MailServer(make_certificates(Path(tmp_path_factory.mktemp("digest-tls"))))
    server.up()
    yield server
    server.down()


@pytest.fixture(scope="module")
def digest_settings(settings_for: Callable[..., Any], mail: MailServer) -> NotificationsSettings:
    settings: NotificationsSettings = settings_for(NotificationsSettings, **channel_settings(mail))
    return settings


@pytest.fixture(scope="module")
async def channels(
    digest_settings: NotificationsSettings, directory: SeededDirectory
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(digest_settings, directory)) as client:
        yield client


@pytest.fixture
async def another_worker(
    digest_settings: NotificationsSettings,
) -> AsyncIterator[Callable[[], ChannelsWorker]]:
    """``build()``: a second (third...) worker process's channels worker, which has planned no
    digest yet, on a database handle of its own."""
    databases: list[Database] = []
    key = BlindIndex.from_b64(digest_settings.blind_index_key.get_secret_value())
    make_context = context_factory(digest_settings, platform_of(metadata), key)

    def build() -> ChannelsWorker:
        databases.append(Database(digest_settings.database_url, pool_size=2))
        return ChannelsWorker(databases[-1], digest_settings, make_context)

    yield build
    for database in databases:
        await database.dispose()


async def digests_of(db: AsyncEngine, sub: str) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM notifications.deliveries WHERE recipient = :r AND kind = 'digest'"),
            {"r": sub},
        )
        return [dict(row._mapping) for row in rows]


async def test_each_person_gets_one_digest_a_day_of_their_scope_whatever_the_workers(
    channels: httpx.AsyncClient,
    mail: MailServer,
    directory: SeededDirectory,
    db: AsyncEngine,
    digest_settings: NotificationsSettings,
    another_worker: Callable[[], ChannelsWorker],
) -> None:
    ward, quiet_ward = fresh_ward(), fresh_ward()
    far_ward = next(iter(wards_of("12")))
    supervisor = officer(directory, roles=["supervisor"], jurisdiction=[ward])
    opted_out = officer(directory, roles=["supervisor"], jurisdiction=[ward])
    await prefer(db, opted_out.sub, email_digest=False)
    elsewhere = officer(directory, roles=["supervisor"], jurisdiction=[quiet_ward])
    steering = officer(
        directory, roles=["supervisor"], jurisdiction=[ward], groups=["steering_committee"]
    )
    due = digest_due(datetime.now(UTC), digest_settings.digest_local_time)
    yesterday = due.until - timedelta(hours=1)
    missed = {"kind": "deadline.missed", "created_at": yesterday}
    told_twice = uuid.uuid4()
    await notify(db, "officer-a", ward_code=ward, source_event_id=told_twice, **missed)
    await notify(db, "officer-b", ward_code=ward, source_event_id=told_twice, **missed)
    await notify(db, "officer-a", ward_code=ward, **missed)
    await notify(
        db,
        "investigator-a",
        ward_code=ward,
        service="casework",
        record_type="case",
        deadline_kind="stage",
        **missed,
    )
    (far,) = await notify(db, "officer-far", ward_code=far_ward, province_code="12", **missed)
    await notify(db, "officer-a", ward_code=ward, created_at=yesterday)  # approaching: not missed
    await notify(db, "officer-a", ward_code=ward, kind="deadline.missed")  # today's: tomorrow's

    # Two worker processes plan the same day at once, and a restarted one plans it again.
    await asyncio.gather(another_worker().plan_digests(), another_worker().plan_digests())
    await another_worker().plan_digests()

    for person in (supervisor, steering):
        (digest,) = await digests_of(db, person.sub)
        assert digest["digest_key"] == f"digest:{due.day.isoformat()}:{person.sub}"
    assert await digests_of(db, opted_out.sub) == []
    assert await digests_of(db, elsewhere.sub) == []

    async def both_received() -> bool:
        return bool(mail.to(supervisor.email)) and bool(mail.to(steering.email))

    await eventually(both_received)
    await asyncio.sleep(1.5)
    (local,) = mail.to(supervisor.email)
    (national,) = mail.to(steering.email)
    assert mail.to(opted_out.email) == [] and mail.to(elsewhere.email) == []

    body = local.get_content()
    assert local["Subject"] == "[ctip] 3 việc quá hạn"
    assert local["Auto-Submitted"] == "auto-generated"
    assert "trong địa bàn của bạn" in body
    assert "* Tiếp nhận tin báo: Tin báo, hạn giải quyết: 2" in body
    assert "* Xử lý vụ án: Vụ án, hạn của giai đoạn tố tụng: 1" in body
    assert body.count("https://ctip.example/") == 3
    assert "officer-a" not in body and "investigator-a" not in body

    everything = national.get_content()
    assert "trên toàn quốc" in everything
    async with db.connect() as conn:
        far_link = (
            await conn.execute(
                text("SELECT link FROM notifications.notifications WHERE id = :id"), {"id": far}
            )
        ).scalar_one()
    assert far_link in everything and far_link not in body


async def test_a_day_when_nothing_was_missed_sends_nothing(
    channels: httpx.AsyncClient,
    directory: SeededDirectory,
    db: AsyncEngine,
    another_worker: Callable[[], ChannelsWorker],
) -> None:
    steering = officer(directory, groups=["steering_committee"])
    long_ago = datetime.now(UTC) - timedelta(days=30)
    assert await another_worker().plan_digests(now=long_ago) == 0
    assert await digests_of(db, steering.sub) == []
