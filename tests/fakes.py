"""A context for unit tests of use cases: the outbox and the audit log record what a use case
wrote instead of writing it, so rules can be checked without PostgreSQL. Events still go through
the real contract check (``Outbox.event_row``), so a payload that breaks its contract fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import MetaData

from libs.common.auth import Principal
from libs.common.context import Context
from libs.common.crypto import BlindIndex
from libs.common.deadlines import DeadlineWatch
from libs.common.events import CloudEvent
from libs.common.outbox import Outbox
from libs.common.platform import ServicePlatform
from libs.common.settings import DEV_INDEX_KEY, ServiceSettings


class FakeOutbox:
    def __init__(self, service: str) -> None:
        self.real = Outbox(MetaData(schema=service), service)
        self.table = self.real.table
        self.events: list[CloudEvent] = []

    def event_row(
        self, short_type: str, subject: UUID | str, data: BaseModel | dict[str, Any]
    ) -> tuple[CloudEvent, dict[str, Any]]:
        """The event and its row for a bulk statement, the event recorded as if it was written."""
        event, row = self.real.event_row(short_type, subject, data)
        self.events.append(event)
        return event, row

    async def add(
        self, session: Any, short_type: str, subject: UUID | str, data: BaseModel | dict[str, Any]
    ) -> CloudEvent:
        event, _ = self.real.event_row(short_type, subject, data)
        self.events.append(event)
        return event

    def types(self) -> list[str]:
        return [e.type for e in self.events]


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def record(self, session: Any, **entry: Any) -> str:
        actor = entry["actor"]
        self.entries.append(
            {**entry, "actor": actor.sub if isinstance(actor, Principal) else actor}
        )
        return f"{len(self.entries):064x}"


class FakeDeadlines:
    """The deadline watch as a use case drives it: ``watched`` maps (record type, record id,
    kind) to the deadline being watched and its assignee, ``where`` to its ward and province;
    ``calls`` lists what was asked. Rows for a bulk statement are the real ones
    (``DeadlineWatch.new_row``)."""

    def __init__(self) -> None:
        self.watched: dict[tuple[str, UUID, str], tuple[datetime, str | None]] = {}
        self.where: dict[tuple[str, UUID, str], tuple[str | None, str | None]] = {}
        self.calls: list[tuple[str, str, UUID]] = []
        self.real = DeadlineWatch(MetaData(schema="fake"), "fake")
        self.table = self.real.table

    def new_row(self, **watch: Any) -> dict[str, Any]:
        return self.real.new_row(**watch)

    async def arm(
        self,
        session: Any,
        *,
        now: datetime,
        record_type: str,
        record_id: UUID,
        kind: str,
        due_at: datetime,
        ward_code: str | None,
        province_code: str | None,
        thresholds: Any,
        assignee: str | None = None,
    ) -> None:
        key = (record_type, record_id, kind)
        kept = self.watched.get(key, (due_at, None))[1]
        self.watched[key] = (due_at, assignee if assignee is not None else kept)
        self.where[key] = (ward_code, province_code)
        self.calls.append(("arm", record_type, record_id))

    async def settle(
        self, session: Any, record_type: str, record_id: UUID, kind: str | None = None
    ) -> None:
        for key in [k for k in self.watched if k[:2] == (record_type, record_id)]:
            if kind is None or key[2] == kind:
                del self.watched[key]
        self.calls.append(("settle", record_type, record_id))

    async def assign(self, session: Any, record_type: str, record_id: UUID, assignee: str) -> None:
        for key in [k for k in self.watched if k[:2] == (record_type, record_id)]:
            self.watched[key] = (self.watched[key][0], assignee)
        self.calls.append(("assign", record_type, record_id))


@dataclass
class FakePlatform:
    service: str
    outbox: FakeOutbox = field(init=False)
    audit: FakeAudit = field(default_factory=FakeAudit)
    deadlines: FakeDeadlines = field(default_factory=FakeDeadlines)
    idempotency: Any = None

    def __post_init__(self) -> None:
        self.outbox = FakeOutbox(self.service)


def fake_context(
    settings: ServiceSettings,
    principal: Principal | None = None,
    *,
    session: Any = None,
    now: datetime | None = None,
) -> tuple[Context[Any], FakePlatform]:
    """A context whose outbox and audit are fakes; ``session`` is whatever the use case's
    repository calls are given (a fake, or None when they are monkeypatched)."""
    platform = FakePlatform(settings.service_name)
    ctx: Context[Any] = Context(
        session=session,
        principal=principal,
        settings=settings,
        platform=cast(ServicePlatform, platform),
        index=BlindIndex.from_b64(DEV_INDEX_KEY),
        now=now or datetime.now(UTC),
    )
    return ctx, platform


class FakeFileStore:
    """A :class:`~libs.common.filestore.FileStore` in memory, sealing chunks as the real one
    does, so that use cases and the sealing rules are tested without PostgreSQL."""

    def __init__(self, chunk_bytes: int = 4) -> None:
        from libs.common.crypto import FieldCipher
        from libs.common.settings import ServiceSettings

        self.cipher = FieldCipher.from_spec(ServiceSettings().field_keys.get_secret_value())
        self.chunk_bytes = chunk_bytes
        self.keys: dict[UUID, str] = {}
        self.chunks: dict[UUID, list[bytes]] = {}

    async def write(self, session: Any, file_id: UUID, content: Any) -> Any:
        import hashlib
        import os

        from libs.common.filestore import StoredFile, sealed_chunks, wrap_key

        key = os.urandom(32)
        self.keys[file_id] = wrap_key(self.cipher, file_id, key)
        digest, size, sealed = hashlib.sha256(), 0, []
        async for _, plain, chunk in sealed_chunks(key, file_id, content, self.chunk_bytes):
            digest.update(plain)
            size += len(plain)
            sealed.append(chunk)
        self.chunks[file_id] = sealed
        kid = self.cipher.key_id(self.keys[file_id])
        return StoredFile(file_id, size, digest.hexdigest(), len(sealed), kid)

    async def read(self, session: Any, file_id: UUID) -> Any:
        from libs.common.filestore import FileStoreError, open_chunk, unwrap_key

        if file_id not in self.chunks:
            raise FileStoreError(f"no stored file {file_id}")
        key = unwrap_key(self.cipher, file_id, self.keys[file_id])
        sealed = self.chunks[file_id]
        for seq, chunk in enumerate(sealed):
            yield open_chunk(key, file_id, seq, seq == len(sealed) - 1, chunk)

    async def delete(self, session: Any, file_ids: Any) -> int:
        gone = [f for f in file_ids if self.chunks.pop(f, None) is not None]
        return len(gone)
