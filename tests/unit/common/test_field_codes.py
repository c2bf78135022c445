"""Every shared validator refuses with its stable machine code, the one apps translate by: the
code is part of the contract (``FieldError.code``), so a change to it is a change to the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from libs.common.schemas import e164_phone, id_document, known_ward, not_future, utc_moment
from libs.common.validation import InvalidValue

TOMORROW = datetime.now(UTC) + timedelta(days=1)
ID_MESSAGE = (
    "expected a 12-digit CCCD, a 9-digit CMND, a passport number or an 18-character Chinese"
    " resident ID"
)


@pytest.mark.parametrize(
    ("check", "value", "code", "message"),
    [
        (utc_moment, datetime(1899, 12, 31, tzinfo=UTC), "time.out_of_range", "a time between"),
        (utc_moment, datetime.min, "time.out_of_range", "out of range"),
        (lambda v: utc_moment(v, past=True), TOMORROW, "date.future", "must not be in the future"),
        (not_future, TOMORROW.date() + timedelta(days=1), "date.future", "must not be in the"),
        (id_document, "12345", "id_number.invalid", ID_MESSAGE),
        (known_ward, "99999", "ward_code.unknown", "not a ward code"),
        (e164_phone, "12", "phone.invalid", "not a phone number"),
    ],
    ids=["before-1900", "overflow", "future-time", "future-date", "id", "ward", "phone"],
)
def test_a_refusal_carries_its_code(
    check: Callable[[Any], Any], value: Any, code: str, message: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check(value)
    assert refused.value.code == code
    assert str(refused.value).startswith(message)


def test_what_is_accepted_passes_unchanged_or_normalised() -> None:
    assert not_future(date(2026, 1, 1)) == date(2026, 1, 1)
    assert id_document("0790 1234 5678") == "079012345678"
