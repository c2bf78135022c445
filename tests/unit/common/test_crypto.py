from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from sqlalchemy.dialects import postgresql

from libs.common import crypto
from libs.common.crypto import (
    BlindIndex,
    DecryptionError,
    EncryptedText,
    FieldCipher,
    configure_cipher,
    parse_keys,
)
from libs.common.settings import DEV_FIELD_KEY, DEV_INDEX_KEY

OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(32, 64))
PLAINTEXT = "Nguyễn Thị Hoa, 0912 345 678"


def _spec(kid: str, key: bytes) -> str:
    return f"{kid}:{base64.b64encode(key).decode()}"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher({"k1": OLD_KEY})


def _tamper(stored: str) -> str:
    prefix, kid, encoded = stored.split(".", 2)
    blob = bytearray(base64.b64decode(encoded))
    blob[-1] ^= 0x01
    return f"{prefix}.{kid}.{base64.b64encode(bytes(blob)).decode()}"


def test_decrypt_returns_what_was_encrypted(cipher: FieldCipher) -> None:
    assert (
        cipher.decrypt(
            cipher.encrypt(PLAINTEXT, "intake.tips.description"), "intake.tips.description"
        )
        == PLAINTEXT
    )


def test_round_trip_works_without_context(cipher: FieldCipher) -> None:
    assert cipher.decrypt(cipher.encrypt(PLAINTEXT)) == PLAINTEXT


def test_ciphertext_differs_each_time_for_the_same_plaintext(cipher: FieldCipher) -> None:
    assert cipher.encrypt(PLAINTEXT, "ctx") != cipher.encrypt(PLAINTEXT, "ctx")


def test_ciphertext_names_format_and_key_id(cipher: FieldCipher) -> None:
    stored = cipher.encrypt(PLAINTEXT)
    assert stored.startswith("v1.k1.")
    assert cipher.key_id(stored) == "k1"


def test_ciphertext_does_not_contain_the_plaintext(cipher: FieldCipher) -> None:
    assert "Nguy" not in cipher.encrypt(PLAINTEXT)


@pytest.mark.parametrize(
    ("written_with", "read_with"),
    [
        ("intake.tips.description", "intake.tips.reporter_name"),
        ("intake.tips.description", ""),
        ("", "intake.tips.description"),
    ],
)
def test_decrypt_fails_when_the_context_does_not_match(
    cipher: FieldCipher, written_with: str, read_with: str
) -> None:
    stored = cipher.encrypt(PLAINTEXT, written_with)
    with pytest.raises(DecryptionError):
        cipher.decrypt(stored, read_with)


def test_decrypt_fails_for_tampered_ciphertext(cipher: FieldCipher) -> None:
    stored = cipher.encrypt(PLAINTEXT, "ctx")
    with pytest.raises(DecryptionError):
        cipher.decrypt(_tamper(stored), "ctx")


@pytest.mark.parametrize(
    "stored",
    [
        "not a ciphertext",
        "v2.k1.AAAA",
        "v1.unknown-kid.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.k1.!!!not-base64!!!",
        "v1.k1.",
        "",
    ],
)
def test_decrypt_fails_for_malformed_stored_values(cipher: FieldCipher, stored: str) -> None:
    with pytest.raises(DecryptionError):
        cipher.decrypt(stored)


def test_decrypt_fails_with_a_different_key_under_the_same_kid() -> None:
    stored = FieldCipher({"k1": OLD_KEY}).encrypt(PLAINTEXT)
    with pytest.raises(DecryptionError):
        FieldCipher({"k1": NEW_KEY}).decrypt(stored)


def test_data_written_with_the_old_key_stays_readable_after_rotation() -> None:
    stored = FieldCipher({"k1": OLD_KEY}).encrypt(PLAINTEXT, "ctx")
    rotated = FieldCipher({"k2": NEW_KEY, "k1": OLD_KEY})
    assert rotated.decrypt(stored, "ctx") == PLAINTEXT


def test_new_writes_use_the_first_key_after_rotation() -> None:
    rotated = FieldCipher({"k2": NEW_KEY, "k1": OLD_KEY})
    assert rotated.active_kid == "k2"
    assert rotated.key_id(rotated.encrypt(PLAINTEXT)) == "k2"


def test_needs_rotation_is_true_for_values_under_an_older_key() -> None:
    stored = FieldCipher({"k1": OLD_KEY}).encrypt(PLAINTEXT)
    assert FieldCipher({"k2": NEW_KEY, "k1": OLD_KEY}).needs_rotation(stored)


def test_needs_rotation_is_false_for_values_under_the_active_key() -> None:
    rotated = FieldCipher({"k2": NEW_KEY, "k1": OLD_KEY})
    assert not rotated.needs_rotation(rotated.encrypt(PLAINTEXT))


def test_from_spec_uses_the_first_listed_key_for_writes() -> None:
    spec = f"{_spec('k2', NEW_KEY)}, {_spec('k1', OLD_KEY)}"
    assert FieldCipher.from_spec(spec).active_kid == "k2"


def test_parse_keys_keeps_the_order_of_the_spec() -> None:
    keys = parse_keys(f"{_spec('b', NEW_KEY)},{_spec('a', OLD_KEY)},")
    assert list(keys) == ["b", "a"]
    assert keys["a"] == OLD_KEY


def test_parse_keys_accepts_the_development_key() -> None:
    assert len(parse_keys(DEV_FIELD_KEY)["dev1"]) == 32


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("", id="empty"),
        pytest.param(" , ", id="only-separators"),
        pytest.param(_spec("k1", bytes(16)), id="16-byte-key"),
        pytest.param(_spec("k1", bytes(33)), id="33-byte-key"),
        pytest.param(_spec("", OLD_KEY), id="missing-kid"),
        pytest.param(base64.b64encode(OLD_KEY).decode(), id="no-colon"),
        pytest.param(_spec("k.1", OLD_KEY), id="dot-in-kid"),
        pytest.param("k1:", id="missing-key"),
        pytest.param(f"{_spec('k1', OLD_KEY)},{_spec('k2', bytes(8))}", id="one-bad-of-two"),
    ],
)
def test_parse_keys_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_keys(spec)


@pytest.fixture
def index() -> BlindIndex:
    return BlindIndex(OLD_KEY)


def test_blind_index_is_deterministic(index: BlindIndex) -> None:
    assert index.digest("phone", "+84912345678") == index.digest("phone", "+84912345678")


def test_blind_index_is_a_128_bit_hex_digest(index: BlindIndex) -> None:
    digest = index.digest("phone", "+84912345678")
    assert len(digest) == 32
    int(digest, 16)


def test_blind_index_does_not_contain_the_value(index: BlindIndex) -> None:
    assert "912345678" not in index.digest("phone", "+84912345678")


def test_blind_index_differs_for_different_values(index: BlindIndex) -> None:
    assert index.digest("phone", "+84912345678") != index.digest("phone", "+84912345679")


def test_blind_index_is_separated_by_purpose(index: BlindIndex) -> None:
    assert index.digest("phone", "001095012345") != index.digest("id_number", "001095012345")


def test_blind_index_depends_on_the_key() -> None:
    value = "+84912345678"
    assert BlindIndex(OLD_KEY).digest("phone", value) != BlindIndex(NEW_KEY).digest("phone", value)


def test_blind_index_refuses_keys_shorter_than_32_bytes() -> None:
    with pytest.raises(ValueError, match=r"^the blind index key must be at least 32 bytes$"):
        BlindIndex(bytes(31))


def test_blind_index_accepts_a_key_of_exactly_32_bytes() -> None:
    assert len(BlindIndex(bytes(32)).digest("phone", "x")) == 32


def test_blind_index_is_hmac_sha256_of_purpose_and_value_truncated_to_128_bits(
    index: BlindIndex,
) -> None:
    """The stored digests of every service depend on this exact construction: changing it makes
    every existing index unreachable, so it is pinned against the standard library."""
    expected = hmac.new(OLD_KEY, b"phone\x1f+84912345678", hashlib.sha256).hexdigest()
    assert index.digest("phone", "+84912345678") == expected[:32]


def test_blind_index_key64_is_the_first_8_bytes_of_the_hmac_as_a_signed_integer(
    index: BlindIndex,
) -> None:
    mac = hmac.new(OLD_KEY, b"name_key\x1fhoa nguyen", hashlib.sha256).digest()
    assert index.key64("name_key", "hoa nguyen") == int.from_bytes(mac[:8], "big", signed=True)


def test_blind_index_key64_fits_a_postgresql_bigint(index: BlindIndex) -> None:
    keys = [index.key64("name_key", f"name {i}") for i in range(64)]
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert any(k < 0 for k in keys), "a signed reading gives negative keys about half the time"


def test_blind_index_key64_is_separated_by_purpose(index: BlindIndex) -> None:
    assert index.key64("name_key", "hoa") != index.key64("birth_key", "hoa")


def test_blind_index_key64_depends_on_the_key(index: BlindIndex) -> None:
    assert index.key64("name_key", "hoa") != BlindIndex(NEW_KEY).key64("name_key", "hoa")


def test_blind_index_from_b64_accepts_the_development_key() -> None:
    assert BlindIndex.from_b64(DEV_INDEX_KEY).digest("phone", "x") == BlindIndex(
        base64.b64decode(DEV_INDEX_KEY)
    ).digest("phone", "x")


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, cipher: FieldCipher) -> FieldCipher:
    monkeypatch.setattr(crypto, "_cipher", None)
    configure_cipher(cipher)
    return cipher


def test_cipher_refuses_use_before_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_cipher", None)
    with pytest.raises(RuntimeError):
        crypto.cipher()


def test_encrypted_text_stores_ciphertext_not_plaintext(configured: FieldCipher) -> None:
    column = EncryptedText("intake.tips.description")
    stored = column.process_bind_param(PLAINTEXT, postgresql.dialect())
    assert stored is not None
    assert PLAINTEXT not in stored
    assert "Nguy" not in stored
    assert configured.decrypt(stored, "intake.tips.description") == PLAINTEXT


def test_encrypted_text_reads_back_what_it_stored(configured: FieldCipher) -> None:
    column = EncryptedText("intake.tips.description")
    dialect = postgresql.dialect()
    stored = column.process_bind_param(PLAINTEXT, dialect)
    assert column.process_result_value(stored, dialect) == PLAINTEXT


def test_encrypted_text_keeps_null_as_null(configured: FieldCipher) -> None:
    column = EncryptedText("intake.tips.description")
    dialect = postgresql.dialect()
    assert column.process_bind_param(None, dialect) is None
    assert column.process_result_value(None, dialect) is None


def test_encrypted_text_refuses_a_value_moved_from_another_column(
    configured: FieldCipher,
) -> None:
    dialect = postgresql.dialect()
    stored = EncryptedText("intake.tips.description").process_bind_param(PLAINTEXT, dialect)
    with pytest.raises(DecryptionError):
        EncryptedText("intake.tips.reporter_name").process_result_value(stored, dialect)
