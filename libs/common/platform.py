"""What every service's schema holds besides its own tables: outbox, inbox, audit log and
idempotency keys, and for the services that keep files, the file store. A service's
``models.py`` installs them on its metadata (so they join that service's Alembic history); the
service's ``app.py`` takes them back with :func:`platform_of` and hands them to every use case
through the context, never through an import."""

from __future__ import annotations

from sqlalchemy import MetaData

from libs.common.audit import AuditLog
from libs.common.deadlines import DeadlineWatch
from libs.common.filestore import FileStore, PostgresFileStore, file_tables
from libs.common.idempotency import IdempotencyStore
from libs.common.inbox import inbox_table
from libs.common.outbox import Outbox

_KEY = "ctip.platform"


class ServicePlatform:
    def __init__(self, service: str, metadata: MetaData) -> None:
        self.service = service
        self.metadata = metadata
        self.outbox = Outbox(metadata, service)
        self.inbox = inbox_table(metadata)
        self.audit = AuditLog(metadata)
        self.idempotency = IdempotencyStore(metadata)
        # Only services that keep files install a store (:func:`install_file_store`).
        self.files: FileStore | None = None
        # Only services that own a legal clock watch deadlines (:func:`install_deadline_watch`).
        self.deadlines: DeadlineWatch | None = None


def install_platform(service: str, metadata: MetaData) -> None:
    """The platform tables on a service's metadata; once."""
    if _KEY not in metadata.info:
        metadata.info[_KEY] = ServicePlatform(service, metadata)


def install_file_store(metadata: MetaData) -> PostgresFileStore:
    """The file store's tables on a service's metadata, and the store on its platform."""
    platform = platform_of(metadata)
    if not isinstance(platform.files, PostgresFileStore):
        platform.files = PostgresFileStore(file_tables(metadata))
    return platform.files


def install_deadline_watch(metadata: MetaData) -> DeadlineWatch:
    """The ``deadline_watches`` table on a service's metadata, and the watch on its platform."""
    platform = platform_of(metadata)
    if platform.deadlines is None:
        platform.deadlines = DeadlineWatch(metadata, platform.service)
    return platform.deadlines


def platform_of(metadata: MetaData) -> ServicePlatform:
    platform = metadata.info.get(_KEY)
    if not isinstance(platform, ServicePlatform):
        raise LookupError(f"no platform installed on the {metadata.schema} metadata")
    return platform
