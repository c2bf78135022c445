"""E-mail against a real SMTP server (aiosmtpd, STARTTLS with a certificate this test made):
the sender itself first (TLS, authentication, refusals), then the channel end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from uuid import uuid4

import pytest

from services.notifications.email import SmtpConfig, SmtpSender, notices_message
from tests.integration.notifications.mailserver import (
    PASSWORD,
    USERNAME,
    Certificates,
    MailServer,
    make_certificates,
)

pytestmark = pytest.mark.integration

FROM = "ctip <no-reply@ctip.example>"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(Path(tmp_path_factory.mktemp("smtp-tls")))


@pytest.fixture
def mail(certificates: Certificates) -> Iterator[MailServer]:
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


async def test_the_sender_speaks_starttls_and_authenticates(mail: MailServer) -> None:
    sent = a_message()
    result = await SmtpSender(config(mail)).send(sent)
    assert result.code == 250 and result.error is None
    (got,) = mail.accepted
    assert got.tls and got.authenticated
    assert got.rcpt_tos == ["canbo@hanoi.ctip.example"]
    assert got.mail_from == "no-reply@ctip.example"
    assert got.message["Message-ID"] == sent["Message-ID"]
    assert got.message["Subject"] == "[ctip] Sắp đến hạn"


async def test_a_server_certificate_from_an_unknown_ca_is_refused(mail: MailServer) -> None:
    result = await SmtpSender(config(mail, ca_file=None)).send(a_message())
    assert result.code is None
    assert result.error is not None and "certificate" in result.error.lower()
    assert mail.accepted == []


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


async def test_a_refusal_at_data_is_reported_with_its_code(mail: MailServer) -> None:
    mail.refuse_next(451, 1)
    result = await SmtpSender(config(mail)).send(a_message())
    assert result.code == 451 and "try again later" in (result.error or "")
    assert mail.accepted == [] and len(mail.refusals) == 1


async def test_a_server_that_is_down_is_no_answer(certificates: Certificates) -> None:
    gone = MailServer(certificates)
    result = await SmtpSender(config(gone)).send(a_message())
    assert result.code is None and result.error
