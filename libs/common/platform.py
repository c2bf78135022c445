"""What every service's schema holds besides its own tables: outbox, inbox, audit log and
idempotency keys. A service's ``models.py`` builds one :class:`ServicePlatform` on its metadata,
so the shared tables join that service's Alembic history."""

from __future__ import annotations

from sqlalchemy import MetaData

from libs.common.audit import AuditLog
from libs.common.idempotency import IdempotencyStore
from libs.common.inbox import inbox_table
from libs.common.outbox import Outbox


class ServicePlatform:
    def __init__(self, service: str, metadata: MetaData) -> None:
        self.service = service
        self.metadata = metadata
        self.outbox = Outbox(metadata, service)
        self.inbox = inbox_table(metadata)
        self.audit = AuditLog(metadata)
        self.idempotency = IdempotencyStore(metadata)
