from __future__ import annotations

import base64
import json

import pytest

from libs.common.errors import Unprocessable
from libs.common.pagination import Page, decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "values",
    [
        ["2025-07-01T08:30:00+00:00", "01980000-0000-7000-8000-000000000001"],
        [3, "Nguyễn Thị Hoa", None, True],
        [],
    ],
)
def test_cursor_round_trip(values: list[object]) -> None:
    assert decode_cursor(encode_cursor(values)) == values


def test_cursor_is_url_safe_without_padding() -> None:
    cursor = encode_cursor(["??>>~~", "ệệệ", 12345])
    assert "=" not in cursor
    assert "+" not in cursor
    assert "/" not in cursor


def test_no_cursor_decodes_to_none() -> None:
    assert decode_cursor(None) is None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("!!!", id="not-base64"),
        pytest.param("a", id="impossible-length"),
        pytest.param("é", id="not-ascii"),
        pytest.param(_b64(b"{not json"), id="not-json"),
        pytest.param(_b64(b"\xff\xfe"), id="not-utf8"),
        pytest.param(_b64(json.dumps({"a": 1}).encode()), id="object-not-list"),
        pytest.param(_b64(b"42"), id="number-not-list"),
        pytest.param("", id="empty"),
    ],
)
def test_garbage_cursor_is_unprocessable(cursor: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        decode_cursor(cursor)
    assert raised.value.errors == [
        {"field": "cursor", "message": "not a cursor we issued", "code": "cursor.invalid"}
    ]


def test_page_has_no_next_cursor_by_default() -> None:
    assert Page[int](items=[1, 2]).next_cursor is None
