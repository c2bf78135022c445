"""In-memory sliding-window rate limits, for guessing and flooding on public endpoints.

Keys are client addresses, but only an HMAC of them (with a random per-process salt) is held, in
memory, for the length of the window: no IP address of an anonymous reporter is ever stored.
Limits are per process; with N API replicas an attacker gets N times the budget, which the
README's arithmetic on receipt guessing takes into account.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections import OrderedDict, deque

from fastapi import Request

from libs.common.errors import TooManyRequests


def client_key(request: Request, *, trust_forwarded_for: bool = False) -> str:
    """The caller's address; ``X-Forwarded-For`` only when a trusted proxy sets it."""
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


class SlidingWindow:
    def __init__(self, limit: int, window_seconds: float, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._salt = os.urandom(16)
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _key(self, raw: str) -> str:
        return hmac.new(self._salt, raw.encode(), hashlib.sha256).hexdigest()[:24]

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = deque()
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def check(self, raw: str) -> None:
        """429 with ``Retry-After`` when ``raw`` has used up its budget in the window."""
        now = time.monotonic()
        hits = self._recent(self._key(raw), now)
        if len(hits) >= self.limit:
            retry = max(1, int(hits[0] + self.window - now) + 1)
            raise TooManyRequests(
                "too many attempts; try again later", headers={"Retry-After": str(retry)}
            )

    def hit(self, raw: str) -> None:
        now = time.monotonic()
        self._recent(self._key(raw), now).append(now)
