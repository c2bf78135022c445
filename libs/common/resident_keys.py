"""A resident's ``Idempotency-Key``: a random UUID v4 or v7, required without a token.

The key of an anonymous filing is what protects the replayed answer, which holds the receipt
code shown once: anyone who sends the same key and body gets that answer again. A key an app
counts up (``1``, ``2``, ...) or derives from the time or a name would hand a reporter's code to
whoever tries it, so only a random UUID is taken (see :mod:`libs.common.idempotency`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header

from libs.common.errors import Unprocessable

RANDOM_KEY_RULE = "a UUID v4 or v7, new for each request"
ResidentIdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[\x21-\x7e]{1,200}$",
        description=f"Required without a token: {RANDOM_KEY_RULE} (crypto.randomUUID(), "
        "java.util.UUID.randomUUID(), uuid.uuid4()). The same key and body again return the "
        "first answer, receipt code included, so the key must be as unguessable as the code. "
        "With a token, any key of up to 200 characters.",
    ),
]
"""The key of a route residents use without a token (see :func:`check_random_key`)."""

# A random UUID's hex digits are spread over the 16 values; one built by hand (all zeros, a
# repeated digit, 0123...) uses few of them. Fewer distinct digits than this among the random
# ones is refused: the chance that a real v4 (30 random digits) or v7 (18) falls under it is
# below 1e-10.
_MIN_DISTINCT_RANDOM_DIGITS = 4


def _random_uuid(key: str) -> bool:
    """A UUID v4 or v7 (RFC 9562) as written, whose random digits are not a pattern."""
    try:
        parsed = uuid.UUID(key)
    except ValueError:
        return False
    if str(parsed) != key.lower() or parsed.variant != uuid.RFC_4122:
        return False
    digits = parsed.hex  # the version is digit 12, the variant's bits lead digit 16
    if parsed.version == 4:
        random_digits = digits[:12] + digits[13:16] + digits[17:]
    elif parsed.version == 7:  # the first 12 digits are the time
        random_digits = digits[13:16] + digits[17:]
    else:
        return False
    return len(set(random_digits)) >= _MIN_DISTINCT_RANDOM_DIGITS


def check_random_key(key: str | None) -> None:
    """The key of a caller without a token: present, and a UUID v4 or v7 (122 or 74 random
    bits) not written by hand; 422 naming ``Idempotency-Key`` otherwise."""
    if key is None:
        raise Unprocessable(
            "Idempotency-Key is required without a token",
            errors=[
                {
                    "field": "Idempotency-Key",
                    "message": "required: " + RANDOM_KEY_RULE,
                    "code": "idempotency_key.missing",
                }
            ],
        )
    if not _random_uuid(key):
        raise Unprocessable(
            "Idempotency-Key must be a random UUID",
            errors=[
                {
                    "field": "Idempotency-Key",
                    "message": "not " + RANDOM_KEY_RULE,
                    "code": "idempotency_key.not_random",
                }
            ],
        )
