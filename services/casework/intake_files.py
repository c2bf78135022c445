"""Casework's client of intake's file API. A tip's files stay with intake; when an officer of
the tip's case downloads one, casework asks intake for it with the caller's own token and
purpose (so intake checks and audits that read as well) and streams the answer through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

import httpx

from libs.common.errors import Forbidden, NotFound, Problem, ServiceUnavailable
from libs.common.observability import correlation_id
from services.casework.settings import CaseworkSettings


@dataclass
class Upstream:
    """Intake's answer, open: its bytes are read as they are sent on, then everything closes."""

    response: httpx.Response
    client: httpx.AsyncClient

    @property
    def length(self) -> int | None:
        value = self.response.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_raw():
                yield chunk
        finally:
            await self.close()

    async def close(self) -> None:
        await self.response.aclose()
        await self.client.aclose()


def _refusal(status: int) -> Problem:
    if status == 404:
        return NotFound("no such file")
    if status in (401, 403):
        return Forbidden("intake, which keeps the tip's files, refuses you this file")
    return ServiceUnavailable("intake, which keeps the tip's files, could not send this file")


async def open_tip_file(
    settings: CaseworkSettings,
    attachment_id: UUID,
    *,
    authorization: str,
    purpose: str,
    language: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Upstream:
    """Intake's ``GET /v1/attachments/{id}/content``, its headers read and its body not yet:
    a refusal is known before anything is sent to the caller."""
    headers = {
        "Authorization": authorization,
        "X-Purpose": purpose,
        "Accept-Encoding": "identity",
    }
    if cid := correlation_id.get():
        headers["X-Correlation-ID"] = cid
    if language:
        headers["Accept-Language"] = language
    client = httpx.AsyncClient(
        base_url=settings.intake_url,
        timeout=httpx.Timeout(settings.intake_timeout_seconds),
        transport=transport,
    )
    request = client.build_request(
        "GET", f"/v1/attachments/{attachment_id}/content", headers=headers
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        raise ServiceUnavailable("intake, which keeps the tip's files, cannot be reached") from exc
    if response.status_code != 200:
        await response.aclose()
        await client.aclose()
        raise _refusal(response.status_code)
    return Upstream(response, client)
