"""Clients generated from the services' OpenAPI documents, as a frontend or partner developer
would generate them; the integration fixtures (a real PostgreSQL and Kafka) serve the calls."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from tests.integration.conftest import *  # noqa: F403  (stack, database_url, settings_for, intake)

SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach", "notifications")


@pytest.fixture(scope="session")
def openapi_documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each service's OpenAPI document, as ``GET /openapi.json`` serves it."""
    folder = tmp_path_factory.mktemp("openapi")
    documents = {}
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.app").create_app()
        path = folder / f"{service}.json"
        path.write_text(json.dumps(app.openapi()))
        documents[service] = path
    return documents
