"""What a 422 says of each field: where (``field``), in words (``message``) and for programs
(``code``), from pydantic's errors and our validators' (:class:`InvalidValue`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

FIELD_CODES = {
    "text.nul": "a text holds a NUL character",
    "time.out_of_range": "a time outside the years 1900 to 2100",
    "date.future": "a date or time in the future where only a past one makes sense",
    "ward_code.unknown": "not a ward of the current administrative units",
    "province_code.unknown": "not a province code",
    "phone.invalid": "not a phone number",
    "id_number.invalid": "not a CCCD, CMND, passport or Chinese resident ID number",
    "email.invalid": "not an e-mail address",
    "date_of_birth_or_age.both": "date_of_birth and age given together",
    "idempotency_key.missing": "no Idempotency-Key where one is required",
    "idempotency_key.not_random": "an Idempotency-Key that is not a random UUID v4 or v7",
    "idempotency_key.blank": "a blank Idempotency-Key",
    "if_match.invalid": "If-Match that is not a record version",
    "cursor.invalid": "a cursor this API did not issue",
    "body.json_invalid": "a body that is not JSON (``position`` says where)",
}
"""The codes of the shared rules; a service's own rules add codes of the same shape
(``<subject>.<reason>``, e.g. ``duplicate_of.unknown``). Every other code is pydantic's error
type (``missing``, ``string_too_long``, ``extra_forbidden``, ``enum``, ...), stable across
versions."""
FALLBACK_CODE = "invalid"


class InvalidValue(ValueError):
    """A validator's refusal with a stable machine code beside its human message, for apps that
    translate. ``at`` names where inside the validated value the fault sits (the NUL in
    ``persons.0.full_name`` found by a model's check of the whole body)."""

    def __init__(self, code: str, message: str, *, at: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.at = at


class FieldError(BaseModel):
    field: str = Field(description="where: a field path (`persons.0.phone`), a header, or `body`")
    message: str = Field(description="what is wrong, for people, in the problem's language")
    code: str = Field(
        description="what is wrong, for programs: pydantic's error type (`missing`, "
        "`string_too_long`, `extra_forbidden`, `enum`, ...) or a rule of ours, "
        "`<subject>.<reason>`: "
        + "; ".join(f"`{code}` {meaning}" for code, meaning in FIELD_CODES.items())
        + "; and each service's own rules of that shape (`duplicate_of.unknown`)",
        examples=["ward_code.unknown"],
    )
    position: int | None = Field(
        None, description="for a body that is not JSON: the character where parsing failed"
    )


def field_error(field: str, message: str, code: str) -> dict[str, Any]:
    """One entry of a problem's ``errors``, raised by a use case (``duplicate_of.unknown``)."""
    return {"field": field, "message": message, "code": code}


def field_errors(errors: Iterable[Mapping[str, Any]], body: Any = None) -> list[dict[str, Any]]:
    """Pydantic's errors as the problem's ``errors``: each names its field, says what is wrong in
    words and with a code (see :class:`FieldError`). Broken JSON is the ``body``'s, with the
    line, column and character where parsing failed (``body``: the text that was parsed)."""
    found: list[dict[str, Any]] = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        if e.get("type") == "json_invalid" and len(loc) == 2 and isinstance(loc[1], int):
            found.append(broken_json(loc[1], body))
            continue
        cause = (e.get("ctx") or {}).get("error")
        field = _field(loc) or "body"
        at = getattr(cause, "at", None)
        if at:
            field = at if field in ("", "body") else f"{field}.{at}"
        code = getattr(cause, "code", None) or str(e.get("type") or FALLBACK_CODE)
        found.append({"field": field, "message": str(e.get("msg", "invalid")), "code": code})
    return found


def broken_json(position: int, body: Any) -> dict[str, Any]:
    """The error of a body that is not JSON, where parsing stopped (``body``: the parsed text)."""
    text = body if isinstance(body, str) else ""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return {
        "field": "body",
        "message": f"not valid JSON: line {line}, column {column} (character {position})",
        "code": "body.json_invalid",
        "position": position,
    }


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "persons", 0, "phone")`` → ``persons.0.phone``: only loc[0] is a source."""
    sources = ("body", "query", "path", "header", "cookie")
    parts = [str(p) for p in (loc[1:] if loc and loc[0] in sources else loc)]
    return ".".join(parts) or str(loc[0] if loc else "")
