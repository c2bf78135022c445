from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.victim_support.app import create_app
from services.victim_support.settings import VictimSupportSettings
from tests.support import running


@pytest.fixture
async def victim_support(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The victim_support API in-process, with its relay and its consumer."""
    async with running(create_app(settings_for(VictimSupportSettings))) as client:
        yield client
