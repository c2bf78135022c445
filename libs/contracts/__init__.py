"""The published language between services: typed payloads of every event type.

A producer validates ``data`` against the model before writing the outbox row; a consumer
validates it again before handling. These are schemas, not domain rules.
"""

from __future__ import annotations

from pydantic import BaseModel

from libs.contracts import casework, intake, interagency, outreach, victim_support

PAYLOADS: dict[str, type[BaseModel]] = {
    **intake.PAYLOADS,
    **casework.PAYLOADS,
    **victim_support.PAYLOADS,
    **outreach.PAYLOADS,
    **interagency.PAYLOADS,
}


def payload_model(short_type: str) -> type[BaseModel] | None:
    return PAYLOADS.get(short_type)
