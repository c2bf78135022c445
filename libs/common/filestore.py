"""Encrypted, chunked storage of files behind one small interface (:class:`FileStore`); the
scheme is in docs/architecture.md, "Evidence files"."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import DecryptionError, FieldCipher, cipher

CHUNK_BYTES = 1024 * 1024
NONCE_BYTES = 12


class FileStoreError(Exception):
    """A stored file is missing, or its chunks do not open (tampered, reordered, truncated)."""


@dataclass(frozen=True)
class StoredFile:
    id: UUID
    size: int
    sha256: str
    chunks: int
    key_id: str


class FileStore(Protocol):
    """Where the bytes of files live. ``session`` is the transaction that records the file."""

    async def write(
        self, session: AsyncSession, file_id: UUID, content: AsyncIterable[bytes]
    ) -> StoredFile: ...

    def read(self, session: AsyncSession, file_id: UUID) -> AsyncIterator[bytes]: ...

    async def delete(self, session: AsyncSession, file_ids: Sequence[UUID]) -> int: ...


@dataclass(frozen=True)
class FileTables:
    files: Table
    chunks: Table


def file_tables(metadata: MetaData) -> FileTables:
    """The two tables of a service's file store, alike in every schema that keeps files."""
    files = Table(
        "stored_files",
        metadata,
        Column("id", PG_UUID(as_uuid=True), primary_key=True),
        Column("key_id", String(40), nullable=False, comment="field key that wraps the data key"),
        Column("wrapped_key", Text, nullable=False, comment="data key sealed by the field key"),
        Column("size", BigInteger, nullable=False),
        Column("chunks", Integer, nullable=False),
        Column("sha256", String(64), nullable=False, comment="of the bytes as stored, in clear"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    chunks = Table(
        "stored_file_chunks",
        metadata,
        Column(
            "file_id",
            PG_UUID(as_uuid=True),
            ForeignKey(files.c.id, ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("seq", Integer, primary_key=True),
        Column("sealed", LargeBinary, nullable=False, comment="nonce and AES-GCM ciphertext"),
    )
    return FileTables(files, chunks)


def associated_data(file_id: UUID, seq: int, last: bool) -> bytes:
    """What a chunk is bound to: its file, its place, and whether the file ends with it."""
    return file_id.bytes + struct.pack(">IB", seq, 1 if last else 0)


def seal_chunk(key: bytes, file_id: UUID, seq: int, last: bool, plain: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plain, associated_data(file_id, seq, last))


def open_chunk(key: bytes, file_id: UUID, seq: int, last: bool, sealed: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data(file_id, seq, last)
        )
    except InvalidTag as exc:
        raise FileStoreError(f"chunk {seq} of file {file_id} does not open") from exc


def _key_context(file_id: UUID) -> str:
    return f"filestore.data_key.{file_id}"


def wrap_key(field_cipher: FieldCipher, file_id: UUID, key: bytes) -> str:
    return field_cipher.encrypt(base64.b64encode(key).decode(), _key_context(file_id))


def unwrap_key(field_cipher: FieldCipher, file_id: UUID, wrapped: str) -> bytes:
    try:
        return base64.b64decode(field_cipher.decrypt(wrapped, _key_context(file_id)))
    except DecryptionError as exc:
        raise FileStoreError(f"the data key of file {file_id} does not open") from exc


async def rechunk(content: AsyncIterable[bytes], size: int) -> AsyncIterator[bytes]:
    """The content in pieces of exactly ``size`` bytes (the last one shorter), however it came."""
    pending = bytearray()
    async for piece in content:
        pending += piece
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    yield bytes(pending)


async def sealed_chunks(
    key: bytes, file_id: UUID, content: AsyncIterable[bytes], chunk_bytes: int = CHUNK_BYTES
) -> AsyncIterator[tuple[int, bytes, bytes]]:
    """(seq, plaintext, sealed) for each chunk, one chunk behind the input so the last one is
    known to be last when it is sealed. An empty file is one empty last chunk."""
    previous: bytes | None = None
    seq = 0
    async for chunk in rechunk(content, chunk_bytes):
        if previous is not None and chunk:
            yield seq, previous, seal_chunk(key, file_id, seq, False, previous)
            seq += 1
            previous = chunk
        elif previous is None:
            previous = chunk
    assert previous is not None
    yield seq, previous, seal_chunk(key, file_id, seq, True, previous)


class PostgresFileStore:
    """Chunks as ``bytea`` rows of the service's schema, one row per MiB, written in the
    caller's transaction and read one row at a time."""

    def __init__(
        self,
        tables: FileTables,
        field_cipher: FieldCipher | None = None,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self.tables = tables
        self._cipher = field_cipher
        self.chunk_bytes = chunk_bytes

    @property
    def cipher(self) -> FieldCipher:
        return self._cipher or cipher()

    async def write(
        self, session: AsyncSession, file_id: UUID, content: AsyncIterable[bytes]
    ) -> StoredFile:
        key = os.urandom(32)
        wrapped = wrap_key(self.cipher, file_id, key)
        files, chunks = self.tables.files, self.tables.chunks
        digest, size, count = hashlib.sha256(), 0, 0
        # The file's row first: the chunks refer to it. Its figures are filled in at the end.
        await session.execute(
            insert(files).values(
                id=file_id,
                key_id=self.cipher.key_id(wrapped),
                wrapped_key=wrapped,
                size=0,
                chunks=0,
                sha256="",
            )
        )
        async for seq, plain, sealed in sealed_chunks(key, file_id, content, self.chunk_bytes):
            digest.update(plain)
            size += len(plain)
            count = seq + 1
            await session.execute(insert(chunks).values(file_id=file_id, seq=seq, sealed=sealed))
        stored = StoredFile(file_id, size, digest.hexdigest(), count, self.cipher.key_id(wrapped))
        await session.execute(
            files.update()
            .where(files.c.id == file_id)
            .values(size=size, chunks=count, sha256=stored.sha256)
        )
        return stored

    async def stored(self, session: AsyncSession, file_id: UUID) -> StoredFile | None:
        files = self.tables.files
        row = (await session.execute(select(files).where(files.c.id == file_id))).first()
        if row is None:
            return None
        return StoredFile(row.id, row.size, row.sha256, row.chunks, row.key_id)

    async def read(self, session: AsyncSession, file_id: UUID) -> AsyncIterator[bytes]:
        files, chunks = self.tables.files, self.tables.chunks
        row = (await session.execute(select(files).where(files.c.id == file_id))).first()
        if row is None:
            raise FileStoreError(f"no stored file {file_id}")
        key = unwrap_key(self.cipher, file_id, row.wrapped_key)
        for seq in range(row.chunks):
            sealed = (
                await session.execute(
                    select(chunks.c.sealed).where(chunks.c.file_id == file_id, chunks.c.seq == seq)
                )
            ).scalar_one_or_none()
            if sealed is None:
                raise FileStoreError(f"chunk {seq} of file {file_id} is missing")
            yield open_chunk(key, file_id, seq, seq == row.chunks - 1, sealed)

    async def delete(self, session: AsyncSession, file_ids: Sequence[UUID]) -> int:
        if not file_ids:
            return 0
        files, chunks = self.tables.files, self.tables.chunks
        await session.execute(delete(chunks).where(chunks.c.file_id.in_(file_ids)))
        result = await session.execute(delete(files).where(files.c.id.in_(file_ids)))
        return int(getattr(result, "rowcount", 0) or 0)
