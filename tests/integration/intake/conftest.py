"""Fixtures of intake's integration tests: settings for signing tokens, and tokens by role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.intake.settings import IntakeSettings
from tests.support import bearer

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def intake_settings(settings_for: Callable[..., Any]) -> IntakeSettings:
    settings: IntakeSettings = settings_for(IntakeSettings)
    return settings


@pytest.fixture(scope="session")
def auth(intake_settings: IntakeSettings) -> Auth:
    """``auth("intake_officer", "01")``: the Authorization header of such a caller."""

    def build(role: str, *jurisdiction: str, org: str | None = None) -> dict[str, str]:
        return bearer(intake_settings, role, *jurisdiction, org=org)

    return build


@pytest.fixture(scope="session")
def officer(auth: Auth) -> dict[str, str]:
    """An intake officer of Hà Nội (province 01)."""
    return auth("intake_officer", "01")
