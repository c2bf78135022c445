"""How a poll's records share the inbox transaction: which events the batch inserts, and which
records leave the batch to wait for a failed one (libs/common/inbox_batches.py)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy.exc import DBAPIError

from libs.common.errors import is_database_outage, is_transaction_conflict
from libs.common.events import CloudEvent
from libs.common.inbox_batches import Entry, Holdback, first_occurrences


async def _handler(ctx: Any, event: CloudEvent, payload: Any) -> None:
    raise AssertionError("never called here")


def entry(
    position: int,
    event_id: str,
    key: bytes | None = b"k",
    *,
    partition: int = 0,
    source: str = "/ctip/intake",
) -> Entry:
    record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        topic="t.intake.tip.v1",
        partition=partition,
        offset=position,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=b"{}",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=2,
        headers=[],
    )
    event = CloudEvent(id=event_id, source=source, type="vn.ctip.intake.tip.received.v1")
    return Entry(position, record, event, None, _handler)


def test_the_batch_inserts_each_event_once_at_its_first_record() -> None:
    entries = [entry(0, "e1"), entry(1, "e2"), entry(2, "e1"), entry(3, "e3"), entry(4, "e2")]

    assert [e.position for e in first_occurrences(entries)] == [0, 1, 3]


def test_the_same_event_id_from_another_source_is_another_event() -> None:
    entries = [entry(0, "e1"), entry(1, "e1", source="/ctip/casework")]

    assert [e.position for e in first_occurrences(entries)] == [0, 1]


def test_a_held_entry_holds_back_the_later_records_of_its_key_in_its_partition_only() -> None:
    holdback = Holdback()
    holdback.hold(entry(0, "e1", b"A"), attempts=1, error=ValueError("x"))

    assert holdback.blocks(entry(1, "e2", b"A"))
    assert not holdback.blocks(entry(2, "e3", b"B"))
    assert not holdback.blocks(entry(3, "e4", b"A", partition=1))


def test_a_held_entry_holds_back_a_repeat_of_its_event_under_another_key() -> None:
    holdback = Holdback()
    holdback.hold(entry(0, "e1", b"A"))

    assert holdback.blocks(entry(1, "e1", b"B"))


def test_records_without_a_key_wait_for_each_other_within_their_partition() -> None:
    holdback = Holdback()
    holdback.hold(entry(0, "e1", None))

    assert holdback.blocks(entry(1, "e2", None))
    assert not holdback.blocks(entry(2, "e3", b"A"))


def test_held_entries_keep_their_order_attempts_and_error() -> None:
    holdback = Holdback()
    error = ValueError("the handler failed")
    holdback.hold(entry(0, "e1", b"A"), attempts=1, error=error)
    holdback.hold(entry(2, "e3", b"A"))

    assert [(h.entry.position, h.attempts, h.error) for h in holdback.held] == [
        (0, 1, error),
        (2, 0, None),
    ]
    assert holdback.identities() == {("/ctip/intake", "e1"), ("/ctip/intake", "e3")}


def _wrapped(driver_error: Exception) -> DBAPIError:
    """As SQLAlchemy's asyncpg dialect raises it: the driver's error as ``orig`` and cause."""
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise DBAPIError("SELECT 1", None, exc) from exc
    except DBAPIError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
    ],
)
def test_a_deadlock_or_serialization_failure_is_a_conflict_to_run_again(
    driver_error: Exception,
) -> None:
    assert is_transaction_conflict(_wrapped(driver_error))
    assert not is_database_outage(_wrapped(driver_error))


def test_a_broken_rule_is_not_a_conflict() -> None:
    assert not is_transaction_conflict(
        _wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    )
    assert not is_transaction_conflict(ValueError("this tip cannot be handled"))
