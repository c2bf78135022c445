"""Fixtures of casework's integration tests: the casework app with its Kafka consumer (so that
intake's events reach it), its settings, and tokens by role.

The app is started once per session: its consumer joins the ``casework`` group once instead of
once per test, and every test filters by the ids and wards it created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.casework.app import create_app
from services.casework.settings import CaseworkSettings
from services.intake.settings import IntakeSettings
from tests.integration.casework.support import Auth
from tests.support import bearer, running


@pytest.fixture(scope="session")
def casework_settings(settings_for: Callable[..., Any]) -> CaseworkSettings:
    settings: CaseworkSettings = settings_for(CaseworkSettings)
    return settings


@pytest.fixture(scope="session")
async def casework(casework_settings: CaseworkSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The casework API, in-process, with its relay and its consumer of intake's events."""
    async with running(create_app(casework_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def auth(casework_settings: CaseworkSettings) -> Auth:
    """``auth("investigator", "01")``: the Authorization header of such a caller."""

    def build(role: str, *jurisdiction: str) -> dict[str, str]:
        return bearer(casework_settings, role, *jurisdiction)

    return build


@pytest.fixture(scope="session")
def intake_auth(settings_for: Callable[..., Any]) -> Auth:
    """Tokens for the intake API (the same development key, intake's own settings)."""
    settings: IntakeSettings = settings_for(IntakeSettings)

    def build(role: str, *jurisdiction: str) -> dict[str, str]:
        return bearer(settings, role, *jurisdiction)

    return build
