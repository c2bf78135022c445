"""A real SMTP server for the tests and the benchmarks: ``aiosmtpd`` on a free 127.0.0.1 port,
STARTTLS required, with a certificate made for the run (a private CA of its own, whose PEM the
sender is told to trust, and a server certificate for 127.0.0.1 and localhost), AUTH PLAIN/LOGIN
only over TLS.

It records every message it accepted, and answers from a script: ``refuse_next(451, n)`` makes
the next ``n`` transactions fail at DATA (as a greylisting or overloaded server does), ``down()``
stops listening (the server is gone) and ``up()`` listens again on the same port.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "ctip-notifications"
PASSWORD = "synthetic-smtp-password"  # noqa: S105 - the test mail server's own, synthetic


@dataclass
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_certificates(directory: Path) -> Certificates:
    """A CA of the test's own and a server certificate it signed, valid for a day."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ctip test mail CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Accepted:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool


@dataclass
class _Handler:
    """aiosmtpd calls these from its own thread; the lock guards what the test reads."""

    accepted: list[Accepted] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    refuse_with: int = 0
    refuse_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.refuse_left > 0:
                self.refuse_left -= 1
                self.refusals.append(str(envelope.mail_from))
                return f"{self.refuse_with} 4.3.0 try again later (scripted)"
            raw = envelope.original_content or envelope.content or b""
            parsed = message_from_bytes(
                raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default
            )
            assert isinstance(parsed, EmailMessage)
            self.accepted.append(
                Accepted(
                    str(envelope.mail_from),
                    list(envelope.rcpt_tos),
                    parsed,
                    tls=session.ssl is not None,
                    authenticated=bool(session.authenticated),
                )
            )
        return "250 2.0.0 accepted"


def _authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok)


class MailServer:
    """``start()`` once; ``accepted`` is what it took, ``refusals`` what it refused."""

    def __init__(self, certificates: Certificates, *, starttls: bool = True) -> None:
        self.certificates = certificates
        self.port = free_port()
        self.handler = _Handler()
        self.starttls = starttls
        self._controller: Controller | None = None

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificates.cert_file, self.certificates.key_file)
        return context

    def up(self) -> None:
        tls: dict[str, Any] = (
            {
                "tls_context": self._tls(),
                "require_starttls": True,
                "auth_required": True,
                "authenticator": _authenticate,
            }
            if self.starttls
            else {}
        )
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **tls)
        self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def accepted(self) -> list[Accepted]:
        with self.handler.lock:
            return list(self.handler.accepted)

    @property
    def refusals(self) -> list[str]:
        with self.handler.lock:
            return list(self.handler.refusals)

    def refuse_next(self, code: int, times: int) -> None:
        with self.handler.lock:
            self.handler.refuse_with = code
            self.handler.refuse_left = times

    def to(self, address: str) -> list[EmailMessage]:
        return [a.message for a in self.accepted if address in a.rcpt_tos]
