"""Cursor pagination: ``?limit=`` (default 50, max 200) and ``?cursor=``.

Cursors are opaque: the base64url JSON of the sort key of the last item returned. Keyset
pagination keeps pages stable while new records arrive, and costs the same on page 1 and 1,000.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel

from libs.common.errors import Unprocessable

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Cursor = Annotated[str | None, Query(max_length=500, description="from `next_cursor`")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


_NOT_OURS = {"field": "cursor", "message": "not a cursor we issued", "code": "cursor.invalid"}


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError as exc:
        raise Unprocessable("invalid cursor", errors=[_NOT_OURS]) from exc
    if not isinstance(values, list):
        raise Unprocessable("invalid cursor", errors=[_NOT_OURS])
    return values


def time_keyset(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The ``(time, id)`` position a newest-first list resumes after."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        moment, ident = values
        when = datetime.fromisoformat(moment)
        if when.tzinfo is None:
            raise ValueError("naive time")
        return when.astimezone(UTC), UUID(ident)
    except (TypeError, ValueError, OverflowError) as exc:
        raise Unprocessable("invalid cursor", errors=[_NOT_OURS]) from exc


def time_cursor(items: Sequence[Any], time_attr: str, limit: int) -> str | None:
    """The cursor after the last item of a full page; None when the page is the last."""
    if len(items) < limit:
        return None
    last = items[-1]
    return encode_cursor([getattr(last, time_attr).isoformat(), str(last.id)])


def seq_keyset(cursor: str | None) -> int | None:
    """The ``seq`` a newest-first list of an append-only table resumes below."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    if len(values) != 1 or not isinstance(values[0], int) or isinstance(values[0], bool):
        raise Unprocessable("invalid cursor", errors=[_NOT_OURS])
    return values[0]


def seq_cursor(items: Sequence[Any], limit: int) -> str | None:
    """The cursor after the last item of a full page (by its ``seq``); None on the last page."""
    if len(items) < limit:
        return None
    return encode_cursor([items[-1].seq])
