"""docs/operations.md: the generated references are current and the rest names every service."""

from __future__ import annotations

from deploy.gen_config_reference import (
    DOC,
    SECRET_DEFAULT,
    render,
    settings_reference,
    topics_reference,
)
from libs.common.kafka import DEFAULT_PARTITIONS
from libs.common.settings import DEV_AUDIT_KEY, DEV_FIELD_KEY, DEV_INDEX_KEY, DEV_JWT_SECRET
from tests.deploy.support import services, settings_class


def test_operations_doc_is_up_to_date_with_the_settings_and_topics() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "run: uv run python deploy/gen_config_reference.py --write"


def test_settings_reference_lists_every_setting_of_every_service() -> None:
    reference = settings_reference()
    for service in services():
        cls = settings_class(service)
        for name in cls.model_fields:
            shared = f"`CTIP_{name.upper()}`"
            own = f"`{cls.model_config['env_prefix']}{name.upper()}`"
            assert shared in reference or own in reference, f"{service}.{name}"


def test_settings_reference_shows_no_development_key() -> None:
    reference = settings_reference()
    for key in (DEV_FIELD_KEY, DEV_INDEX_KEY, DEV_AUDIT_KEY, DEV_JWT_SECRET):
        assert key not in reference
    assert reference.count(SECRET_DEFAULT) == 4


def test_topics_reference_names_partitions_producers_and_consumers() -> None:
    reference = topics_reference()
    assert f"Partitions: {DEFAULT_PARTITIONS}" in reference
    for topic, consumer in [
        ("intake.tip.v1", "casework"),
        ("intake.missing_person.v1", "interagency"),
        ("casework.case.v1", "victim_support"),
        ("interagency.alert.v1", "victim_support"),
        ("interagency.match.v1", "intake"),
    ]:
        row = next(line for line in reference.splitlines() if line.startswith(f"| `{topic}`"))
        assert consumer in row and f"`{topic}.dlt`" in row


def test_operations_doc_covers_scaling_backups_rotation_and_upgrades() -> None:
    text = DOC.read_text(encoding="utf-8")
    for needle in (
        "## Scaling",
        "advisory lock",
        "## Backups",
        "pg_dump",
        "CTIP_FIELD_KEYS=k2027a:<new b64>,k2026a:<old b64>",
        "/v1/partners/{code}/rotate-secret",
        "24 h",
        "## Upgrading",
        "expand/contract",
    ):
        assert needle in text, needle
    for service in services():
        assert f"`{service}`" in text
