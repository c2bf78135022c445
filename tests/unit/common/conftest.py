"""Fixtures for the unit tests of ``libs/common``: nothing running, no CTIP_* leaking in."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clean_ctip_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment; a developer's shell must not change what a test sees."""
    for name in list(os.environ):
        if name.upper().startswith("CTIP_"):
            monkeypatch.delenv(name)
