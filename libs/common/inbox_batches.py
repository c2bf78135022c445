"""How a poll's records share the inbox's one transaction, with no I/O: which events the batch
inserts into the inbox, which records repeat an earlier one, and which must wait for one that
failed (docs/architecture.md, "The inbox")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord

from libs.common.events import CloudEvent

# ``(ctx, event, payload)``: the context is whatever the service's ``make_context`` builds from
# the transaction's session (``libs.common.context.context_factory``); the payload is the
# contract's model. Typed loosely so that the inbox does not depend on the web layer.
Handler = Callable[[Any, CloudEvent, Any], Awaitable[None]]
# An event as the inbox knows it: its primary key.
Identity = tuple[str, str]
# What Kafka orders: the records of one key in one partition, i.e. one aggregate's events.
OrderKey = tuple[str, int, bytes | None]


@dataclass(frozen=True, slots=True)
class Entry:
    """A record of the poll that reaches a handler: decoded, with its handler and its place."""

    position: int
    record: ConsumerRecord[bytes, bytes]
    event: CloudEvent
    payload: Any
    handler: Handler

    @property
    def identity(self) -> Identity:
        return (self.event.source, self.event.id)

    @property
    def order_key(self) -> OrderKey:
        return (self.record.topic, self.record.partition, self.record.key)

    def inbox_row(self) -> dict[str, Any]:
        event, record = self.event, self.record
        return {
            "source": event.source,
            "event_id": event.id,
            "type": event.type,
            "topic": record.topic,
            "partition": record.partition,
            "offset": str(record.offset),
        }


class HandlerFailed(Exception):
    """A handler failed in a batch's first pass, which has no savepoints: the pass is rolled back
    and the batch run again with them."""

    def __init__(self, entry: Entry, error: Exception) -> None:
        super().__init__(entry.event.id)
        self.entry = entry
        self.error = error


def first_occurrences(entries: Iterable[Entry]) -> list[Entry]:
    """One entry per event, the first of each, in order: the rows of the batch's inbox insert.
    A producer's retry or a replay can put the same event twice in one poll."""
    seen: set[Identity] = set()
    firsts: list[Entry] = []
    for entry in entries:
        if entry.identity not in seen:
            seen.add(entry.identity)
            firsts.append(entry)
    return firsts


@dataclass(frozen=True, slots=True)
class Held:
    """An entry handled alone after the batch: its attempts so far and the last error."""

    entry: Entry
    attempts: int = 0
    error: BaseException | None = None


@dataclass
class Holdback:
    """The entries that leave the batch to be handled alone, after it, in their order.

    An entry whose handler failed leaves (it gets its own attempts and, if they run out, goes to
    the DLT alone); so does every later entry of the same aggregate, or of the same event,
    because handling it in the batch would commit its effect before the failed one's: the order
    of an aggregate's events would not hold. Entries of other aggregates stay in the batch.
    """

    held: list[Held] = field(default_factory=list)
    _keys: set[OrderKey] = field(default_factory=set)
    _identities: set[Identity] = field(default_factory=set)

    def blocks(self, entry: Entry) -> bool:
        return entry.order_key in self._keys or entry.identity in self._identities

    def hold(self, entry: Entry, *, attempts: int = 0, error: BaseException | None = None) -> None:
        self.held.append(Held(entry, attempts, error))
        self._keys.add(entry.order_key)
        self._identities.add(entry.identity)

    def identities(self) -> set[Identity]:
        return self._identities
