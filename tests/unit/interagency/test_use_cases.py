"""interagency's use cases with a fake context: what they emit and audit, and what they refuse,
without PostgreSQL (the repository calls are faked)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.auth import Principal
from libs.common.errors import Conflict, Forbidden, Unauthorized
from libs.contracts.intake import MissingPersonPublished
from services.interagency import (
    alerts,
    match_repository,
    matches,
    missing_persons,
    partners,
    repository,
    webhooks,
)
from services.interagency.domain import Decision, MatchStatus, PartnerStatus
from services.interagency.models import Match, MissingPersonRef, Partner
from services.interagency.schemas import OutboundAlertIn
from services.interagency.settings import InteragencySettings
from tests.fakes import fake_context

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
WARD = "00256"
OFFICER = Principal(sub="officer-1", roles=frozenset({"intake_officer"}), jurisdiction=("01",))
ELSEWHERE = Principal(sub="officer-2", roles=frozenset({"intake_officer"}), jurisdiction=("79",))


class FakeSession:
    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)

    async def flush(self) -> None:
        return None


def settings() -> InteragencySettings:
    return InteragencySettings(environment="test")


def a_match(status: MatchStatus = MatchStatus.candidate) -> Match:
    return Match(
        id=uuid.uuid4(),
        missing_person_id=uuid.uuid4(),
        alert_id=uuid.uuid4(),
        partner_code="20",
        score=0.9,
        reasons=[{"field": "full_name", "detail": "same name", "weight": 0.5}],
        status=status.value,
        created_at=NOW,
        version=1,
    )


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The rows the faked repository answers with."""
    rows: dict[str, Any] = {"match": a_match()}

    async def get_match(session: Any, match_id: Any, *, for_update: bool = False) -> Match:
        return rows["match"]

    async def get_missing_person(session: Any, mp_id: Any) -> MissingPersonRef:
        return MissingPersonRef(missing_person_id=mp_id, last_seen_ward_code=WARD)

    monkeypatch.setattr(match_repository, "get_match", get_match)
    monkeypatch.setattr(match_repository, "get_missing_person", get_missing_person)
    return rows


async def test_a_decision_is_emitted_and_audited_once(stored: dict[str, Any]) -> None:
    ctx, platform = fake_context(settings(), OFFICER, session=FakeSession(), now=NOW)
    read = await matches.decide(ctx, stored["match"].id, Decision.confirmed, "seen her", None)
    assert (read.status, read.decided_by, read.version) == ("confirmed", "officer-1", 2)
    assert platform.outbox.types() == ["vn.ctip.interagency.match.decided.v1"]
    (entry,) = platform.audit.entries
    assert (entry["action"], entry["actor"], entry["details"]) == (
        "match.confirmed",
        "officer-1",
        {"note": "seen her"},
    )
    with pytest.raises(Conflict) as refused:
        await matches.decide(ctx, stored["match"].id, Decision.rejected, None, None)
    assert refused.value.extra.get("allowed_actions") == []
    assert len(platform.outbox.events) == 1


async def test_a_match_outside_the_jurisdiction_is_not_decided(stored: dict[str, Any]) -> None:
    ctx, platform = fake_context(settings(), ELSEWHERE, session=FakeSession(), now=NOW)
    with pytest.raises(Forbidden):
        await matches.decide(ctx, stored["match"].id, Decision.rejected, None, None)
    assert (platform.outbox.events, platform.audit.entries) == ([], [])
    assert stored["match"].status == "candidate"


async def test_a_partner_disabled_by_the_sender_is_audited_like_by_an_administrator() -> None:
    ctx, platform = fake_context(settings(), session=FakeSession(), now=NOW)
    partner = Partner(code="20", status=PartnerStatus.enabled.value, version=3)
    await partners.disable(ctx, partner, "the endpoint answered 410 Gone")
    assert (partner.status, partner.disabled_at, partner.version) == ("disabled", NOW, 4)
    (entry,) = platform.audit.entries
    assert (entry["action"], entry["actor"], entry["record_id"]) == (
        "partner.disabled",
        "system",
        "20",
    )


async def test_a_published_report_without_subscribed_partners_alerts_no_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_partners(session: Any, alert_type: str) -> list[Partner]:
        return []

    monkeypatch.setattr(repository, "subscribed_partners", no_partners)
    ctx, platform = fake_context(settings(), session=FakeSession(), now=NOW)
    published = MissingPersonPublished(
        missing_person_id=uuid.uuid4(),
        full_name="Giàng Thị Dợ",
        sex="female",
        age=17,
        last_seen_at=NOW,
        last_seen_ward_code=WARD,
        province_code="01",
        published_at=NOW,
    )
    await missing_persons.missing_person_published(ctx, published)
    assert ctx.session.added == [] and platform.outbox.events == []


async def test_an_officer_without_a_jurisdiction_sends_no_alert() -> None:
    nowhere = Principal(sub="officer-3", roles=frozenset({"investigator"}), jurisdiction=())
    ctx, platform = fake_context(settings(), nowhere, session=FakeSession(), now=NOW)
    body = OutboundAlertIn.model_validate({"data": {"alert_type": "suspect_alert"}})
    with pytest.raises(Forbidden, match="no jurisdiction"):
        await alerts.send_alert(ctx, body)
    assert platform.outbox.events == []


async def test_a_webhook_for_a_code_that_is_no_province_is_401_without_a_lookup() -> None:
    ctx, platform = fake_context(settings(), now=NOW)  # no session: nothing may be looked up
    with pytest.raises(Unauthorized, match=r"^invalid webhook signature"):
        await webhooks.receive(ctx, "x'--", {}, b"{}")
    assert platform.outbox.events == []
