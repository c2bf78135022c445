"""A resident's Idempotency-Key: a random UUID v4 or v7, or a 422 naming the header."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from libs.common.errors import Unprocessable
from libs.common.resident_keys import check_random_key


def uuid7() -> str:
    """RFC 9562 version 7: 48 bits of Unix milliseconds, then 74 random bits."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant
    return str(uuid.UUID(int=value))


@pytest.mark.parametrize(
    "key", [str(uuid.uuid4()), str(uuid.uuid4()).upper(), uuid7(), uuid7().upper()]
)
def test_a_random_uuid_v4_or_v7_is_accepted(key: str) -> None:
    check_random_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "1",
        "abc",
        "tip-2026-01-05",
        str(uuid.uuid4()).replace("-", ""),  # a v4, not written as a UUID is
        "{" + str(uuid.uuid4()) + "}",
        str(uuid.uuid1()),  # the time and the machine
        str(uuid.uuid3(uuid.NAMESPACE_DNS, "ctip.gov.vn")),  # a name anyone can hash again
        str(uuid.uuid5(uuid.NAMESPACE_DNS, "ctip.gov.vn")),
        "00000000-0000-0000-0000-000000000000",
        "00000000-0000-4000-8000-000000000000",  # a v4's shape, nothing random in it
        "11111111-1111-4111-9111-111111111111",
        "01201201-2012-4012-8012-012012012012",  # three distinct random digits
        "0192f3a0-8b6c-7000-8000-000000000000",  # a v7 whose random part is zeros
        "7c9e6679-7425-40de-c44b-e07fc1f90ae7",  # not the RFC 9562 variant
    ],
)
def test_a_short_predictable_or_other_key_is_422_naming_the_header(key: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_random_key(key)
    assert caught.value.errors == [
        {
            "field": "Idempotency-Key",
            "message": "not a UUID v4 or v7, new for each request",
            "code": "idempotency_key.not_random",
        }
    ]


def test_no_key_is_422_saying_one_is_required() -> None:
    with pytest.raises(Unprocessable) as caught:
        check_random_key(None)
    assert caught.value.errors == [
        {
            "field": "Idempotency-Key",
            "message": "required: a UUID v4 or v7, new for each request",
            "code": "idempotency_key.missing",
        }
    ]


def test_a_real_random_key_is_never_refused_as_a_pattern() -> None:
    for _ in range(20_000):
        check_random_key(str(uuid.uuid4()))
        check_random_key(uuid7())
