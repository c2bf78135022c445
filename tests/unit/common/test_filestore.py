"""The file store's sealing: each chunk bound to its file, its place and whether it is last, so
that a swapped, reordered or truncated file fails to open; the data key wrapped by the field key."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from libs.common.filestore import (
    FileStore,
    FileStoreError,
    StoredFile,
    open_chunk,
    rechunk,
    seal_chunk,
    unwrap_key,
    wrap_key,
)
from tests.fakes import FakeFileStore


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(store: FakeFileStore, file_id: uuid.UUID) -> bytes:
    return b"".join([chunk async for chunk in store.read(None, file_id)])


def test_the_fake_is_a_file_store() -> None:
    store: FileStore = FakeFileStore()
    assert store is not None


async def test_rechunk_cuts_any_stream_into_equal_pieces() -> None:
    got = [p async for p in rechunk(pieces(b"ab", b"cdefg", b"", b"h"), 3)]
    assert got == [b"abc", b"def", b"gh"]


async def test_a_file_comes_back_as_it_went_in_with_its_sha256() -> None:
    store, file_id = FakeFileStore(chunk_bytes=4), uuid.uuid4()
    data = os.urandom(10)
    stored = await store.write(None, file_id, pieces(data[:3], data[3:]))
    assert stored == StoredFile(
        file_id, 10, hashlib.sha256(data).hexdigest(), 3, store.cipher.active_kid
    )
    assert await read_all(store, file_id) == data


@pytest.mark.parametrize("size", [0, 4, 8])
async def test_empty_and_exact_multiples_end_with_one_last_chunk(size: int) -> None:
    store, file_id = FakeFileStore(chunk_bytes=4), uuid.uuid4()
    stored = await store.write(None, file_id, pieces(bytes(size)))
    assert stored.chunks == max(1, size // 4)
    assert await read_all(store, file_id) == bytes(size)


async def test_nothing_of_the_file_is_in_its_sealed_chunks() -> None:
    store, file_id = FakeFileStore(chunk_bytes=16), uuid.uuid4()
    data = b"Nguyen Van Bao, So 12 pho Hang Bac" * 4
    await store.write(None, file_id, pieces(data))
    sealed = b"".join(store.chunks[file_id])
    assert b"Nguyen" not in sealed and b"Hang Bac" not in sealed


async def test_a_truncated_file_fails_to_open() -> None:
    store, file_id = FakeFileStore(chunk_bytes=4), uuid.uuid4()
    await store.write(None, file_id, pieces(b"0123456789"))
    store.chunks[file_id].pop()
    with pytest.raises(FileStoreError, match="chunk 1 of file"):
        await read_all(store, file_id)


async def test_reordered_chunks_fail_to_open() -> None:
    store, file_id = FakeFileStore(chunk_bytes=4), uuid.uuid4()
    await store.write(None, file_id, pieces(b"0123456789ab"))
    chunks = store.chunks[file_id]
    chunks[0], chunks[1] = chunks[1], chunks[0]
    with pytest.raises(FileStoreError, match="chunk 0 of file"):
        await read_all(store, file_id)


def test_a_chunk_moved_to_another_file_fails_to_open() -> None:
    key, one, other = os.urandom(32), uuid.uuid4(), uuid.uuid4()
    sealed = seal_chunk(key, one, 0, True, b"evidence")
    assert open_chunk(key, one, 0, True, sealed) == b"evidence"
    with pytest.raises(FileStoreError):
        open_chunk(key, other, 0, True, sealed)
    with pytest.raises(FileStoreError):
        open_chunk(key, one, 0, False, sealed)


def test_the_data_key_is_wrapped_by_the_field_key_and_bound_to_its_file() -> None:
    cipher = FakeFileStore().cipher
    file_id, key = uuid.uuid4(), os.urandom(32)
    wrapped = wrap_key(cipher, file_id, key)
    assert cipher.key_id(wrapped) == cipher.active_kid
    assert unwrap_key(cipher, file_id, wrapped) == key
    with pytest.raises(FileStoreError, match="data key"):
        unwrap_key(cipher, uuid.uuid4(), wrapped)


async def test_each_file_has_a_key_of_its_own() -> None:
    store = FakeFileStore()
    one, two = uuid.uuid4(), uuid.uuid4()
    await store.write(None, one, pieces(b"same bytes"))
    await store.write(None, two, pieces(b"same bytes"))
    assert store.chunks[one] != store.chunks[two]
    assert unwrap_key(store.cipher, one, store.keys[one]) != unwrap_key(
        store.cipher, two, store.keys[two]
    )
