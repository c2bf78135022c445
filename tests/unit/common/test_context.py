"""The use-case context: who acts, the platform reached only through it, events checked
against their contracts, audit entries naming the actor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from libs.common.auth import Principal
from libs.common.errors import Unauthorized
from libs.common.settings import ServiceSettings
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
