"""The webhook channel: a notification POSTed, signed as Standard Webhooks (the same signing as
the partners' webhooks, ``libs/common/webhooks.py``), to the gateway a province runs to pass it
on by SMS or Zalo.

The body is a CloudEvent whose ``data`` is the notification without anything personal: whom it
is for (the person's ``sub``, which the province's gateway maps to a phone it keeps), its kind,
the record's link and the deadline. ``webhook-id`` is the delivery's id on every attempt, so a
gateway that got a message after all drops the retry.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from libs.common.events import CONTENT_TYPE
from libs.common.webhooks import signed_headers
from services.notifications.messages import Notified

EVENT_TYPE = "vn.ctip.notifications.notification.v1"
SOURCE = "/ctip/notifications"
USER_AGENT = "ctip-notifications/1.0 (+standard-webhooks)"


class UnsafeEndpoint(ValueError):
    """The URL may not receive notifications; the message says why."""


def check_endpoint(url: str, *, allow_http: bool) -> str:
    """``url`` if it may receive notifications: https (plain http only in the test environment,
    whose receivers run on the loopback), a host, no credentials, no fragment.

    The partners' SSRF rules (``services/interagency/egress.py``) are not shared machinery yet,
    and a province's gateway is set by an administrator, not by a partner."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise UnsafeEndpoint("not a valid URL") from exc
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise UnsafeEndpoint("a notification endpoint must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeEndpoint("credentials in the URL are refused; we sign every request instead")
    if parts.fragment:
        raise UnsafeEndpoint("a webhook URL has no fragment")
    if not parts.hostname:
        raise UnsafeEndpoint("the URL has no host")
    return url


class Notification(Notified, Protocol):
    """The fields of a notification that a gateway receives: what a message reads, and who and
    where it is for."""

    @property
    def id(self) -> UUID: ...
    @property
    def recipient(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def ward_code(self) -> str | None: ...
    @property
    def province_code(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def notification_event(notification: Notification) -> bytes:
    """The CloudEvent for ``notification``; the same bytes on every attempt."""
    event = {
        "specversion": "1.0",
        "id": str(notification.id),
        "source": SOURCE,
        "type": EVENT_TYPE,
        "subject": str(notification.record_id),
        "time": _iso(notification.created_at),
        "datacontenttype": "application/json",
        "data": {
            "id": str(notification.id),
            "recipient": notification.recipient,
            "kind": notification.kind,
            "service": notification.service,
            "record_type": notification.record_type,
            "record_id": str(notification.record_id),
            "deadline_kind": notification.deadline_kind,
            "due_at": _iso(notification.due_at),
            "ward_code": notification.ward_code,
            "province_code": notification.province_code,
            "link": notification.link,
        },
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class WebhookResult:
    status_code: int | None
    error: str | None = None
    retry_after: str | None = None


async def post(
    client: httpx.AsyncClient, *, url: str, secret: str, delivery_id: UUID, body: bytes
) -> WebhookResult:
    """One signed attempt; redirects are not followed (the client is built without)."""
    headers = signed_headers([secret], str(delivery_id), int(time.time()), body)
    headers["content-type"] = CONTENT_TYPE
    headers["user-agent"] = USER_AGENT
    try:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            return WebhookResult(
                response.status_code,
                None if response.is_success else f"HTTP {response.status_code}",
                response.headers.get("retry-after"),
            )
    except httpx.TimeoutException:
        return WebhookResult(None, "timed out")
    except httpx.HTTPError as exc:
        return WebhookResult(None, f"{type(exc).__name__}: {exc}"[:500])
