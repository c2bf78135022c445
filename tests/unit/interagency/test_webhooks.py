"""Our Standard Webhooks machinery against the ``standardwebhooks`` reference library."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from libs.common import webhooks
from libs.common.webhooks import WebhookVerificationError, generate_secret, sign, verify

BODY = '{"specversion":"1.0","data":{"full_name":"Lò Thị Mai"}}'.encode()
NOW = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)
TS = int(NOW.timestamp())


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != generate_secret()


def test_our_signature_is_the_reference_signature_byte_for_byte() -> None:
    secret = generate_secret()
    ours = sign([secret], "msg_1", TS, BODY)
    reference = Webhook(secret).sign("msg_1", NOW, BODY.decode())
    assert ours == reference
    # and it is the HMAC the spec defines, over "{id}.{ts}.{body}"
    import hashlib
    import hmac

    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, b"msg_1." + str(TS).encode() + b"." + BODY, hashlib.sha256).digest()
    assert ours == "v1," + base64.b64encode(mac).decode()


def test_the_reference_library_verifies_what_we_sign() -> None:
    secret = generate_secret()
    now = datetime.now(UTC)
    headers = webhooks.signed_headers([secret], "msg_2", int(now.timestamp()), BODY)
    assert Webhook(secret).verify(BODY, headers) == {
        "specversion": "1.0",
        "data": {"full_name": "Lò Thị Mai"},
    }


def test_we_verify_what_the_reference_library_signs() -> None:
    secret = generate_secret()
    headers = {
        "webhook-id": "msg_3",
        "webhook-timestamp": str(TS),
        "webhook-signature": Webhook(secret).sign("msg_3", NOW, BODY.decode()),
    }
    verified = verify([secret], headers, BODY, now=NOW)
    assert (verified.msg_id, verified.timestamp) == ("msg_3", TS)


def _headers(secret: str, msg_id: str = "m", ts: int = TS, body: bytes = BODY) -> dict[str, str]:
    return webhooks.signed_headers([secret], msg_id, ts, body)


def test_another_secret_fails() -> None:
    with pytest.raises(WebhookVerificationError):
        verify([generate_secret()], _headers(generate_secret()), BODY, now=NOW)


def test_a_changed_body_fails() -> None:
    secret = generate_secret()
    with pytest.raises(WebhookVerificationError):
        verify([secret], _headers(secret), BODY.replace(b"Mai", b"Lan"), now=NOW)


def test_a_changed_id_fails() -> None:
    secret = generate_secret()
    headers = {**_headers(secret), "webhook-id": "other"}
    with pytest.raises(WebhookVerificationError):
        verify([secret], headers, BODY, now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 86400])
def test_a_timestamp_more_than_300_seconds_off_fails(skew: int) -> None:
    secret = generate_secret()
    headers = _headers(secret, ts=TS + skew)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify([secret], headers, BODY, now=NOW)


@pytest.mark.parametrize("skew", [300, -300, 0])
def test_a_timestamp_within_300_seconds_passes(skew: int) -> None:
    secret = generate_secret()
    verify([secret], _headers(secret, ts=TS + skew), BODY, now=NOW)


@pytest.mark.parametrize(
    "broken",
    [
        {"webhook-signature": ""},
        {"webhook-signature": "v1"},
        {"webhook-signature": "v1,not-base64!!"},
        {"webhook-signature": "v2,AAAA"},
        {"webhook-timestamp": "soon"},
        {"webhook-timestamp": "-5"},
        {"webhook-id": ""},
        {"webhook-id": "a\nb"},
    ],
)
def test_malformed_headers_fail_cleanly(broken: dict[str, str]) -> None:
    secret = generate_secret()
    with pytest.raises(WebhookVerificationError):
        verify([secret], {**_headers(secret), **broken}, BODY, now=NOW)


def test_missing_headers_fail() -> None:
    secret = generate_secret()
    headers = _headers(secret)
    del headers["webhook-signature"]
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify([secret], headers, BODY, now=NOW)


def test_headers_are_case_insensitive() -> None:
    secret = generate_secret()
    headers = {k.upper(): v for k, v in _headers(secret).items()}
    verify([secret], headers, BODY, now=NOW)


def test_a_signature_list_passes_when_any_entry_matches() -> None:
    old, new = generate_secret(), generate_secret()
    header = sign([old, new], "m", TS, BODY)
    assert len(header.split(" ")) == 2
    for key in (old, new):
        verify(
            [key],
            {"webhook-id": "m", "webhook-timestamp": str(TS), "webhook-signature": header},
            BODY,
            now=NOW,
        )
        # the reference library accepts a dual signature with either key too
        Webhook(key).verify(
            BODY,
            {
                "webhook-id": "m",
                "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                "webhook-signature": sign(
                    [old, new], "m", int(datetime.now(UTC).timestamp()), BODY
                ),
            },
        )


def test_a_verifier_holding_two_keys_accepts_either() -> None:
    old, new = generate_secret(), generate_secret()
    verify([new, old], _headers(old), BODY, now=NOW)
    verify([new, old], _headers(new), BODY, now=NOW)


@pytest.mark.parametrize(
    "bad", ["secret", "whsec_", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_weak_or_malformed_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        sign([bad], "m", TS, BODY)


def test_timestamps_use_unix_seconds_of_the_attempt() -> None:
    secret = generate_secret()
    later = NOW + timedelta(minutes=3)
    headers = _headers(secret, ts=int(later.timestamp()))
    assert headers["webhook-timestamp"] == str(TS + 180)
    verify([secret], headers, BODY, now=later)
