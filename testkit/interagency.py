"""Acting as a partner province: the events a partner sends, signed as a partner signs them."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from libs.common.webhooks import signed_headers


def partner_event(code: str, data: dict[str, Any], *, event_id: str | None = None) -> bytes:
    event = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": f"/partners/{code}",
        "type": "vn.ctip.interagency.alert.v1",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(event, ensure_ascii=False).encode()


async def post_signed(
    client: httpx.AsyncClient,
    code: str,
    secret: str | list[str],
    body: bytes,
    *,
    webhook_id: str | None = None,
    timestamp: int | None = None,
    path_code: str | None = None,
) -> httpx.Response:
    keys = [secret] if isinstance(secret, str) else secret
    headers = signed_headers(
        keys,
        webhook_id or f"msg_{uuid.uuid4().hex}",
        timestamp if timestamp is not None else int(time.time()),
        body,
    )
    headers["content-type"] = "application/cloudevents+json"
    return await client.post(f"/v1/inbound/{path_code or code}", content=body, headers=headers)


def person_found(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "alert_type": "person_found",
        "full_name": "Lo Thi Mai",
        "sex": "female",
        "age": 17,
        "found_at": datetime.now(UTC).isoformat(),
        "found_place": "Synthetic border gate",
        "nationality": "VN",
        "contact_agency": "Synthetic border guard post",
    }
    data.update(overrides)
    return data
