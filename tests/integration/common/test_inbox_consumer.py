"""The idempotent consumer with handlers that fail: retries, then the DLT, and it moves on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from libs.common.db import Database
from libs.common.events import CloudEvent
from libs.common.inbox import EventConsumer
from libs.common.platform import platform_of
from services.casework.models import metadata
from services.casework.settings import CaseworkSettings
from tests.integration.common.inbox_support import dlt_headers, event, produce
from tests.support import eventually

platform = platform_of(metadata)

pytestmark = pytest.mark.integration


async def test_a_handler_that_always_fails_sends_the_event_to_the_dlt_and_the_next_is_handled(
    settings_for: Callable[..., Any], database: Database
) -> None:
    settings = settings_for(CaseworkSettings, topic_prefix=f"t{uuid.uuid4().hex[:8]}.")
    handled: list[str] = []
    attempts: dict[str, int] = {}

    async def handler(ctx: Any, e: CloudEvent, payload: Any) -> None:
        attempts[e.id] = attempts.get(e.id, 0) + 1
        if str(payload.tip_id).startswith("0000"):
            raise ValueError("this tip cannot be handled")
        handled.append(e.id)

    bad, good = event("00000000-0000-4000-8000-000000000001"), event(str(uuid.uuid4()))
    topic = settings.topic("intake.tip.v1")
    consumer = EventConsumer(
        database,
        platform.inbox,
        settings,
        {"intake.tip.received": handler},
        lambda session: session,
        group_id=f"test-{uuid.uuid4().hex[:6]}",
    )
    task = asyncio.create_task(consumer.run())
    try:
        await produce(settings, topic, "k", bad, good)
        await eventually(lambda: _returns(good.id in handled))
    finally:
        consumer.stop()
        await task
    assert attempts[bad.id] == settings.consumer_max_attempts
    headers = await dlt_headers(settings, topic, bad.id)
    assert headers["dlt-attempts"] == str(settings.consumer_max_attempts)
    assert headers["dlt-error-class"] == "ValueError"
    assert "cannot be handled" in headers["dlt-error-message"]


async def test_a_handler_that_fails_once_is_retried_and_its_effect_happens_once(
    settings_for: Callable[..., Any], database: Database
) -> None:
    settings = settings_for(CaseworkSettings, topic_prefix=f"t{uuid.uuid4().hex[:8]}.")
    calls: list[str] = []

    async def flaky(ctx: Any, e: CloudEvent, payload: Any) -> None:
        calls.append(e.id)
        if len(calls) == 1:
            raise RuntimeError("transient bug")

    e = event(str(uuid.uuid4()))
    consumer = EventConsumer(
        database,
        platform.inbox,
        settings,
        {"intake.tip.received": flaky},
        lambda session: session,
        group_id=f"test-{uuid.uuid4().hex[:6]}",
    )
    task = asyncio.create_task(consumer.run())
    try:
        await produce(settings, settings.topic("intake.tip.v1"), "k", e, e)
        await eventually(lambda: _returns(len(calls) >= 2))
        await asyncio.sleep(1.0)  # the duplicate must not reach the handler
    finally:
        consumer.stop()
        await task
    assert calls == [e.id, e.id]  # one failure, one success; the duplicate was dropped


async def _returns(value: bool) -> bool:
    return value
