"""The one context every use case receives: who acts, when, in which transaction, with which keys.

A route gets it from one FastAPI dependency (:func:`requires` or :func:`public`); an event
handler gets it from :class:`~libs.common.inbox.EventConsumer` (:func:`context_factory`). Use
cases reach the outbox, the audit log and the settings only through it, so following a use case
never leaves its arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit import AuditLog
from libs.common.auth import OptionalPrincipal, Principal, Role, require_roles
from libs.common.crypto import BlindIndex
from libs.common.db import DbSession
from libs.common.deadlines import DeadlineWatch
from libs.common.errors import Unauthorized
from libs.common.events import CloudEvent
from libs.common.filestore import FileStore
from libs.common.idempotency import IdempotencyStore
from libs.common.outbox import Outbox
from libs.common.platform import ServicePlatform
from libs.common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)

# ``X-Purpose``: why personal data is read; written to the audit log with every such read.
Purpose = Annotated[
    str,
    Header(
        alias="X-Purpose",
        min_length=3,
        max_length=200,
        description="why personal data is read; written to the audit log",
    ),
]


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context(Generic[S]):
    """One use case's world. ``principal`` is None for the system (event handlers, workers)
    and for anonymous callers of the public endpoints; ``sub`` then names them."""

    session: AsyncSession
    principal: Principal | None
    settings: S
    platform: ServicePlatform
    index: BlindIndex
    now: datetime = field(default_factory=now_utc)
    anonymous_sub: str = "system"

    @property
    def sub(self) -> str:
        return self.principal.sub if self.principal is not None else self.anonymous_sub

    @property
    def outbox(self) -> Outbox:
        return self.platform.outbox

    @property
    def audit(self) -> AuditLog:
        return self.platform.audit

    @property
    def idempotency(self) -> IdempotencyStore:
        return self.platform.idempotency

    @property
    def files(self) -> FileStore:
        """The service's file store; a service that keeps no files has none."""
        if self.platform.files is None:
            raise LookupError(f"{self.platform.service} keeps no files")
        return self.platform.files

    @property
    def deadlines(self) -> DeadlineWatch:
        """The service's deadline watches; a service that owns no legal clock has none."""
        if self.platform.deadlines is None:
            raise LookupError(f"{self.platform.service} watches no deadline")
        return self.platform.deadlines

    def require_principal(self) -> Principal:
        """The authenticated caller; a 401 if a use case that needs one is reached without."""
        if self.principal is None:
            raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        return self.principal

    async def emit(
        self, short_type: str, subject: UUID | str, data: BaseModel | dict[str, Any]
    ) -> CloudEvent:
        """The event, validated against its contract, in this transaction's outbox."""
        return await self.outbox.add(self.session, short_type, subject, data)

    async def record(
        self,
        action: str,
        record_type: str,
        record_id: UUID | str,
        purpose: str,
        details: dict[str, Any] | None = None,
    ) -> str:
        """One audit entry for this actor, in this transaction."""
        return await self.audit.record(
            self.session,
            actor=self.principal if self.principal is not None else self.sub,
            action=action,
            record_type=record_type,
            record_id=str(record_id),
            purpose=purpose,
            details=details,
        )


def context_factory(
    settings: S, platform: ServicePlatform, index: BlindIndex
) -> Callable[[AsyncSession], Context[S]]:
    """What the consumers and workers call per transaction: the system acting now."""

    def make(session: AsyncSession) -> Context[S]:
        return Context(
            session=session, principal=None, settings=settings, platform=platform, index=index
        )

    return make


def request_context(
    request: Request, session: AsyncSession, principal: Principal | None, anonymous_sub: str
) -> Context[Any]:
    state = request.app.state
    return Context(
        session=session,
        principal=principal,
        settings=state.settings,
        platform=state.platform,
        index=state.blind_index,
        anonymous_sub=anonymous_sub,
    )


def requires(*roles: Role) -> Callable[..., Awaitable[Context[Any]]]:
    """The dependency of a route for callers holding one of ``roles`` (else 401/403)."""
    role_check = require_roles(*roles)

    # A default, not ``Annotated[..., Depends(role_check)]``: annotations are strings here
    # (``from __future__ import annotations``) and FastAPI resolves them in the module's
    # globals, where this closure's ``role_check`` is not.
    async def dependency(
        request: Request,
        session: DbSession,
        principal: Principal = Depends(role_check),  # noqa: B008
    ) -> Context[Any]:
        return request_context(request, session, principal, "system")

    return dependency


async def public(
    request: Request, session: DbSession, principal: OptionalPrincipal
) -> Context[Any]:
    """The dependency of a public route: a token is optional, and without one the caller is
    ``anonymous``."""
    return request_context(request, session, principal, "anonymous")


PublicContext = Annotated[Context[Any], Depends(public)]


async def signed_by_partner(request: Request, session: DbSession) -> Context[Any]:
    """The dependency of a partner's webhook: it carries a signature, never a token, so no
    principal is read; its problems speak the partners' language, English."""
    return request_context(request, session, None, "system")
