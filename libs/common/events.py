"""The event envelope: CloudEvents 1.0, structured JSON mode.

``id`` is the outbox row id, ``source`` ``/ctip/<service>``, ``type``
``vn.ctip.<service>.<aggregate>.<event>.v1``, ``subject`` the aggregate id. Payloads are typed:
each event type names a pydantic model in :mod:`libs.contracts`, validated when the event is
written and again when it is read.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    headers = [
        ("content-type", KAFKA_CONTENT_TYPE.encode()),
        ("ctip-id", event.id.encode()),
        ("ctip-type", event.type.encode()),
        ("ctip-source", event.source.encode()),
    ]
    if event.correlationid:
        headers.append(("correlationid", event.correlationid.encode()))
    if event.traceparent:
        headers.append(("traceparent", event.traceparent.encode()))
    return headers
