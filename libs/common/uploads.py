"""Evidence files over HTTP, alike in every service that keeps them: a file as a multipart
request brings it (spooled, never whole in memory), its bytes in store-sized pieces, and the
bytes of a stored file sent back on a transaction of their own with the headers of a download."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from libs.common.db import Database
from libs.common.files import content_disposition
from libs.common.filestore import CHUNK_BYTES, FileStore


@dataclass(frozen=True)
class Upload:
    """A file as the request brought it: spooled by the multipart parser (to disk past 1 MiB),
    never held whole in memory."""

    filename: str | None
    file: BinaryIO


async def fingerprint(upload: Upload) -> str:
    """What an ``Idempotency-Key`` compares: the file's name and the digest of its bytes."""

    def digest() -> str:
        sha = hashlib.sha256()
        upload.file.seek(0)
        while block := upload.file.read(CHUNK_BYTES):
            sha.update(block)
        upload.file.seek(0)
        return f"{upload.filename}\x1f{sha.hexdigest()}"

    return await asyncio.to_thread(digest)


async def chunks_of(file: BinaryIO) -> AsyncIterator[bytes]:
    """A spooled file from its start, a chunk at a time, read off the event loop."""
    file.seek(0)
    while block := await asyncio.to_thread(file.read, CHUNK_BYTES):
        yield block


async def pieces(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start : start + CHUNK_BYTES]


async def stored_content(db: Database, store: FileStore, file_id: UUID) -> AsyncIterator[bytes]:
    """The decrypted bytes, chunk by chunk, on a session of their own: the request's has
    committed (with the audit entry of the download) before the first byte is sent."""
    async with db.sessions() as session, session.begin():
        async for chunk in store.read(session, file_id):
            yield chunk


def download_headers(filename: str, size: int | None) -> dict[str, str]:
    """Saved, never shown: ``attachment``, no type sniffing, no caching, and a sandbox should a
    browser render it anyway."""
    headers = {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if size is not None:
        headers["Content-Length"] = str(size)
    return headers
