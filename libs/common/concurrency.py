"""Optimistic concurrency with ``If-Match: <version>``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from libs.common.errors import PreconditionFailed, Unprocessable

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=40)]


def check_if_match(if_match: str | None, current_version: int) -> None:
    """412 when the client edited an older version than the stored one."""
    if if_match is None:
        return
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):
        raise Unprocessable(
            "If-Match must be a record version",
            errors=[
                {
                    "field": "If-Match",
                    "message": "expected an integer version",
                    "code": "if_match.invalid",
                }
            ],
        )
    if int(value) != current_version:
        raise PreconditionFailed(
            f"the record is at version {current_version}, not {value}; reload and retry",
            current_version=current_version,
        )
