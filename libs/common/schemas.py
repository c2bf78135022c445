"""The base of every request model: unknown fields refused, text trimmed, and no NUL characters
(PostgreSQL cannot store them, so they would turn a client's mistake into a 500)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from libs.common.jurisdiction import is_ward_code
from libs.common.text import normalize_phone


def nul_path(value: Any, path: str = "") -> str | None:
    """Where the first NUL character sits in a JSON-like value, or None."""
    if isinstance(value, str):
        return (path or "value") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = nul_path(key, path) or nul_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        where = nul_path(data)
        if where is not None:
            raise ValueError(f"{where} must not contain NUL characters")
        return data


def utc_moment(value: datetime, *, past: bool = False) -> datetime:
    """An RFC 3339 time with its offset, in UTC, within years 1900-2100 (PostgreSQL and Python
    both fail on the edges of their ranges, so a far-fetched time is a 422, not a 500)."""
    if value.tzinfo is None:
        raise ValueError("give a timezone (RFC 3339), e.g. 2026-11-01T08:00:00+07:00")
    try:
        moment = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc
    if not 1900 <= moment.year <= 2100:
        raise ValueError("a time between the years 1900 and 2100")
    if past and moment > datetime.now(UTC):
        raise ValueError("must not be in the future")
    return moment


# Field validators shared by the services' request models (``field_validator(...)(known_ward)``).


def known_ward(value: str | None) -> str | None:
    if value is not None and not is_ward_code(value):
        raise ValueError("not a ward code of the current administrative units")
    return value


def not_future(value: date | None) -> date | None:
    if value is not None and value > datetime.now(UTC).date():
        raise ValueError("must not be in the future")
    return value


def e164_phone(value: str | None) -> str | None:
    """A phone number normalised (+84 for Vietnamese numbers), or a 422."""
    if value is None:
        return None
    normalised = normalize_phone(value)
    if normalised is None:
        raise ValueError("not a phone number")
    return normalised
