"""A partner province for the compose stack: an HTTPS receiver that this test process runs on
the host, where the interagency containers reach it as production allows, at a public address
over TLS.

Production sends webhooks only over https to public addresses (services/interagency/egress.py),
so the stack gets a network of its own on a public range, 192.88.99.0/28 (RFC 7526's retired
6to4 relay anycast: global to ``ipaddress``, used by nobody), whose gateway is this host. The
receiver listens on that gateway address; the interagency containers name it
``partner.ctip.test`` (an ``/etc/hosts`` line) and trust a throwaway CA added to the bundle their
HTTP client reads (certifi's: the sender ignores SSL_CERT_FILE). Each request is verified with
the ``standardwebhooks`` reference library and recorded with its ``webhook-id``.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

SUBNET = "192.88.99.0/28"
ADDRESS = "192.88.99.1"  # the network's gateway: this host
HOST = "partner.ctip.test"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate of :data:`HOST` signed by it: (bundle, cert, key), the
    bundle being certifi's with the CA appended, readable by the containers' user."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("ctip stack-test partner CA"))
        .issuer_name(_name("ctip stack-test partner CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(HOST))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(exist_ok=True)
    bundle, cert, private = directory / "bundle.pem", directory / "cert.pem", directory / "key.pem"
    pem = ca.public_bytes(serialization.Encoding.PEM)
    bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + pem)
    bundle.chmod(0o644)
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return bundle, cert, private


@dataclass(frozen=True)
class Hit:
    """One request the partner received."""

    code: str
    webhook_id: str
    verified: bool
    event: dict[str, Any]


class Receiver:
    """Partner endpoints at ``https://partner.ctip.test:<port>/hooks/<code>``; ``secrets[code]``
    verifies what we send that partner. Every request is answered 200 once verified (401 if
    not) and recorded, redeliveries too."""

    def __init__(self, cert: Path, key: Path, address: str = ADDRESS) -> None:
        self.secrets: dict[str, str] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                self.request.do_handshake()  # here, not in the accepting thread
                super().setup()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                code = self.path.rsplit("/", 1)[-1]
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secrets[code]).verify(body, headers)
                    verified = True
                except (KeyError, WebhookVerificationError):
                    verified = False
                try:
                    event = json.loads(body)
                except ValueError:
                    event = {}
                with receiver._lock:
                    receiver.hits.append(Hit(code, headers.get("webhook-id", ""), verified, event))
                self.send_response(200 if verified else 401)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, code: str) -> str:
        return f"https://{HOST}:{self.port}/hooks/{code}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def alerts_of(self, code: str, missing_person_id: str) -> list[Hit]:
        """The verified requests at partner ``code`` alerting of one missing person."""
        with self._lock:
            hits = list(self.hits)
        return [
            h
            for h in hits
            if h.code == code
            and h.verified
            and h.event.get("data", {}).get("missing_person_id") == missing_person_id
        ]

    def unverified(self) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if not h.verified]
