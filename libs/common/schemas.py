"""The base of every request model: unknown fields refused, text trimmed, and no NUL characters
(PostgreSQL cannot store them, so they would turn a client's mistake into a 500)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from libs.common.jurisdiction import is_ward_code
from libs.common.text import normalize_id_number, normalize_phone
from libs.common.validation import InvalidValue


def has_nul(value: Any) -> bool:
    """Whether a JSON-like value holds a NUL character anywhere (keys too): the quick check that
    lets a valid body skip :func:`nul_path`, which builds a path for every value it visits."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            if "\x00" in item:
                return True
        elif kind is dict:
            pending.extend(item)
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif isinstance(item, str | dict | list | tuple):  # subclasses: the slow path decides
            return nul_path(item) is not None
    return False


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
        where = nul_path(data) if has_nul(data) else None
        if where is not None:
            raise InvalidValue("text.nul", "must not contain NUL characters", at=where)
        return data


VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def utc_moment(value: datetime, *, past: bool = False) -> datetime:
    """A time in UTC, within years 1900-2100 (PostgreSQL and Python both fail on the edges of
    their ranges, so a far-fetched time is a 422, not a 500). Viet Nam has one time zone: a time
    without an offset, or a plain date (its midnight), is a time in Asia/Ho_Chi_Minh."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=VIETNAM)
    try:
        moment = value.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidValue("time.out_of_range", "out of range") from exc
    if not 1900 <= moment.year <= 2100:
        raise InvalidValue("time.out_of_range", "a time between the years 1900 and 2100")
    if past and moment > datetime.now(UTC):
        raise InvalidValue("date.future", "must not be in the future")
    return moment


# Field validators shared by the services' request models (``field_validator(...)(known_ward)``).


def known_ward(value: str | None) -> str | None:
    if value is not None and not is_ward_code(value):
        raise InvalidValue(
            "ward_code.unknown", "not a ward code of the current administrative units"
        )
    return value


def not_future(value: date | None) -> date | None:
    if value is not None and value > datetime.now(UTC).date():
        raise InvalidValue("date.future", "must not be in the future")
    return value


def e164_phone(value: str | None) -> str | None:
    """A phone number normalised (+84 for Vietnamese numbers), or a 422."""
    if value is None:
        return None
    normalised = normalize_phone(value)
    if normalised is None:
        raise InvalidValue("phone.invalid", "not a phone number")
    return normalised


# One person, as every service takes it in -------------------------------------------------------

# A Vietnamese citizen ID (CCCD, 12 digits) or old ID card (CMND, 9), a passport (one or two
# letters and 6-9 digits: Vietnam's and its neighbours' alike), or a Chinese resident ID card
# (18 characters, the last may be X): the documents a person met at the borders carries.
_ID_NUMBER = re.compile(r"^(\d{9}|\d{12}|[A-Z]{1,2}\d{6,9}|\d{17}[\dX])$")

Sex = Literal["female", "male", "other", "unknown"]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
"""One line of text: a name, a title, an agency."""


def id_document(value: str | None) -> str | None:
    """Upper case without separators, of a shape some identity document has, or a 422."""
    if value is None:
        return None
    normalised = normalize_id_number(value)
    if not _ID_NUMBER.match(normalised):
        raise InvalidValue(
            "id_number.invalid",
            "expected a 12-digit CCCD, a 9-digit CMND, a passport number or an 18-character"
            " Chinese resident ID",
        )
    return normalised


def _given(field: str, kind: str) -> JsonDict:
    return {"required": [field], "properties": {field: {"type": kind}}}


DOB_OR_AGE: JsonDict = {
    "not": {"allOf": [_given("date_of_birth", "string"), _given("age", "integer")]}
}
"""JSON Schema for "date_of_birth or age, not both", so that a client knows before a 422."""
DOB_XOR_AGE: JsonDict = {
    **DOB_OR_AGE,
    "anyOf": [_given("date_of_birth", "string"), _given("age", "integer")],
}
"""JSON Schema for "exactly one of date_of_birth or age"."""


class PersonRead(BaseModel):
    """Who a person is, in every service's responses (a tip's persons, a case's parties, a
    victim); a model adds its own fields (id, role, notes, nationality)."""

    model_config = ConfigDict(from_attributes=True)

    full_name: str | None = None
    date_of_birth: date | None = None
    age: int | None = None
    sex: str | None = None
    phone: str | None = None
    id_number: str | None = None
    hometown_ward_code: str | None = None


class PersonFields(StrictModel):
    """Who a person is, in every service's request models (a tip's persons, a case's parties, a
    victim, an alert's person); a model adds its own fields (role, notes, nationality)."""

    model_config = ConfigDict(json_schema_extra=DOB_OR_AGE)

    full_name: str | None = Field(None, min_length=1, max_length=200)
    date_of_birth: date | None = None
    age: int | None = Field(None, ge=0, le=120)
    sex: Sex | None = None
    phone: str | None = Field(None, max_length=30)
    id_number: str | None = Field(None, max_length=20, description="CCCD (12), CMND (9), passport")
    hometown_ward_code: str | None = Field(
        None, pattern=r"^\d{5}$", description="ward/commune code (5 digits)"
    )

    _ward = field_validator("hometown_ward_code")(known_ward)
    _dob = field_validator("date_of_birth")(not_future)
    _phone = field_validator("phone")(e164_phone)
    _id = field_validator("id_number")(id_document)

    @model_validator(mode="after")
    def _date_of_birth_or_age(self) -> Any:
        if self.date_of_birth is not None and self.age is not None:
            raise InvalidValue("date_of_birth_or_age.both", "give date_of_birth or age, not both")
        return self


class AssignmentIn(StrictModel):
    """``POST .../assignment`` (DESIGN §11): the officer a record is given to, as the directory
    and their token name them."""

    sub: str = Field(min_length=1, max_length=200, description="the officer's subject id (`sub`)")
