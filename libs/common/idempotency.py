"""``Idempotency-Key`` for creating POSTs (DESIGN.md section 2).

The first response to a key is stored, encrypted (it may hold a receipt code shown once), in the
same transaction as the creation. The same key with the same body returns that response again;
with another body, 409. Two concurrent first requests with one key: the loser's insert conflicts
and it gets 409, never a second record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import cipher
from libs.common.errors import Conflict, Unprocessable

_CONTEXT = "idempotency.response"


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(300), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]{1,200}$"),
]


@dataclass
class IdempotentRequest:
    scope: str
    key: str
    request_hash: str


def _hash_body(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, metadata: MetaData) -> None:
        self.table = idempotency_table(metadata)

    async def begin(
        self, session: AsyncSession, request: Request, key: str | None, actor: str | None
    ) -> tuple[IdempotentRequest | None, JSONResponse | None]:
        """Returns (a handle to store the response, or a stored response to replay)."""
        if key is None:
            return None, None
        if not key.strip():
            raise Unprocessable(
                "Idempotency-Key must not be blank",
                errors=[{"field": "Idempotency-Key", "message": "must not be blank"}],
            )
        # Hashed: a path can hold a secret (a receipt code) that must not be stored in clear.
        scope = hashlib.sha256(
            f"{request.method} {request.url.path} {actor or 'anonymous'}".encode()
        ).hexdigest()
        handle = IdempotentRequest(scope, key, _hash_body(await request.body()))
        row = (
            await session.execute(
                select(self.table).where(self.table.c.scope == scope, self.table.c.key == key)
            )
        ).first()
        if row is None:
            return handle, None
        if row.request_hash != handle.request_hash:
            raise Conflict("this Idempotency-Key was used with a different request body")
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
    ) -> JSONResponse:
        """Replay the stored response for ``key``, or ``create`` and store its response."""
        handle, replay = await self.begin(session, request, key, actor)
        if replay is not None:
            return replay
        body = (await create()).model_dump(mode="json")
        await self.save(session, handle, status, body)
        return JSONResponse(body, status_code=status, headers=headers)

    async def save(
        self, session: AsyncSession, handle: IdempotentRequest | None, status: int, body: Any
    ) -> None:
        if handle is None:
            return
        stored = cipher().encrypt(json.dumps(body, default=str), _CONTEXT)
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
        if result.first() is None:
            raise Conflict("a request with this Idempotency-Key is already being processed")
