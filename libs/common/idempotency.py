"""``Idempotency-Key`` for creating POSTs.

The first response to a key is stored, encrypted (it may hold a receipt code shown once), in the
same transaction as the creation. The same key with the same body returns that response again,
with the headers the first one had (``Cache-Control: no-store`` above all); with another body,
409 ``conflict``. A retry that arrives while the first request with its key is still running
(it holds a transaction-scoped advisory lock on the key until it commits) is 409
``idempotency-in-progress`` with ``Retry-After``, at once: the app waits and sends it again,
never a second record.

A caller without a token (a resident) must send a key, and a random one: a UUID v4 or v7
(:func:`check_random_key`). For them the key is what protects the replayed answer, which holds
the receipt code shown once: anyone who sends the same key and body gets that answer again, so a
key an app counts up (``1``, ``2``, ...) or derives from the time would hand a reporter's code to
whoever tries it. Callers with a token keep any key (their scope is their own ``sub``).

What a stolen backup of this table gives away (issue 13, Medium 5):

* nothing of the request: the scope (method, path, caller), the key and the request hash are
  HMACs under the blind-index key (purposes of their own), which is not in the database, so an
  offline pass over every receipt code of a path finds nothing to compare with;
* no secret shown once: a response holding one (a partner's webhook secrets) is never stored
  (``replayable=False``); a replay of its key is a 409, and the client asks for a new secret;
* nothing older than ``idempotency_retention_hours`` (24 h by default): the worker purges older
  rows in batches (:class:`IdempotencyPurger`, on the ``created_at`` index), and a row past that
  age is ignored even before it is purged, so a replay after expiry is a fresh request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import BlindIndex, cipher
from libs.common.db import Database
from libs.common.errors import Conflict, Problem, Unprocessable
from libs.common.resident_keys import check_random_key

log = logging.getLogger("ctip.idempotency")

_CONTEXT = "idempotency.response"
SCOPE_PURPOSE = "idempotency.scope"
KEY_PURPOSE = "idempotency.key"
REQUEST_PURPOSE = "idempotency.request"
NOT_REPLAYABLE = (
    "the first response to this Idempotency-Key held a secret shown once, which is not stored: "
    "it cannot be shown again; check whether the first request took effect"
)


def idempotency_table(metadata: MetaData) -> Table:
    table = Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(300), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        # NULL: the response held a secret shown once and was not stored (``replayable=False``).
        Column("response", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Index("ix_idempotency_keys_created_at", table.c.created_at)
    return table


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]{1,200}$"),
]
LOCK_CLASS = 0x1DE0  # not a rule: pg_try_advisory_xact_lock's namespace for idempotency keys


class IdempotencyInProgress(Problem):
    """The first request with this key has not finished: wait and retry (not a changed body)."""

    status, code, title = 409, "idempotency-in-progress", "The first request is still running"


class IdempotencyKeyConflict(Conflict):
    """The key was used before with another body: a new request needs a new key."""

    code = "idempotency-key-reused"


IN_PROGRESS = "a request with this Idempotency-Key is still being processed; retry after a moment"
RETRY_IN_PROGRESS_SECONDS = 1  # not a rule: a hint to the client; any small number serves


def lock_key(scope: str, key: str) -> int:
    """The advisory lock (within ``LOCK_CLASS``) a request with this scope and key holds."""
    return int.from_bytes(
        hashlib.sha256(f"{scope} {key}".encode()).digest()[:4], "big", signed=True
    )


@dataclass
class IdempotentRequest:
    scope: str
    key: str
    request_hash: str
    replayable: bool = True


def _canonical_body(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return body.decode("utf-8", "replace")


class IdempotencyStore:
    def __init__(self, metadata: MetaData) -> None:
        self.table = idempotency_table(metadata)

    async def begin(
        self,
        session: AsyncSession,
        request: Request,
        key: str | None,
        actor: str | None,
        *,
        replayable: bool = True,
        fingerprint: str | None = None,
        anonymous: bool = False,
    ) -> tuple[IdempotentRequest | None, JSONResponse | None]:
        """Returns (a handle to store the response, or a stored response to replay).

        ``fingerprint`` stands for the body where the body is not to be read whole (an upload:
        the digest of the file's bytes and its name); a multipart body's boundary changes on
        every retry anyway. ``anonymous``: the caller holds no token, and must send a random
        key."""
        if anonymous:
            check_random_key(key)
        if key is None:
            return None, None
        if not key.strip():
            raise Unprocessable(
                "Idempotency-Key must not be blank",
                errors=[
                    {
                        "field": "Idempotency-Key",
                        "message": "must not be blank",
                        "code": "idempotency_key.blank",
                    }
                ],
            )
        index: BlindIndex = request.app.state.blind_index
        # Keyed: a path or a body can hold a secret (a receipt code) that must not be found by
        # hashing every candidate offline; the key is the client's and could hold one too.
        scope = index.digest(
            SCOPE_PURPOSE, f"{request.method} {request.url.path} {actor or 'anonymous'}"
        )
        handle = IdempotentRequest(
            scope,
            index.digest(KEY_PURPOSE, key),
            index.digest(
                REQUEST_PURPOSE,
                fingerprint if fingerprint is not None else _canonical_body(await request.body()),
            ),
            replayable,
        )
        # Held until this transaction ends, hence until the stored answer is committed: a retry
        # meanwhile finds it taken and is told to wait, instead of running a second time.
        lock = lock_key(handle.scope, handle.key)
        if not await session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_CLASS, lock))):
            raise IdempotencyInProgress(
                IN_PROGRESS, headers={"Retry-After": str(RETRY_IN_PROGRESS_SECONDS)}
            )
        where = (self.table.c.scope == handle.scope, self.table.c.key == handle.key)
        row = (await session.execute(select(self.table).where(*where))).first()
        if row is None:
            return handle, None
        if row.created_at < retention_cutoff(
            request.app.state.settings.idempotency_retention_hours
        ):
            # Expired but not purged yet: forgotten, as if the purge had run.
            await session.execute(delete(self.table).where(*where))
            return handle, None
        if row.request_hash != handle.request_hash:
            raise IdempotencyKeyConflict(
                "this Idempotency-Key was used with a different request body"
            )
        if row.response is None:
            raise Conflict(NOT_REPLAYABLE)
        body = json.loads(cipher().decrypt(row.response, _CONTEXT))
        return None, JSONResponse(
            body, status_code=row.status_code, headers={"Idempotent-Replayed": "true"}
        )

    async def run(
        self,
        session: AsyncSession,
        request: Request,
        key: str | None,
        actor: str | None,
        create: Callable[[], Awaitable[BaseModel]],
        *,
        status: int = 201,
        headers: dict[str, str] | None = None,
        replayable: bool = True,
        fingerprint: str | None = None,
        anonymous: bool = False,
    ) -> JSONResponse:
        """Replay the stored response for ``key``, or ``create`` and store its response.
        ``headers`` go on both (a replay carries the receipt code as much as the first answer).

        ``replayable=False`` for a response that holds a secret shown once: only the key and the
        request hash are stored (a second creation with the key is still refused), the body is
        not, and a replay is answered 409. ``anonymous``: the caller holds no token, and must
        send a random key (:func:`check_random_key`)."""
        handle, replay = await self.begin(
            session,
            request,
            key,
            actor,
            replayable=replayable,
            fingerprint=fingerprint,
            anonymous=anonymous,
        )
        if replay is not None:
            replay.headers.update(headers or {})
            return replay
        body = (await create()).model_dump(mode="json")
        await self.save(session, handle, status, body)
        return JSONResponse(body, status_code=status, headers=headers)

    async def save(
        self, session: AsyncSession, handle: IdempotentRequest | None, status: int, body: Any
    ) -> None:
        if handle is None:
            return
        stored = (
            cipher().encrypt(json.dumps(body, default=str), _CONTEXT) if handle.replayable else None
        )
        result = await session.execute(
            insert(self.table)
            .values(
                scope=handle.scope,
                key=handle.key,
                request_hash=handle.request_hash,
                status_code=status,
                response=stored,
            )
            .on_conflict_do_nothing()
            .returning(self.table.c.key)
        )
        if result.first() is None:  # the lock makes this rare: a row purged and written again
            raise IdempotencyInProgress(
                IN_PROGRESS, headers={"Retry-After": str(RETRY_IN_PROGRESS_SECONDS)}
            )


def retention_cutoff(hours: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(hours=hours)


async def purge_expired(
    session: AsyncSession, table: Table, cutoff: datetime, *, batch_size: int = 1000
) -> int:
    """Delete one batch of rows created before ``cutoff``; returns how many went. Batched so
    that a backlog (a worker down for days) never holds one long lock over the table."""
    doomed = select(table.c.scope, table.c.key).where(table.c.created_at < cutoff).limit(batch_size)
    result = await session.execute(
        delete(table).where(tuple_(table.c.scope, table.c.key).in_(doomed)).returning(table.c.key)
    )
    return len(result.all())


class IdempotencyPurger:
    """The worker task that forgets stored responses after the retention period."""

    def __init__(
        self,
        db: Database,
        table: Table,
        retention_hours: int,
        *,
        interval_seconds: float = 300.0,
        batch_size: int = 1000,
    ) -> None:
        self.db = db
        self.table = table
        self.retention_hours = retention_hours
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def purge(self) -> int:
        """Every expired row, batch after batch, each in its own transaction."""
        cutoff = retention_cutoff(self.retention_hours)
        total = 0
        while not self._stop.is_set():
            async with self.db.sessions() as session, session.begin():
                deleted = await purge_expired(
                    session, self.table, cutoff, batch_size=self.batch_size
                )
            total += deleted
            if deleted < self.batch_size:
                break
        return total

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.purge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("idempotency purge failed, retrying later: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_seconds)
