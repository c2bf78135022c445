"""The use-case context: who acts, the platform reached only through it, events checked
against their contracts, audit entries naming the actor."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import ValidationError

from libs.common.auth import Principal, Role, TokenVerifier, issue_dev_token
from libs.common.context import Context, requires
from libs.common.crypto import BlindIndex
from libs.common.db import request_session
from libs.common.errors import Unauthorized, install_error_handlers
from libs.common.platform import platform_of
from libs.common.settings import DEV_INDEX_KEY, ServiceSettings
from services.outreach.models import metadata
from tests.fakes import fake_context

OFFICER = Principal(sub="officer-7", roles=frozenset({"intake_officer"}), jurisdiction=("01",))


def settings() -> ServiceSettings:
    return ServiceSettings(environment="test")


def test_without_a_principal_the_system_acts_and_a_use_case_needing_one_is_a_401() -> None:
    ctx, _ = fake_context(settings())
    assert ctx.sub == "system"
    with pytest.raises(Unauthorized, match="bearer token is required"):
        ctx.require_principal()


def test_with_a_principal_it_is_the_actor() -> None:
    ctx, _ = fake_context(settings(), OFFICER)
    assert ctx.require_principal() is OFFICER
    assert ctx.sub == "officer-7"


async def test_an_event_is_checked_against_its_contract_before_it_is_written() -> None:
    ctx, platform = fake_context(settings(), OFFICER)
    tip_id = uuid.uuid4()
    with pytest.raises(ValidationError):
        await ctx.emit("intake.tip.closed", tip_id, {"tip_id": str(tip_id)})
    assert platform.outbox.events == []
    await ctx.emit(
        "intake.tip.closed",
        tip_id,
        {"tip_id": str(tip_id), "outcome": "no_basis", "closed_at": datetime.now(UTC)},
    )
    assert platform.outbox.types() == ["vn.ctip.intake.tip.closed.v1"]


async def test_an_audit_entry_names_the_actor_and_the_record() -> None:
    ctx, platform = fake_context(settings(), OFFICER)
    record_id = uuid.uuid4()
    await ctx.record("read", "tip", record_id, "case handling", {"fields": ["persons"]})
    (entry,) = platform.audit.entries
    assert (entry["actor"], entry["action"], entry["record_id"], entry["purpose"]) == (
        "officer-7",
        "read",
        str(record_id),
        "case handling",
    )


# At module level, as in a service's access.py: route annotations are resolved in the module.
Officer = Annotated[Context[Any], Depends(requires(Role.intake_officer))]


async def _no_database() -> AsyncIterator[None]:
    yield None


async def test_a_route_gets_the_context_of_a_caller_holding_one_of_the_roles() -> None:
    """Through FastAPI, as routes use it: 200 with the caller, 403 for another role, 401."""
    config = settings()
    app = FastAPI()
    install_error_handlers(app)
    app.state.settings = config
    app.state.platform = platform_of(metadata)
    app.state.blind_index = BlindIndex.from_b64(DEV_INDEX_KEY)
    app.state.token_verifier = TokenVerifier(config)
    app.dependency_overrides[request_session] = _no_database

    @app.get("/who")
    async def who(ctx: Officer) -> dict[str, str]:
        return {"sub": ctx.sub}

    def token(role: str) -> dict[str, str]:
        bearer = issue_dev_token(config, roles=[role], jurisdiction=["01"], sub="officer-7")
        return {"Authorization": f"Bearer {bearer}"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        allowed = await client.get("/who", headers=token("intake_officer"))
        other = await client.get("/who", headers=token("investigator"))
        anonymous = await client.get("/who")
    assert (allowed.status_code, allowed.json()) == (200, {"sub": "officer-7"})
    assert other.status_code == 403
    assert anonymous.status_code == 401
