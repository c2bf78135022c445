"""Protection of personal data at rest.

* :class:`FieldCipher` encrypts a field with AES-256-GCM. The stored text names the key id
  (``v1.<kid>.<base64 nonce+ciphertext>``) so keys can be rotated: new writes use the first key,
  old rows stay readable with the older keys until re-encrypted.
* :class:`BlindIndex` gives keyed HMAC digests for exact lookups (phone, ID number, name + birth
  year) without storing the value: equal inputs give equal digests, nothing else leaks.
* :class:`EncryptedText` is the SQLAlchemy column type that applies the process cipher.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator

_PREFIX = "v1"


class DecryptionError(Exception):
    """A stored value could not be decrypted (unknown key id or tampered ciphertext)."""


def parse_keys(spec: str) -> dict[str, bytes]:
    """``kid:base64key,kid2:base64key`` into an ordered mapping; every key must be 32 bytes."""
    keys: dict[str, bytes] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        kid, _, encoded = part.partition(":")
        key = base64.b64decode(encoded)
        if not kid or len(key) != 32 or "." in kid:
            raise ValueError(f"field key {kid!r} must be `kid:<base64 of 32 bytes>`")
        keys[kid] = key
    if not keys:
        raise ValueError("at least one field key is required")
    return keys


class FieldCipher:
    def __init__(self, keys: dict[str, bytes]) -> None:
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active_kid = next(iter(keys))

    @classmethod
    def from_spec(cls, spec: str) -> FieldCipher:
        return cls(parse_keys(spec))

    def encrypt(self, plaintext: str, context: str = "") -> str:
        """``context`` is bound as associated data: a ciphertext moved elsewhere fails."""
        nonce = os.urandom(12)
        sealed = self._keys[self.active_kid].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode() or None
        )
        return f"{_PREFIX}.{self.active_kid}.{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str = "") -> str:
        try:
            prefix, kid, encoded = stored.split(".", 2)
            if prefix != _PREFIX:
                raise DecryptionError("unknown format")
            blob = base64.b64decode(encoded)
            aead = self._keys[kid]
            return aead.decrypt(blob[:12], blob[12:], context.encode() or None).decode("utf-8")
        except (ValueError, KeyError, InvalidTag) as exc:
            raise DecryptionError(f"cannot decrypt field ({type(exc).__name__})") from exc

    def key_id(self, stored: str) -> str:
        return stored.split(".", 2)[1]

    def needs_rotation(self, stored: str) -> bool:
        return self.key_id(stored) != self.active_kid


class BlindIndex:
    """HMAC-SHA256 digests, domain-separated by purpose, truncated to 128 bits (hex)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the blind index key must be at least 32 bytes")
        self._key = key

    @classmethod
    def from_b64(cls, encoded: str) -> BlindIndex:
        return cls(base64.b64decode(encoded))

    def digest(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._key, f"{purpose}\x1f{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def key64(self, purpose: str, value: str) -> int:
        """The same HMAC as a signed 64-bit integer (a ``bigint``): for blocking keys, where
        millions of rows and many probes per lookup make the size count; a rare collision only
        brings one more candidate to be scored."""
        mac = hmac.digest(self._key, f"{purpose}\x1f{value}".encode(), "sha256")
        return int.from_bytes(mac[:8], "big", signed=True)


_cipher: FieldCipher | None = None


def configure_cipher(cipher: FieldCipher) -> None:
    """Set the process-wide cipher used by :class:`EncryptedText` columns (done at startup)."""
    global _cipher
    _cipher = cipher


def cipher() -> FieldCipher:
    if _cipher is None:
        raise RuntimeError("field encryption is not configured; call configure_cipher() first")
    return _cipher


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; ``context`` (e.g. ``"intake.tips.description"``) is AAD."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else cipher().encrypt(value, self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else cipher().decrypt(value, self.context)


class EncryptedInt(TypeDecorator[int]):
    """An integer stored like :class:`EncryptedText` (its decimal text, encrypted): an age is a
    quasi-identifier in a small ward."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context
        self._text = EncryptedText(context)

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return self._text.process_bind_param(None if value is None else str(value), dialect)

    def process_result_value(self, value: str | None, dialect: Dialect) -> int | None:
        plain = self._text.process_result_value(value, dialect)
        return None if plain is None else int(plain)


class EncryptedBool(TypeDecorator[bool]):
    """A boolean stored like :class:`EncryptedText` (``true``/``false``, encrypted)."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context
        self._text = EncryptedText(context)

    def process_bind_param(self, value: bool | None, dialect: Dialect) -> str | None:
        return self._text.process_bind_param(
            None if value is None else ("true" if value else "false"), dialect
        )

    def process_result_value(self, value: str | None, dialect: Dialect) -> bool | None:
        plain = self._text.process_result_value(value, dialect)
        return None if plain is None else plain == "true"


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored encrypted as text (outbox events carry personal data for the
    consumers that need it).

    A value in clear is refused (:class:`DecryptionError`), never read as legacy JSON: rows
    written before the column was encrypted were re-encrypted by each service's migration
    (:func:`encrypt_plaintext_json_rows`), so plaintext here can only be planted, by someone who
    can write the table but does not hold the field key."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return cipher().encrypt(json.dumps(value, ensure_ascii=False), self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not value.startswith(f"{_PREFIX}."):
            raise DecryptionError(f"{self.context} holds a value in clear; it must be encrypted")
        return json.loads(cipher().decrypt(value, self.context))


def encrypt_plaintext_json_rows(
    connection: Connection,
    field_cipher: FieldCipher,
    schema: str,
    table: str,
    key_column: str,
    column: str,
    *,
    context: str | None = None,
    batch_size: int = 500,
) -> int:
    """Encrypt, in place, every value of an :class:`EncryptedJSON` column still in clear (written
    before the column was encrypted); returns how many. For migrations: ``context`` defaults to
    ``schema.table.column``, as the services name it. A value in clear that is not JSON stops the
    migration rather than stay readable."""
    context = context or f"{schema}.{table}.{column}"
    # Rows encrypted by one round no longer match, so each round takes the next batch in clear.
    # The identifiers are the calling migration's constants, never input.
    in_clear = sql_text(
        f'SELECT "{key_column}" AS k, "{column}" AS v FROM "{schema}"."{table}"'  # noqa: S608
        f' WHERE "{column}" NOT LIKE :prefix LIMIT :n'
    )
    update = sql_text(
        f'UPDATE "{schema}"."{table}" SET "{column}" = :v WHERE "{key_column}" = :k'  # noqa: S608
    )
    done = 0
    while True:
        rows = connection.execute(in_clear, {"prefix": f"{_PREFIX}.%", "n": batch_size}).all()
        for row in rows:
            document = json.loads(row.v)
            sealed = field_cipher.encrypt(json.dumps(document, ensure_ascii=False), context)
            connection.execute(update, {"v": sealed, "k": row.k})
        done += len(rows)
        if len(rows) < batch_size:
            return done


def encrypt_plaintext_rows(
    connection: Connection,
    field_cipher: FieldCipher,
    schema: str,
    table: str,
    key_column: str,
    columns: list[str],
    *,
    batch_size: int = 500,
) -> int:
    """Encrypt, in place, every value of ``columns`` still in clear (their text, as the column
    types above store it; the columns must already be text). For migrations that move a column
    to :class:`EncryptedText`, :class:`EncryptedInt` or :class:`EncryptedBool`: the context is
    ``schema.table.column``, as the services name it. Returns how many values it encrypted."""
    done = 0
    for column in columns:
        context = f"{schema}.{table}.{column}"
        # The identifiers are the calling migration's constants, never input.
        in_clear = sql_text(
            f'SELECT "{key_column}" AS k, "{column}" AS v FROM "{schema}"."{table}"'  # noqa: S608
            f' WHERE "{column}" IS NOT NULL AND "{column}" NOT LIKE :prefix LIMIT :n'
        )
        update = sql_text(
            f'UPDATE "{schema}"."{table}" SET "{column}" = :v WHERE "{key_column}" = :k'  # noqa: S608
        )
        while True:
            rows = connection.execute(in_clear, {"prefix": f"{_PREFIX}.%", "n": batch_size}).all()
            for row in rows:
                connection.execute(update, {"v": field_cipher.encrypt(row.v, context), "k": row.k})
            done += len(rows)
            if len(rows) < batch_size:
                break
    return done
