"""Integrations as a partner's or an NGO's developer builds them (docs/integrations/): the
examples run against the real services, on the integration fixtures (a real PostgreSQL and
Kafka, this session's own database and topics)."""

from __future__ import annotations

from tests.integration.conftest import *  # noqa: F403  (stack, database_url, settings_for, db)
