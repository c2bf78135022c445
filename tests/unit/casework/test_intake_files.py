"""Casework's client of intake's file API, on a fake intake: what it forwards (the caller's
token and purpose, nothing compressed) and how intake's refusals reach the caller."""

from __future__ import annotations

import uuid

import httpx
import pytest

from libs.common.errors import Forbidden, NotFound, ServiceUnavailable
from services.casework import intake_files
from services.casework.settings import CaseworkSettings

SETTINGS = CaseworkSettings(intake_url="http://intake.test")
TOKEN = "Bearer the-callers-own"


async def test_the_callers_token_and_purpose_go_to_intake_and_the_bytes_come_back() -> None:
    seen: list[httpx.Request] = []
    attachment = uuid.uuid4()

    def intake(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = httpx.ByteStream(b"\xff\xd8\xff photo")
        return httpx.Response(200, stream=body, headers={"content-length": "10"})

    upstream = await intake_files.open_tip_file(
        SETTINGS,
        attachment,
        authorization=TOKEN,
        purpose="prepare the indictment",
        language="vi",
        transport=httpx.MockTransport(intake),
    )
    assert upstream.length == 10
    assert b"".join([chunk async for chunk in upstream.chunks()]) == b"\xff\xd8\xff photo"
    [request] = seen
    assert str(request.url) == f"http://intake.test/v1/attachments/{attachment}/content"
    assert request.headers["authorization"] == TOKEN
    assert request.headers["x-purpose"] == "prepare the indictment"
    assert request.headers["accept-encoding"] == "identity"
    assert request.headers["accept-language"] == "vi"


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        (404, NotFound),
        (403, Forbidden),
        (401, Forbidden),
        (500, ServiceUnavailable),
        (503, ServiceUnavailable),
    ],
)
async def test_intakes_refusal_is_known_before_any_byte_is_sent(
    status: int, problem: type[Exception]
) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json={}))
    with pytest.raises(problem):
        await intake_files.open_tip_file(
            SETTINGS, uuid.uuid4(), authorization=TOKEN, purpose="p" * 3, transport=transport
        )


async def test_intake_out_of_reach_is_503() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ServiceUnavailable, match="cannot be reached"):
        await intake_files.open_tip_file(
            SETTINGS,
            uuid.uuid4(),
            authorization=TOKEN,
            purpose="ppp",
            transport=httpx.MockTransport(refuse),
        )
