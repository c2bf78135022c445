"""Intake's use cases with a fake context: the repository is monkeypatched, the outbox and the
audit log record into lists, so each rule is checked without PostgreSQL or HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.common.auth import Principal
from libs.common.errors import Conflict, Forbidden, NotFound
from services.intake import kpis, missing_persons, receipts, repository, tips
from services.intake.models import MissingPerson, Tip
from services.intake.schemas import ClassificationIn, ReviewIn, VerificationIn
from services.intake.settings import IntakeSettings
from tests.fakes import FakePlatform, fake_context

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WARD = "00256"  # Phường Hai Bà Trưng, Hà Nội
OFFICER = Principal(sub="officer-7", roles=frozenset({"intake_officer"}), jurisdiction=("01",))
SUPERVISOR = Principal(sub="chief-1", roles=frozenset({"supervisor"}), jurisdiction=("01",))
ELSEWHERE = Principal(sub="officer-9", roles=frozenset({"intake_officer"}), jurisdiction=("79",))


class FakeSession:
    def __init__(self) -> None:
        self.added: list[Any] = []

    def add_all(self, rows: Any) -> None:
        self.added.extend(rows)

    async def flush(self) -> None:
        return None


def settings() -> IntakeSettings:
    return IntakeSettings(environment="test")


def context(principal: Principal | None) -> tuple[Any, FakePlatform, FakeSession]:
    session = FakeSession()
    ctx, platform = fake_context(settings(), principal, session=session, now=NOW)
    return ctx, platform, session


def a_tip(status: str = "received", ward: str | None = WARD) -> Tip:
    received = NOW - timedelta(days=2)
    return Tip(
        id=uuid.uuid4(),
        channel="hotline",
        status=status,
        description="Synthetic: a broker recruits girls for work.",
        incident_ward_code=ward,
        province_code=ward[:2] if ward else None,
        exploitation_types=["forced_labour"],
        anonymous=True,
        extensions=[],
        received_at=received,
        resolution_due_at=received + timedelta(days=20),
        updated_at=received,
        version=1,
    )


def stored(monkeypatch: pytest.MonkeyPatch, tip: Tip | None) -> None:
    async def get_tip(session: Any, tip_id: uuid.UUID, *, for_update: bool = False) -> Tip | None:
        return tip

    monkeypatch.setattr(repository, "get_tip", get_tip)


CLASSIFICATION = ClassificationIn.model_validate(
    {"trafficking_related": "yes", "priority": "high", "exploitation_types": ["forced_labour"]}
)


async def test_classifying_a_received_tip_triages_it_and_emits_the_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tip = a_tip()
    stored(monkeypatch, tip)
    ctx, platform, _ = context(OFFICER)
    summary = await tips.classify(ctx, tip.id, CLASSIFICATION, None)
    assert (summary.status, summary.priority, summary.version) == ("triaged", "high", 2)
    assert (tip.classified_by, tip.classified_at) == ("officer-7", NOW)
    assert platform.outbox.types() == ["vn.ctip.intake.tip.classified.v1"]


async def test_verifying_a_tip_before_classification_is_409_with_the_allowed_actions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored(monkeypatch, a_tip("received"))
    ctx, platform, _ = context(OFFICER)
    with pytest.raises(Conflict) as refused:
        await tips.verify(
            ctx, uuid.uuid4(), VerificationIn.model_validate({"outcome": "referred"}), None
        )
    assert refused.value.extra["allowed_actions"] == [
        "assign",
        "attach_file",
        "classify",
        "extend",
        "message_reporter",
        "reporter_message",
    ]
    assert platform.outbox.events == []


async def test_an_unsubstantiated_tip_is_closed_with_two_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tip = a_tip("triaged")
    stored(monkeypatch, tip)
    ctx, platform, _ = context(OFFICER)
    verification = VerificationIn.model_validate({"outcome": "unsubstantiated"})
    summary = await tips.verify(ctx, tip.id, verification, None)
    assert (summary.status, tip.resolved_at, tip.verified_by) == ("closed", NOW, "officer-7")
    assert platform.outbox.types() == [
        "vn.ctip.intake.tip.verified.v1",
        "vn.ctip.intake.tip.closed.v1",
    ]


async def test_a_tip_outside_the_jurisdiction_is_403_for_a_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored(monkeypatch, a_tip())
    ctx, platform, _ = context(ELSEWHERE)
    with pytest.raises(Forbidden):
        await tips.classify(ctx, uuid.uuid4(), CLASSIFICATION, None)
    assert platform.outbox.events == []


async def test_an_unlocated_tip_is_hidden_from_officers_outside_the_triage_province(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored(monkeypatch, a_tip(ward=None))
    ctx, platform, _ = context(ELSEWHERE)
    with pytest.raises(NotFound):
        await tips.read_tip(ctx, uuid.uuid4(), "case handling")
    assert platform.audit.entries == []


async def test_a_supervisor_reads_names_only_and_the_read_is_audited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tip = a_tip()
    stored(monkeypatch, tip)

    async def nothing(*args: Any) -> list[Any]:
        return []

    async def no_duplicates(*args: Any) -> dict[uuid.UUID, list[str]]:
        return {}

    for name in ("persons_of", "extensions_of", "messages_of"):
        monkeypatch.setattr(repository, name, nothing)
    monkeypatch.setattr(repository, "possible_duplicates", no_duplicates)
    ctx, platform, _ = context(SUPERVISOR)
    record = await tips.read_tip(ctx, tip.id, "monthly review")
    assert record.description is None
    (entry,) = platform.audit.entries
    assert (entry["actor"], entry["action"], entry["purpose"]) == (
        "chief-1",
        "read",
        "monthly review",
    )
    assert entry["details"]["view"] == "names_only"


async def test_a_reporter_cannot_write_to_a_closed_tip(monkeypatch: pytest.MonkeyPatch) -> None:
    tip = a_tip("closed")
    stored(monkeypatch, tip)

    async def receipt_by_hash(session: Any, code_hash: str) -> Any:
        return type("R", (), {"subject_kind": "tip", "subject_id": tip.id})()

    monkeypatch.setattr(repository, "receipt_by_hash", receipt_by_hash)
    ctx, _, session = context(None)
    with pytest.raises(Conflict):
        await receipts.add_reporter_message(ctx, "1234567890123456", "one more thing")
    assert session.added == []


def test_a_receipt_keeps_only_the_keyed_hash_of_its_code() -> None:
    ctx, _, _ = context(None)
    subject = uuid.uuid4()
    code, receipt = receipts.new_receipt(ctx, "tip", subject)
    assert len(code) == receipts.RECEIPT_DIGITS and code.isdigit()
    assert code not in receipt.code_hash
    assert receipt.code_hash == receipts.receipt_hash(ctx.index, code)
    assert (receipt.subject_kind, receipt.subject_id) == ("tip", subject)


async def test_publishing_a_missing_person_report_alerts_partners_and_is_audited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mp = MissingPerson(
        id=uuid.uuid4(),
        status="open",
        full_name="Lò Thị Mai",
        sex="female",
        age=16,
        birth_year=2010,
        last_seen_at=NOW - timedelta(days=3),
        last_seen_ward_code=WARD,
        province_code="01",
        reported_at=NOW - timedelta(days=1),
        publication="pending",
        version=1,
    )

    async def get_missing_person(session: Any, mp_id: uuid.UUID, **_: Any) -> MissingPerson:
        return mp

    async def match_counts(session: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        return {}

    monkeypatch.setattr(repository, "get_missing_person", get_missing_person)
    monkeypatch.setattr(repository, "match_counts", match_counts)
    ctx, platform, _ = context(OFFICER)
    summary = await missing_persons.review(
        ctx, mp.id, ReviewIn.model_validate({"decision": "publish"}), None
    )
    assert (summary.publication, summary.version, mp.reviewed_by) == ("published", 2, "officer-7")
    assert platform.outbox.types() == ["vn.ctip.intake.missing_person.published.v1"]
    assert [e["action"] for e in platform.audit.entries] == ["review.publish"]


async def test_figures_for_a_ward_outside_the_jurisdiction_are_403() -> None:
    ctx, _, _ = context(ELSEWHERE)
    with pytest.raises(Forbidden, match="outside your jurisdiction"):
        await kpis.intake_kpis(ctx, period_from=None, period_to=None, ward_code=WARD)
