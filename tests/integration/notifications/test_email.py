"""E-mail against a real SMTP server (aiosmtpd, STARTTLS with a certificate this test made):
the sender itself first (TLS, authentication, refusals), then the channel end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.directory import SeededDirectory
from services.notifications.app import create_app
from services.notifications.email import SmtpConfig, SmtpSender, notices_message
from services.notifications.settings import NotificationsSettings
from testkit.mailserver import (
    PASSWORD,
    USERNAME,
    Certificates,
    MailServer,
    make_certificates,
)
from tests.integration.notifications.channels import (
    WINDOW_SECONDS,
    channel_settings,
    deliveries_of,
    local_time,
    notify,
    officer,
    prefer,
    sent,
)
from tests.support import bearer, eventually, running

pytestmark = pytest.mark.integration

FROM = "ctip <no-reply@ctip.example>"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(Path(tmp_path_factory.mktemp("smtp-tls")))


@pytest.fixture
def own_mail(certificates: Certificates) -> Iterator[MailServer]:
    """A mail server of one test's own, which no running worker sends to."""
    server = MailServer(certificates)
    server.up()
    yield server
    server.down()


def config(server: MailServer, **overrides: object) -> SmtpConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": USERNAME,
        "password": PASSWORD,
        "ca_file": str(server.certificates.ca_file),
        "timeout_seconds": 5.0,
    }
    values.update(overrides)
    return SmtpConfig(**values)  # type: ignore[arg-type]


class _Note:
    kind = "deadline.approaching"
    link = "/intake/v1/tips/0193a0b2-0000-7000-8000-000000000001"
    due_at = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def a_message(to: str = "canbo@hanoi.ctip.example") -> EmailMessage:
    return notices_message(
        [_Note()],
        to=to,
        locale="vi",
        delivery_id=uuid4(),
        from_address=FROM,
        base_url="https://ctip.example",
        now=datetime.now(UTC),
    )


async def test_the_sender_speaks_starttls_and_authenticates(own_mail: MailServer) -> None:
    sent = a_message()
    result = await SmtpSender(config(own_mail)).send(sent)
    assert result.code == 250 and result.error is None
    (got,) = own_mail.accepted
    assert got.tls and got.authenticated
    assert got.rcpt_tos == ["canbo@hanoi.ctip.example"]
    assert got.mail_from == "no-reply@ctip.example"
    assert got.message["Message-ID"] == sent["Message-ID"]
    assert got.message["Subject"] == "[ctip] Sắp đến hạn"


async def test_a_server_certificate_from_an_unknown_ca_is_refused(own_mail: MailServer) -> None:
    result = await SmtpSender(config(own_mail, ca_file=None)).send(a_message())
    assert result.code is None
    assert result.error is not None and "certificate" in result.error.lower()
    assert own_mail.accepted == []


async def test_a_server_without_starttls_is_refused_when_it_is_required(
    certificates: Certificates,
) -> None:
    plain = MailServer(certificates, starttls=False)
    plain.up()
    try:
        result = await SmtpSender(config(plain)).send(a_message())
    finally:
        plain.down()
    assert result.code is None and result.error is not None
    assert "STARTTLS" in result.error or "starttls" in result.error.lower()
    assert plain.accepted == []


async def test_a_refusal_at_data_is_reported_with_its_code(own_mail: MailServer) -> None:
    own_mail.refuse_next(451, 1)
    result = await SmtpSender(config(own_mail)).send(a_message())
    assert result.code == 451 and "try again later" in (result.error or "")
    assert own_mail.accepted == [] and len(own_mail.refusals) == 1


async def test_a_server_that_is_down_is_no_answer(certificates: Certificates) -> None:
    gone = MailServer(certificates)
    result = await SmtpSender(config(gone)).send(a_message())
    assert result.code is None and result.error


# The channel end to end: notifications in the table, the worker, the real server ------------------


@pytest.fixture(scope="module")
def mail(certificates: Certificates) -> Iterator[MailServer]:
    """The mail server the module's app sends through."""
    server = MailServer(certificates)
    server.up()
    yield server
    server.down()


@pytest.fixture(scope="module")
def email_settings(settings_for: Callable[..., Any], mail: MailServer) -> NotificationsSettings:
    settings: NotificationsSettings = settings_for(NotificationsSettings, **channel_settings(mail))
    return settings


@pytest.fixture(scope="module")
async def channels(
    email_settings: NotificationsSettings, directory: SeededDirectory
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(email_settings, directory)) as client:
        yield client


def received(mail: MailServer, address: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return len(mail.to(address)) >= count

    return probe


def all_sent(db: AsyncEngine, sub: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return len(sent(await deliveries_of(db, sub))) >= count

    return probe


async def test_one_window_of_notifications_is_one_message_in_the_persons_language(
    channels: httpx.AsyncClient, mail: MailServer, directory: SeededDirectory, db: AsyncEngine
) -> None:
    person = officer(directory)
    ids = await notify(db, person.sub, 2)
    ids += await notify(db, person.sub, kind="deadline.missed")
    await eventually(received(mail, person.email, 1))
    await asyncio.sleep(WINDOW_SECONDS + 1)  # nothing else follows for this window

    (message,) = mail.to(person.email)
    (delivery,) = await deliveries_of(db, person.sub)
    assert delivery["status"] == "sent" and delivery["attempts"] == 1
    assert sorted(delivery["notification_ids"]) == sorted(ids)
    assert message["From"] == "ctip <no-reply@ctip.example>"
    assert message["To"] == person.email
    assert message["Subject"] == "[ctip] 3 thông báo"
    assert message["Message-ID"] == f"<{delivery['id']}@ctip.example>"
    assert message["Content-Language"] == "vi"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert body.count("Sắp đến hạn") == 2 and body.count("Đã quá hạn") == 1
    assert body.count("https://ctip.example/intake/v1/tips/") == 3
    assert body.count("Thời hạn: ") == 3


async def test_a_reader_in_english_gets_english(
    channels: httpx.AsyncClient, mail: MailServer, directory: SeededDirectory, db: AsyncEngine
) -> None:
    person = officer(directory, locale="en")
    await notify(db, person.sub, kind="deadline.missed")
    await eventually(received(mail, person.email, 1))
    (message,) = mail.to(person.email)
    assert message["Subject"] == "[ctip] Deadline missed"
    assert message["Content-Language"] == "en"
    assert "(Viet Nam time)" in message.get_content()


async def test_the_next_window_is_the_next_message_under_its_own_id(
    channels: httpx.AsyncClient, mail: MailServer, directory: SeededDirectory, db: AsyncEngine
) -> None:
    person = officer(directory)
    await notify(db, person.sub)
    await eventually(received(mail, person.email, 1))
    await notify(db, person.sub)
    await eventually(received(mail, person.email, 2))
    first, second = mail.to(person.email)
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Subject"] == second["Subject"] == "[ctip] Sắp đến hạn"


async def test_e_mail_goes_only_to_those_who_keep_it_and_have_an_address(
    channels: httpx.AsyncClient, mail: MailServer, directory: SeededDirectory, db: AsyncEngine
) -> None:
    inbox_only = officer(directory)
    await prefer(db, inbox_only.sub, ["inbox"])
    no_address = officer(directory, email=False)
    keeps_it = officer(directory)
    await notify(db, inbox_only.sub)
    await notify(db, no_address.sub)
    await notify(db, keeps_it.sub)
    await eventually(received(mail, keeps_it.email, 1))
    await asyncio.sleep(WINDOW_SECONDS + 1)
    assert mail.to(inbox_only.email) == []
    assert await deliveries_of(db, inbox_only.sub) == []
    assert await deliveries_of(db, no_address.sub) == []


async def test_nothing_leaves_in_quiet_hours_and_it_goes_out_when_they_end(
    channels: httpx.AsyncClient, mail: MailServer, directory: SeededDirectory, db: AsyncEngine
) -> None:
    person = officer(directory)
    now = datetime.now(UTC)
    ends = now.replace(microsecond=0) + timedelta(seconds=WINDOW_SECONDS + 4)
    await prefer(db, person.sub, quiet=(local_time(now - timedelta(hours=1)), local_time(ends)))
    await notify(db, person.sub, 2)
    await asyncio.sleep(WINDOW_SECONDS + 1)
    (waiting,) = await deliveries_of(db, person.sub)
    assert waiting["status"] == "pending" and waiting["attempts"] == 0
    assert waiting["next_attempt_at"] == ends
    assert mail.to(person.email) == []

    await eventually(received(mail, person.email, 1))
    assert datetime.now(UTC) >= ends
    (message,) = mail.to(person.email)
    assert message["Subject"] == "[ctip] 2 thông báo"


async def test_a_server_refusing_for_a_while_gets_the_message_once_in_the_end(
    channels: httpx.AsyncClient, mail: MailServer, directory: SeededDirectory, db: AsyncEngine
) -> None:
    person = officer(directory)
    await eventually(all_settled(db))
    mail.refuse_next(451, 2)
    await notify(db, person.sub)
    await eventually(all_sent(db, person.sub, 1))
    await asyncio.sleep(1)

    (delivery,) = await deliveries_of(db, person.sub)
    assert delivery["status"] == "sent" and delivery["attempts"] == 3
    (message,) = mail.to(person.email)
    assert message["Message-ID"] == f"<{delivery['id']}@ctip.example>"


async def test_a_server_down_then_up_loses_nothing_and_sends_once(
    channels: httpx.AsyncClient, mail: MailServer, directory: SeededDirectory, db: AsyncEngine
) -> None:
    person = officer(directory)
    await eventually(all_settled(db))
    mail.down()
    try:
        await notify(db, person.sub)

        async def tried() -> bool:
            rows = await deliveries_of(db, person.sub)
            return bool(rows) and rows[0]["attempts"] >= 1

        await eventually(tried)
        (waiting,) = await deliveries_of(db, person.sub)
        assert waiting["status"] == "pending" and waiting["last_code"] is None
    finally:
        mail.up()
    await eventually(all_sent(db, person.sub, 1))
    await asyncio.sleep(1)
    assert len(mail.to(person.email)) == 1


async def test_a_permanent_refusal_is_kept_failed_and_an_administrator_replays_it(
    channels: httpx.AsyncClient,
    mail: MailServer,
    directory: SeededDirectory,
    db: AsyncEngine,
    email_settings: NotificationsSettings,
) -> None:
    person = officer(directory)
    admin = bearer(email_settings, "admin")
    await eventually(all_settled(db))
    mail.refuse_next(550, 1)
    await notify(db, person.sub)

    async def failed() -> dict[str, Any] | None:
        rows = await deliveries_of(db, person.sub)
        return rows[0] if rows and rows[0]["status"] == "failed" else None

    kept = await eventually(failed)
    assert kept["attempts"] == 1 and kept["last_code"] == 550
    listed = await channels.get(
        "/v1/notification-deliveries", params={"status": "failed"}, headers=admin
    )
    assert listed.status_code == 200, listed.text
    assert str(kept["id"]) in [d["id"] for d in listed.json()["items"]]
    officer_token = bearer(email_settings, "intake_officer", "01")
    refused = await channels.post(
        f"/v1/notification-deliveries/{kept['id']}/replay", headers=officer_token
    )
    assert refused.status_code == 403

    replayed = await channels.post(
        f"/v1/notification-deliveries/{kept['id']}/replay", headers=admin
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "pending" and replayed.json()["replays"] == 1
    await eventually(all_sent(db, person.sub, 1))
    (message,) = mail.to(person.email)
    assert message["Message-ID"] == f"<{kept['id']}@ctip.example>"
    again = await channels.post(f"/v1/notification-deliveries/{kept['id']}/replay", headers=admin)
    assert again.status_code == 409


def all_settled(db: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    """No e-mail pending: a scripted refusal meets the test's own message, not another's."""

    async def probe() -> bool:
        async with db.connect() as conn:
            row = await conn.execute(
                text(
                    "SELECT count(*) FROM notifications.deliveries"
                    " WHERE status = 'pending' AND channel = 'email'"
                )
            )
            return row.scalar_one() == 0

    return probe
