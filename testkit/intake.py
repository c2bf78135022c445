"""What a residents' app sends with every anonymous POST: a fresh random ``Idempotency-Key``."""

from __future__ import annotations

import uuid


def resident_key() -> dict[str, str]:
    """A new UUID v4 as the ``Idempotency-Key`` header, as an app makes one per tip or report
    (and keeps for the retries of that one)."""
    return {"Idempotency-Key": str(uuid.uuid4())}
