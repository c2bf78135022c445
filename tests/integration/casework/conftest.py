"""Fixtures of casework's integration tests: the casework app with its Kafka consumer (so that
intake's events reach it) and an intake API in-process to fetch tips' files from, its settings,
and tokens by role.

The app is started once per session: its consumer joins the ``casework`` group once instead of
once per test, and every test filters by the ids and wards it created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.casework.app import create_app
from services.casework.settings import CaseworkSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from tests.integration.casework.support import Auth
from tests.support import bearer, running


@pytest.fixture(scope="session")
def casework_settings(settings_for: Callable[..., Any]) -> CaseworkSettings:
    settings: CaseworkSettings = settings_for(CaseworkSettings)
    return settings


@pytest.fixture(scope="session")
def casework_app(casework_settings: CaseworkSettings) -> FastAPI:
    return create_app(casework_settings)


@pytest.fixture(scope="session")
async def casework(
    casework_app: FastAPI, settings_for: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    """The casework API, in-process, with its relay and its consumer of intake's events; it
    reaches intake's API (for tips' files) in-process too, on the same database."""
    intake = intake_app(settings_for(IntakeSettings, run_relay=False, run_consumers=False))
    casework_app.state.intake_transport = httpx.ASGITransport(app=intake)
    async with intake.router.lifespan_context(intake), running(casework_app) as client:
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
