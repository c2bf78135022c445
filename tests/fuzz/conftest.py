"""Fuzz fixtures: the integration fixtures (this session's own database and Kafka topics), reused,
and the ``fuzz`` marker."""

from __future__ import annotations

import pytest

from tests.integration.conftest import *  # noqa: F403  (stack, database_url, topic_prefix, settings_for)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fuzz: property-based API fuzzing (schemathesis) and domain properties (hypothesis)",
    )
