"""Security regression fixtures: the integration fixtures (this session's own database and Kafka
topics), reused. Each ``test_<area>.py`` pins one finding of the security review (issue 13) per
test, written to fail on the code before the fix."""

from __future__ import annotations

import pytest

from tests.integration.conftest import *  # noqa: F403  (stack, database_url, topic_prefix, settings_for)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "security: a finding of the security review, pinned")
