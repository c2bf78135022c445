"""E-mail: the messages (a person's notifications of one window, a daily digest) in the person's
language, and their sending over SMTP with STARTTLS.

A message says what kind of reminder it is, where the record is and when its deadline falls:
never a name, a phone or a description, which stay behind the link for those allowed to see
them. Its ``Message-ID`` is the delivery's, the same on every attempt, so that a retry after an
ambiguous failure (the line dropped after the data was sent) is recognisable as the same
message by the receiving server and by the reader's mail program.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol
from uuid import UUID

import aiosmtplib
from babel.dates import format_datetime as local_datetime

from libs.common.i18n import translate
from libs.common.schemas import VIETNAM
from services.notifications.channel_rules import DigestLine

SUPPORTED_LANGUAGES = ("vi", "en")

KIND_LABELS = {
    "deadline.approaching": "Deadline approaching",
    "deadline.missed": "Deadline missed",
    "assigned": "Assigned to you",
}
SERVICE_LABELS = {"intake": "Intake", "casework": "Casework", "victim_support": "Victim support"}
RECORD_LABELS = {"tip": "Tips", "case": "Cases", "victim": "Victim records"}
DEADLINE_LABELS = {
    "resolution": "resolution deadline",
    "extension_request": "last day to request an extension",
    "verification": "3-day verification",
    "stage": "stage deadline",
}


class Notice(Protocol):
    """What an e-mail tells of one notification."""

    @property
    def kind(self) -> str: ...

    @property
    def link(self) -> str: ...

    @property
    def due_at(self) -> datetime | None: ...


def language_of(locale: str | None) -> str:
    """The person's language if we write it (``vi-VN`` is Vietnamese), else English."""
    primary = (locale or "").split("-")[0].split("_")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else "en"


def message_id(delivery_id: UUID, from_address: str) -> str:
    """One ``Message-ID`` per delivery, whatever the attempt."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "ctip.invalid"
    return f"<{delivery_id}@{domain}>"


def _when(moment: datetime, language: str) -> str:
    locale = "vi_VN" if language == "vi" else "en_GB"
    shown = local_datetime(moment, "dd/MM/yyyy HH:mm", tzinfo=VIETNAM, locale=locale)
    return translate(f"{shown} (Viet Nam time)", language)


def _url(base: str, link: str) -> str:
    return base.rstrip("/") + link


def _envelope(
    *,
    to: str,
    subject: str,
    body: str,
    language: str,
    delivery_id: UUID,
    from_address: str,
    now: datetime,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = Address(addr_spec=to)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(delivery_id, from_address)
    # RFC 3834: a machine wrote this; out-of-office replies and auto-forwards should stay away.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body, charset="utf-8")
    message["Content-Language"] = language  # after the content, which replaces Content-*
    return message


def notices_message(
    notices: Sequence[Notice],
    *,
    to: str,
    locale: str | None,
    delivery_id: UUID,
    from_address: str,
    base_url: str,
    now: datetime,
) -> EmailMessage:
    """The one message of a person's window: each notification's kind, link and deadline."""
    language = language_of(locale)

    def t(text: str) -> str:
        return translate(text, language)

    if len(notices) == 1:
        subject = "[ctip] " + t(KIND_LABELS.get(notices[0].kind, notices[0].kind))
    else:
        subject = t(f"[ctip] {len(notices)} notifications")
    lines = [t("Notifications from ctip about records you follow:"), ""]
    for notice in notices:
        lines.append(f"* {t(KIND_LABELS.get(notice.kind, notice.kind))}")
        lines.append(f"  {_url(base_url, notice.link)}")
        if notice.due_at is not None:
            lines.append("  " + t(f"Deadline: {_when(notice.due_at, language)}"))
    lines += ["", _footer(language)]
    return _envelope(
        to=to,
        subject=subject,
        body="\n".join(lines) + "\n",
        language=language,
        delivery_id=delivery_id,
        from_address=from_address,
        now=now,
    )


def digest_message(
    lines: Sequence[DigestLine],
    links: Sequence[str],
    *,
    national: bool,
    since: datetime,
    until: datetime,
    to: str,
    locale: str | None,
    delivery_id: UUID,
    from_address: str,
    base_url: str,
    now: datetime,
    max_links: int = 50,
) -> EmailMessage:
    """A daily digest: counts per service, record type and deadline, and the records' links."""
    language = language_of(locale)

    def t(text: str) -> str:
        return translate(text, language)

    total = sum(line.count for line in lines)
    subject = t(f"[ctip] {total} deadlines missed")
    span = f"{_when(since, language)} - {_when(until, language)}"
    head = (
        t(f"Deadlines missed nationally, {span}:")
        if national
        else t(f"Deadlines missed in your jurisdiction, {span}:")
    )
    body = [head, ""]
    for line in lines:
        record = t(RECORD_LABELS.get(line.record_type, line.record_type))
        deadline = t(DEADLINE_LABELS.get(line.deadline_kind, line.deadline_kind))
        service = t(SERVICE_LABELS.get(line.service, line.service))
        body.append(f"* {service}: {record}, {deadline}: {line.count}")
    body += ["", t("Records:")]
    body += [f"  {_url(base_url, link)}" for link in links[:max_links]]
    if len(links) > max_links:
        body.append("  " + t(f"and {len(links) - max_links} more"))
    body += ["", _footer(language)]
    return _envelope(
        to=to,
        subject=subject,
        body="\n".join(body) + "\n",
        language=language,
        delivery_id=delivery_id,
        from_address=from_address,
        now=now,
    )


def _footer(language: str) -> str:
    return translate(
        "This message was sent automatically; do not reply. Choose your channels and quiet"
        " hours in ctip.",
        language,
    )


# Sending ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls_required: bool = True
    implicit_tls: bool = False
    ca_file: str | None = None
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class SmtpResult:
    """The server's last reply code (None when it never answered) and why it failed."""

    code: int | None
    error: str | None = None


class SmtpSender:
    """One connection per message: a notification channel sends a few messages a minute, and a
    connection of its own keeps one refused message from poisoning the next."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.tls = ssl.create_default_context(cafile=config.ca_file)

    async def send(self, message: EmailMessage) -> SmtpResult:
        config = self.config
        try:
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username or None,
                password=config.password or None,
                use_tls=config.implicit_tls,
                # True refuses a server that offers no STARTTLS; None uses it when offered.
                start_tls=None if config.implicit_tls else (config.starttls_required or None),
                tls_context=self.tls,
                timeout=config.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return SmtpResult(refused.code, f"{refused.code} {refused.message}"[:500])
        except aiosmtplib.SMTPResponseException as exc:
            return SmtpResult(exc.code, f"{exc.code} {exc.message}"[:500])
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SmtpResult(None, f"{type(exc).__name__}: {exc}"[:500])
        return SmtpResult(250)  # the data was accepted for the one recipient
