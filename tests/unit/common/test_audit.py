"""The pure hash chaining of the audit log; appending and verifying run in integration tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from libs.common.audit import GENESIS, _canonical, _entry_hash

ENTRY: dict[str, Any] = {
    "at": "2025-07-01T08:30:00+00:00",
    "actor": "officer-1",
    "roles": "intake_officer",
    "action": "read",
    "record_type": "tip",
    "record_id": "01980000-0000-7000-8000-000000000001",
    "purpose": "verify the tip",
    "details": {"fields": ["reporter_name"]},
    "correlation_id": "corr-1",
}


def test_entry_hash_is_a_sha256_hex_digest() -> None:
    digest = _entry_hash(GENESIS, ENTRY)
    assert len(digest) == 64
    int(digest, 16)


def test_entry_hash_is_deterministic() -> None:
    assert _entry_hash(GENESIS, ENTRY) == _entry_hash(GENESIS, dict(ENTRY))


def test_entry_hash_ignores_key_order() -> None:
    reordered = dict(reversed(list(ENTRY.items())))
    assert _entry_hash(GENESIS, reordered) == _entry_hash(GENESIS, ENTRY)


def test_entry_hash_depends_on_the_previous_hash() -> None:
    assert _entry_hash(GENESIS, ENTRY) != _entry_hash("f" * 64, ENTRY)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("at", "2025-07-01T08:30:00.000001+00:00"),
        ("actor", "officer-2"),
        ("roles", "admin,intake_officer"),
        ("action", "update"),
        ("record_type", "missing_person"),
        ("record_id", "01980000-0000-7000-8000-000000000002"),
        ("purpose", "curiosity"),
        ("details", {"fields": ["reporter_phone"]}),
        ("correlation_id", None),
    ],
)
def test_entry_hash_changes_when_any_field_changes(field: str, value: Any) -> None:
    assert _entry_hash(GENESIS, {**ENTRY, field: value}) != _entry_hash(GENESIS, ENTRY)


def test_chain_changes_downstream_when_an_earlier_entry_changes() -> None:
    second = {**ENTRY, "action": "export"}
    original = _entry_hash(_entry_hash(GENESIS, ENTRY), second)
    tampered = _entry_hash(_entry_hash(GENESIS, {**ENTRY, "purpose": "x"}), second)
    assert original != tampered


def _row(at: datetime) -> SimpleNamespace:
    return SimpleNamespace(**{**ENTRY, "at": at})


def test_stored_row_reproduces_the_hash_computed_when_recording() -> None:
    at = datetime(2025, 7, 1, 8, 30, tzinfo=UTC)
    assert _entry_hash(GENESIS, _canonical(_row(at))) == _entry_hash(GENESIS, ENTRY)


def test_stored_row_read_back_in_another_time_zone_reproduces_the_hash() -> None:
    hanoi = timezone(timedelta(hours=7))
    at = datetime(2025, 7, 1, 15, 30, tzinfo=hanoi)
    assert _entry_hash(GENESIS, _canonical(_row(at))) == _entry_hash(GENESIS, ENTRY)
