"""The pure keyed chaining of the audit log and the sealing of its free text; appending and
verifying run in integration tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from libs.common.audit import (
    GENESIS,
    audit_key_from_b64,
    canonical_entry,
    entry_hash,
    open_details,
    seal_details,
    unkeyed_entry_hash,
)
from libs.common.crypto import DecryptionError, FieldCipher
from libs.common.settings import DEV_AUDIT_KEY, DEV_FIELD_KEY

KEY = audit_key_from_b64(DEV_AUDIT_KEY)
OTHER_KEY = b"another-audit-chain-key-32-bytes"


def _entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return entry_hash(KEY, prev_hash, entry)


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


def test_entry_hash_is_an_hmac_sha256_hex_digest() -> None:
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
    assert _entry_hash(GENESIS, canonical_entry(_row(at))) == _entry_hash(GENESIS, ENTRY)


def test_stored_row_read_back_in_another_time_zone_reproduces_the_hash() -> None:
    hanoi = timezone(timedelta(hours=7))
    at = datetime(2025, 7, 1, 15, 30, tzinfo=hanoi)
    assert _entry_hash(GENESIS, canonical_entry(_row(at))) == _entry_hash(GENESIS, ENTRY)


def test_entry_hash_is_keyed_so_an_unkeyed_sha256_never_matches() -> None:
    assert _entry_hash(GENESIS, ENTRY) != unkeyed_entry_hash(GENESIS, ENTRY)


def test_entry_hash_depends_on_the_key() -> None:
    assert entry_hash(OTHER_KEY, GENESIS, ENTRY) != _entry_hash(GENESIS, ENTRY)


def test_a_short_audit_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        audit_key_from_b64("c2hvcnQ=")


CIPHER = FieldCipher.from_spec(DEV_FIELD_KEY)
NOTE = "Gặp chị Lan ở bến xe Giáp Bát"  # synthetic


def test_free_text_is_sealed_and_other_details_stay_as_they_are() -> None:
    sealed = seal_details(CIPHER, "interagency", "match", "m-1", {"note": NOTE, "view": "full"})
    assert sealed["view"] == "full"
    assert sealed["note"].startswith("v1.") and "Lan" not in sealed["note"]
    assert open_details(CIPHER, "interagency", "match", "m-1", sealed)["note"] == NOTE


def test_sealing_twice_does_not_encrypt_a_sealed_note_again() -> None:
    once = seal_details(CIPHER, "interagency", "match", "m-1", {"note": NOTE})
    assert seal_details(CIPHER, "interagency", "match", "m-1", once) == once


def test_a_sealed_note_moved_to_another_record_does_not_decrypt() -> None:
    sealed = seal_details(CIPHER, "interagency", "match", "m-1", {"note": NOTE})
    with pytest.raises(DecryptionError):
        open_details(CIPHER, "interagency", "match", "m-2", sealed)
