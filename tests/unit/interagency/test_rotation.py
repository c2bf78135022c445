"""Secret rotation: the old secret keeps working for the overlap, in both directions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from libs.common.webhooks import WebhookVerificationError, generate_secret, signed_headers, verify
from services.interagency.domain import KeySet

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
BODY = b'{"data":{}}'


def test_a_fresh_ring_has_one_key() -> None:
    ring = KeySet(generate_secret())
    assert ring.keys(NOW) == [ring.current]


def test_after_rotation_both_keys_hold_until_the_overlap_ends() -> None:
    old, new = generate_secret(), generate_secret()
    ring = KeySet(old).rotate(new, NOW, DAY)
    assert ring.keys(NOW) == [new, old]
    assert ring.keys(NOW + DAY - timedelta(seconds=1)) == [new, old]
    assert ring.keys(NOW + DAY) == [new]


def test_outbound_during_the_overlap_is_signed_twice_and_either_secret_verifies() -> None:
    """The partner may still hold the old secret or already the new one."""
    old, new = generate_secret(), generate_secret()
    ring = KeySet(old).rotate(new, NOW, DAY)
    now = datetime.now(UTC)
    headers = signed_headers(ring.keys(NOW), "m1", int(now.timestamp()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


def test_inbound_during_the_overlap_accepts_old_and_new_and_after_it_only_new() -> None:
    old, new = generate_secret(), generate_secret()
    ring = KeySet(old).rotate(new, NOW, DAY)
    ts = int(NOW.timestamp())
    verify(ring.keys(NOW), signed_headers([old], "a", ts, BODY), BODY, now=NOW)
    verify(ring.keys(NOW), signed_headers([new], "b", ts, BODY), BODY, now=NOW)
    later = NOW + DAY + timedelta(minutes=1)
    late_ts = int(later.timestamp())
    verify(ring.keys(later), signed_headers([new], "c", late_ts, BODY), BODY, now=later)
    with pytest.raises(WebhookVerificationError):
        verify(ring.keys(later), signed_headers([old], "d", late_ts, BODY), BODY, now=later)


def test_rotating_twice_forgets_the_oldest() -> None:
    first, second, third = generate_secret(), generate_secret(), generate_secret()
    ring = KeySet(first).rotate(second, NOW, DAY).rotate(third, NOW, DAY)
    assert ring.keys(NOW) == [third, second]
