"""The event envelope: CloudEvents 1.0, structured JSON mode.

``id`` is the outbox row id, ``source`` ``/ctip/<service>``, ``type``
``vn.ctip.<service>.<aggregate>.<event>.v1``, ``subject`` the aggregate id. Payloads are typed:
each event type names a pydantic model in :mod:`libs.contracts`, validated when the event is
written and again when it is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

MEDIA_TYPE = "application/cloudevents+json"
CONTENT_TYPE = f"{MEDIA_TYPE}; charset=UTF-8"
# A Kafka record's content-type: structured mode. No ``ce_`` header may travel with it: the
# CloudEvents SDKs read a record with ``ce_`` headers as binary mode and lose subject and data.
KAFKA_CONTENT_TYPE = MEDIA_TYPE
TYPE_PREFIX = "vn.ctip."
_VERSION_SUFFIX = re.compile(r"\.v\d+$")


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str | None = None
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    traceparent: str | None = None
    correlationid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode("utf-8")

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate(json.loads(raw))

    @property
    def short_type(self) -> str:
        """``intake.tip.received`` for ``vn.ctip.intake.tip.received.v1``."""
        return _VERSION_SUFFIX.sub("", self.type.removeprefix(TYPE_PREFIX))


def event_type(short: str, version: int = 1) -> str:
    return f"{TYPE_PREFIX}{short}.v{version}"


def topic_for(short_type: str, version: int = 1) -> str:
    """``intake.tip.received`` → ``intake.tip.v1``: one topic per service aggregate."""
    service, aggregate, _ = short_type.split(".", 2)
    return f"{service}.{aggregate}.v{version}"


def dlt_topic(topic: str) -> str:
    return f"{topic}.dlt"


def kafka_headers(event: CloudEvent) -> list[tuple[str, bytes]]:
    """Structured mode, with copies of id, type and source for routing without parsing."""
    return document_headers(event.model_dump(include=_HEADER_FIELDS, exclude_none=True))


_HEADER_FIELDS = {"id", "type", "source", "correlationid", "traceparent"}


def document_headers(document: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """``kafka_headers`` of an event already in its JSON form (an outbox row's document)."""
    headers = [
        ("content-type", KAFKA_CONTENT_TYPE.encode()),
        ("ctip-id", document["id"].encode()),
        ("ctip-type", document["type"].encode()),
        ("ctip-source", document["source"].encode()),
    ]
    if document.get("correlationid"):
        headers.append(("correlationid", document["correlationid"].encode()))
    if document.get("traceparent"):
        headers.append(("traceparent", document["traceparent"].encode()))
    return headers


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """A record's value from an event already in its JSON form, as the outbox stores it
    (``model_dump(mode="json", exclude_none=True)``, validated when it was written): the same
    compact UTF-8 JSON that ``CloudEvent.to_json_bytes`` gives, without building the model."""
    return to_json(document)
