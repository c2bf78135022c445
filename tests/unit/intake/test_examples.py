"""The bodies the OpenAPI documents show a residents' app are bodies intake accepts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from services.intake.app import create_app
from services.intake.examples import (
    MISSING_PERSON_EXAMPLE,
    RECEIPT_CODE,
    RECEIPT_MESSAGE_EXAMPLE,
    TIP_EXAMPLE,
)
from services.intake.schemas import (
    MissingPersonCreate,
    ReceiptLookupIn,
    ReceiptMessageIn,
    TipCreate,
)

CASES: list[tuple[type[BaseModel], Any]] = [
    (TipCreate, TIP_EXAMPLE),
    (MissingPersonCreate, MISSING_PERSON_EXAMPLE),
    (ReceiptLookupIn, {"receipt_code": RECEIPT_CODE}),
    (ReceiptMessageIn, RECEIPT_MESSAGE_EXAMPLE),
]


@pytest.mark.parametrize(("model", "example"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_each_example_is_a_valid_body_and_is_in_the_openapi(
    model: type[BaseModel], example: Any
) -> None:
    model.model_validate(example)
    components = create_app().openapi()["components"]["schemas"]
    assert components[model.__name__]["examples"] == [example]


def test_the_tip_example_names_a_person_and_a_reporter() -> None:
    tip = TipCreate.model_validate(TIP_EXAMPLE)
    assert tip.persons and tip.reporter is not None
    assert tip.reporter.phone == "+84900000001"
