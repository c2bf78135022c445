from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from libs.common.events import (
    CloudEvent,
    dlt_topic,
    event_type,
    kafka_headers,
    topic_for,
)

TIP_ID = "01980000-0000-7000-8000-000000000001"


def _event(**overrides: object) -> CloudEvent:
    values: dict[str, object] = {
        "id": "01980000-0000-7000-8000-0000000000aa",
        "source": "/ctip/intake",
        "type": "vn.ctip.intake.tip.received.v1",
        "subject": TIP_ID,
        "time": datetime(2025, 7, 1, 8, 30, tzinfo=UTC),
        "data": {"tip_id": TIP_ID, "channel": "hotline"},
    }
    values.update(overrides)
    return CloudEvent.model_validate(values)


def test_json_round_trip_gives_the_same_event() -> None:
    event = _event(correlationid="abc", traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01")
    assert CloudEvent.from_json_bytes(event.to_json_bytes()) == event


def test_json_is_structured_cloudevents() -> None:
    body = json.loads(_event().to_json_bytes())
    assert body["specversion"] == "1.0"
    assert body["type"] == "vn.ctip.intake.tip.received.v1"
    assert body["source"] == "/ctip/intake"
    assert body["subject"] == TIP_ID
    assert body["datacontenttype"] == "application/json"
    assert body["data"] == {"tip_id": TIP_ID, "channel": "hotline"}


def test_json_leaves_out_unset_optional_attributes() -> None:
    body = json.loads(_event().to_json_bytes())
    assert "correlationid" not in body
    assert "traceparent" not in body


def test_extension_attributes_survive_the_round_trip() -> None:
    raw = json.loads(_event().to_json_bytes())
    raw["partitionkey"] = "01"
    event = CloudEvent.from_json_bytes(json.dumps(raw).encode())
    assert json.loads(event.to_json_bytes())["partitionkey"] == "01"


def test_time_defaults_to_now_in_utc() -> None:
    event = CloudEvent(id="1", source="/ctip/intake", type="vn.ctip.intake.tip.received.v1")
    assert event.time.utcoffset() is not None
    assert event.time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("type_", "short"),
    [
        ("vn.ctip.intake.tip.received.v1", "intake.tip.received"),
        ("vn.ctip.intake.tip.verified.v1", "intake.tip.verified"),
        ("vn.ctip.victim_support.victim.received.v1", "victim_support.victim.received"),
        ("vn.ctip.casework.case.victim_linked.v1", "casework.case.victim_linked"),
        ("vn.ctip.interagency.alert.sent.v2", "interagency.alert.sent"),
        ("vn.ctip.intake.tip.received.v12", "intake.tip.received"),
    ],
)
def test_short_type_strips_prefix_and_version(type_: str, short: str) -> None:
    assert _event(type=type_).short_type == short


def test_short_type_of_an_unversioned_type_keeps_names_containing_dot_v() -> None:
    assert _event(type="victim_support.victim.received").short_type == (
        "victim_support.victim.received"
    )


def test_event_type_adds_prefix_and_version() -> None:
    assert event_type("intake.tip.received") == "vn.ctip.intake.tip.received.v1"


def test_event_type_and_short_type_are_inverse() -> None:
    assert _event(type=event_type("casework.case.opened", 2)).short_type == "casework.case.opened"


@pytest.mark.parametrize(
    ("short", "topic"),
    [
        ("intake.tip.received", "intake.tip.v1"),
        ("intake.missing_person.reported", "intake.missing_person.v1"),
        ("casework.case.victim_linked", "casework.case.v1"),
        ("victim_support.victim.reintegrated", "victim_support.victim.v1"),
        ("interagency.match.found", "interagency.match.v1"),
    ],
)
def test_topic_for_names_the_service_aggregate_topic(short: str, topic: str) -> None:
    assert topic_for(short) == topic


def test_topic_for_uses_the_requested_version() -> None:
    assert topic_for("intake.tip.received", 2) == "intake.tip.v2"


def test_dlt_topic_appends_dlt() -> None:
    assert dlt_topic("intake.tip.v1") == "intake.tip.v1.dlt"


def test_kafka_headers_copy_id_type_and_source_under_ctip_names() -> None:
    headers = dict(kafka_headers(_event()))
    assert headers["ctip-id"] == b"01980000-0000-7000-8000-0000000000aa"
    assert headers["ctip-type"] == b"vn.ctip.intake.tip.received.v1"
    assert headers["ctip-source"] == b"/ctip/intake"
    assert headers["content-type"] == b"application/cloudevents+json"


def test_kafka_headers_carry_no_ce_header_so_sdks_read_structured_mode() -> None:
    traceparent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    names = [n for n, _ in kafka_headers(_event(correlationid="c", traceparent=traceparent))]
    assert [n for n in names if n.lower().startswith("ce_")] == []


def test_kafka_headers_carry_correlation_and_trace_when_set() -> None:
    traceparent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    headers = dict(kafka_headers(_event(correlationid="corr-1", traceparent=traceparent)))
    assert headers["correlationid"] == b"corr-1"
    assert headers["traceparent"] == traceparent.encode()


def test_kafka_headers_leave_out_correlation_and_trace_when_unset() -> None:
    names = [name for name, _ in kafka_headers(_event())]
    assert "correlationid" not in names
    assert "traceparent" not in names
