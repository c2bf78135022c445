"""The sending half of ``delivery.py``: one signed webhook request over a kept-alive connection
to the partner's checked address, and the cache of the alert bodies that are signed."""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

import httpx

from libs.common.events import CONTENT_TYPE
from libs.common.webhooks import signed_headers
from services.interagency.egress import Destination
from services.interagency.settings import InteragencySettings

USER_AGENT = "ctip-interagency/1.0 (+standard-webhooks)"
BODY_CACHE_SIZE = 256
CONNECTIONS_PER_DESTINATION = 2
KEEPALIVE_SECONDS = 30.0
MAX_ANSWER_BYTES = 64 * 1024  # of a partner's answer read; past it the connection is dropped


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: str | None = None


class BodyCache:
    """Each alert's signed-over body, built (decrypted, serialised) once per worker rather than
    once per partner: an alert to 20 partners is 20 deliveries of the same bytes."""

    def __init__(self, size: int = BODY_CACHE_SIZE) -> None:
        self.size = size
        self._bodies: OrderedDict[UUID, bytes] = OrderedDict()

    def get(self, alert_id: UUID) -> bytes | None:
        body = self._bodies.get(alert_id)
        if body is not None:
            self._bodies.move_to_end(alert_id)
        return body

    def put(self, alert_id: UUID, body: bytes) -> None:
        self._bodies[alert_id] = body
        self._bodies.move_to_end(alert_id)
        while len(self._bodies) > self.size:
            self._bodies.popitem(last=False)


ClientKey = tuple[str, str, int, str]


class Sender:
    """Clients by destination, each with its own small keep-alive pool."""

    def __init__(
        self, settings: InteragencySettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.transport = transport
        self._clients: dict[ClientKey, tuple[httpx.AsyncClient, float]] = {}

    def client_for(self, destination: Destination) -> httpx.AsyncClient:
        """A client, and so a keep-alive pool, per checked destination: the pinned address and
        the host name that goes with it (its ``Host``, SNI and certificate), so a connection is
        only ever reused for the partner address it was opened to."""
        scheme = "https" if destination.url.startswith("https:") else "http"
        key = (scheme, destination.address, destination.port, destination.host)
        found = self._clients.get(key)
        client = found[0] if found is not None else None
        if client is None:
            client = httpx.AsyncClient(
                timeout=self.settings.delivery_timeout_seconds,
                follow_redirects=False,
                trust_env=False,
                transport=self.transport,
                headers={"User-Agent": USER_AGENT},
                limits=httpx.Limits(
                    max_connections=CONNECTIONS_PER_DESTINATION,
                    max_keepalive_connections=CONNECTIONS_PER_DESTINATION,
                    keepalive_expiry=KEEPALIVE_SECONDS,
                ),
            )
        self._clients[key] = (client, time.monotonic())
        return client

    async def post(
        self, destination: Destination, keys: list[str], webhook_id: UUID, body: bytes
    ) -> AttemptResult:
        """One signed POST of ``body``; never raises for the partner's or the network's faults."""
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        headers = signed_headers(keys, str(webhook_id), int(time.time()), body)
        headers["content-type"] = CONTENT_TYPE
        headers["host"] = destination.host_header()
        https = destination.url.startswith("https:")
        extensions = {"sni_hostname": destination.host} if https else {}
        try:
            async with self.client_for(destination).stream(
                "POST",
                destination.pinned_url(),
                content=body,
                headers=headers,
                extensions=extensions,
            ) as response:
                # Read the answer to its end (a bounded amount of it), so that the connection
                # goes back to the pool for the next delivery instead of being closed.
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read > MAX_ANSWER_BYTES:
                        break
                return AttemptResult(
                    response.status_code,
                    None if response.is_success else f"HTTP {response.status_code}",
                    elapsed(),
                    response.headers.get("retry-after"),
                )
        except httpx.TimeoutException:
            return AttemptResult(None, "timed out", elapsed())
        except httpx.HTTPError as exc:
            return AttemptResult(None, f"{type(exc).__name__}: {exc}"[:500], elapsed())

    async def close(self, idle_seconds: float) -> None:
        """Close the clients unused for ``idle_seconds`` (all of them with 0)."""
        now = time.monotonic()
        for key, (client, used) in list(self._clients.items()):
            if now - used >= idle_seconds:
                del self._clients[key]
                with contextlib.suppress(Exception):
                    await client.aclose()
