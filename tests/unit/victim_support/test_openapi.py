"""What an NGO's developer reads in victim_support's OpenAPI document, with nothing else at
hand: the schema of a delivery item (not ``{}``), which of the two ways of naming the person to
use, the conflict status, the list of programs, and the correction of a delivery."""

from __future__ import annotations

from functools import cache
from typing import Any

from services.victim_support.app import create_app

SCHEMAS = "#/components/schemas/"


@cache
def document() -> dict[str, Any]:
    schema: dict[str, Any] = create_app().openapi()
    return schema


def component(name: str) -> dict[str, Any]:
    found: dict[str, Any] = document()["components"]["schemas"][name]
    return found


def body_schema(path: str, method: str) -> dict[str, Any]:
    op = document()["paths"][path][method]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return component(ref.removeprefix(SCHEMAS))


def test_a_batch_documents_its_items() -> None:
    batch = body_schema("/v1/programs/{program_id}/deliveries:batch", "post")
    items = batch["properties"]["items"]
    assert items["items"] == {"$ref": SCHEMAS + "DeliveryItem"}
    assert (items["minItems"], items["maxItems"]) == (1, 1000)


def test_a_delivery_item_names_its_person_one_way_or_the_other() -> None:
    item = component("DeliveryItem")
    assert set(item["properties"]) == {
        "external_id",
        "victim_id",
        "person_external_id",
        "type",
        "amount_vnd",
        "delivered_on",
    }
    assert item["required"] == ["external_id", "type", "delivered_on"]
    assert item["oneOf"] == [{"required": ["victim_id"]}, {"required": ["person_external_id"]}]
    assert item["properties"]["victim_id"]["format"] == "uuid"
    assert "enrollment" in item["properties"]["person_external_id"]["description"]
    assert item["properties"]["type"]["$ref"] == SCHEMAS + "SupportType"
    assert item["additionalProperties"] is False


def test_a_result_may_be_a_conflict_carrying_the_version_to_correct() -> None:
    result = component("DeliveryResult")
    assert result["properties"]["status"]["enum"] == [
        "created",
        "duplicate",
        "conflict",
        "rejected",
    ]
    assert "version" in result["properties"]
    assert "conflict" in component("DeliveryBatchOut")["required"]


def test_programs_are_listed_a_page_at_a_time() -> None:
    op = document()["paths"]["/v1/programs"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"limit", "cursor"}
    page = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    listed = component(page.removeprefix(SCHEMAS))
    assert set(listed["properties"]) == {"items", "next_cursor"}
    assert listed["properties"]["items"]["items"] == {"$ref": SCHEMAS + "ProgramSummary"}


def test_a_delivery_is_corrected_with_put_and_if_match() -> None:
    op = document()["paths"]["/v1/programs/{program_id}/deliveries/{external_id}"]["put"]
    assert {(p["in"], p["name"]) for p in op["parameters"]} == {
        ("path", "program_id"),
        ("path", "external_id"),
        ("header", "If-Match"),
    }
    assert {"403", "404", "412", "422"} <= set(op["responses"])
    correction = body_schema("/v1/programs/{program_id}/deliveries/{external_id}", "put")
    assert set(correction["properties"]) == {"type", "amount_vnd", "delivered_on"}


def test_the_report_s_language_is_a_documented_choice() -> None:
    op = document()["paths"]["/v1/programs/{program_id}/report"]["get"]
    lang = next(p for p in op["parameters"] if p["name"] == "lang")
    assert {"enum": ["vi", "en"], "type": "string"} in lang["schema"]["anyOf"]
