"""Standard Webhooks (v1, symmetric): secrets, signing and verification, shared machinery.

* A secret is ``whsec_`` + base64 of 32 random bytes (the spec asks for at least 24).
* The signed content is ``"{webhook-id}.{webhook-timestamp}.{raw body}"``; the signature header is
  a space-separated list of ``v1,<base64 HMAC-SHA256>``, so during a key rotation the sender signs
  with the old and the new key and the receiver accepts either.
* Signing goes through the ``standardwebhooks`` reference library. Verification is our own, over
  the raw bytes, because the library's ``verify`` reads the clock itself, checks one key and
  raises ``ValueError``/``binascii.Error`` (not its own error) on malformed headers; here every
  malformed input is a :class:`WebhookVerificationError` and every comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
DEFAULT_TOLERANCE_SECONDS = 300

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SIGNED_HEADERS_DOC = {
    ID_HEADER: "the message id: the same on every retry of one message; deduplicate on it",
    TIMESTAMP_HEADER: "seconds since the epoch when this attempt was signed (5 minutes' tolerance)",
    SIGNATURE_HEADER: "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated during a "
    "rotation (Standard Webhooks)",
}
"""The Standard Webhooks headers, as the OpenAPI documents describe them."""


class WebhookVerificationError(Exception):
    """The request is not provably from the holder of the secret (or it is too old or new)."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key behind ``whsec_<base64>``; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is base64 after whsec_") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret holds at least {MIN_SECRET_BYTES} bytes")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` entry, computed by the reference library."""
    return Webhook(key).sign(
        msg_id=msg_id,
        timestamp=datetime.fromtimestamp(timestamp, tz=UTC),
        data=body.decode("utf-8"),
    )


def sign(keys: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1`` entry per key, space-separated.

    ``body`` must be UTF-8 (our bodies are JSON); the library signs text.
    """
    entries = [_signature(secret_bytes(k), msg_id, timestamp, body) for k in keys]
    if not entries:
        raise ValueError("at least one key signs a webhook")
    return " ".join(entries)


def signed_headers(keys: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(keys, msg_id, timestamp, body),
    }


@dataclass(frozen=True)
class VerifiedWebhook:
    msg_id: str
    timestamp: int


def verify(
    keys: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> VerifiedWebhook:
    """Check the three headers against ``body`` with any of ``keys``; raise if none holds."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get(ID_HEADER, "")
    raw_timestamp = lowered.get(TIMESTAMP_HEADER, "")
    signature_header = lowered.get(SIGNATURE_HEADER, "")
    if not (msg_id and raw_timestamp and signature_header):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if len(msg_id) > 200 or not msg_id.isascii() or not msg_id.isprintable():
        raise WebhookVerificationError("webhook-id is not a printable ASCII id of <= 200 chars")
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit() and len(raw_timestamp) <= 12):
        raise WebhookVerificationError("webhook-timestamp is not unix seconds")
    timestamp = int(raw_timestamp)
    current = (now or datetime.now(UTC)).timestamp()
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookVerificationError("the body is not UTF-8") from exc
    offered: list[bytes] = []
    for entry in signature_header.split(" ")[:10]:
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            offered.append(base64.b64decode(encoded, validate=True))
        except binascii.Error:
            continue
    matched = False
    for key in keys:
        expected = base64.b64decode(_signature(secret_bytes(key), msg_id, timestamp, body)[3:])
        for candidate in offered:
            # no early exit: the time taken does not tell which key or entry matched
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookVerificationError("no matching signature")
    return VerifiedWebhook(msg_id=msg_id, timestamp=timestamp)
