"""victim_support's use cases with a fake context: the repository is monkeypatched, the outbox
and the audit log record what a use case wrote, so the rules are checked without PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from libs.common.auth import Principal
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.victim_support import care, kpis, links, repository
from services.victim_support.access import Ctx
from services.victim_support.domain import IdentificationOutcome, SupportType, VictimStatus
from services.victim_support.models import Victim, VictimEvent
from services.victim_support.schemas import (
    IdentificationIn,
    ProtectionIn,
    SupportIn,
    VictimLinkIn,
)
from services.victim_support.settings import VictimSupportSettings
from tests.fakes import FakePlatform, fake_context

WARD, PROVINCE = "00004", "01"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOCIAL_WORKER = Principal(sub="sw-1", roles=frozenset({"social_worker"}), jurisdiction=(PROVINCE,))
SUPERVISOR = Principal(sub="sup-1", roles=frozenset({"supervisor"}), jurisdiction=(PROVINCE,))
ELSEWHERE = Principal(sub="sw-9", roles=frozenset({"social_worker"}), jurisdiction=("79",))


class FakeSession:
    """What the use cases do to a session themselves: add rows and flush."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)

    def add_all(self, rows: Any) -> None:
        self.added.extend(rows)

    async def flush(self) -> None:
        return None


def victim(status: VictimStatus = VictimStatus.under_verification, **fields: Any) -> Victim:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "status": status.value,
        "source": "rescued",
        "ward_code": WARD,
        "province_code": PROVINCE,
        "received_at": NOW - timedelta(days=1),
        "verification_due_at": NOW + timedelta(days=2),
        "full_name": "Vi Thị Tám",
        "date_of_birth": "2001-05-04",
        "age": None,
        "sex": "female",
        "phone": None,
        "id_number": None,
        "hometown_ward_code": None,
        "nationality": "VN",
        "is_minor": False,
        "needs": [],
        "exploitation_types": [],
        "case_ids": [],
        "notes": None,
        "identification_outcome": None,
        "deciding_agency": None,
        "document_ref": None,
        "identified_at": None,
        "first_protected_at": None,
        "first_supported_at": None,
        "closed_at": None,
        "version": 3,
    }
    values.update(fields)
    return Victim(**values)


def context(principal: Principal | None = SOCIAL_WORKER) -> tuple[Ctx, FakePlatform, FakeSession]:
    session = FakeSession()
    ctx, platform = fake_context(
        VictimSupportSettings(environment="test"), principal, session=session, now=NOW
    )
    return ctx, platform, session


@pytest.fixture
def person(monkeypatch: pytest.MonkeyPatch) -> Victim:
    """One person in the repository, whatever id is asked for."""
    found = victim()

    async def get_victim(session: Any, victim_id: uuid.UUID, **_: Any) -> Victim | None:
        return found if victim_id == found.id else None

    monkeypatch.setattr(repository, "get_victim", get_victim)
    return found


async def test_identification_moves_the_person_to_its_outcome_with_its_event(
    person: Victim,
) -> None:
    ctx, platform, session = context()
    body = IdentificationIn(
        outcome=IdentificationOutcome.identified,
        deciding_agency="Phòng LĐTBXH",
        document_ref="QD-1",
        needs=[SupportType.medical],
    )
    out = await care.identify(ctx, person.id, body, '"3"')
    assert (out.status, out.version, person.needs) == ("identified", 4, ["medical"])
    assert platform.outbox.types() == ["vn.ctip.victim_support.victim.identified.v1"]
    (entry,) = [row for row in session.added if isinstance(row, VictimEvent)]
    assert (entry.action, entry.from_status, entry.to_status, entry.by) == (
        "identify",
        "under_verification",
        "identified",
        "sw-1",
    )
    assert entry.details == {"outcome": "identified", "within_deadline": True}
    assert platform.deadlines.calls == [("settle", "victim", person.id)]


async def test_protecting_a_presumed_victim_leaves_the_verification_watched(
    person: Victim,
) -> None:
    ctx, platform, _ = context()
    platform.deadlines.watched[("victim", person.id, "verification")] = (NOW, None)
    await care.protect(ctx, person.id, ProtectionIn(measures=["safe_shelter"]), None)
    assert platform.deadlines.calls == []
    assert ("victim", person.id, "verification") in platform.deadlines.watched


async def test_a_closed_file_refuses_protection_naming_what_it_allows(person: Victim) -> None:
    person.status = VictimStatus.closed.value
    ctx, platform, _ = context()
    with pytest.raises(Conflict) as refused:
        await care.protect(ctx, person.id, ProtectionIn(measures=["safe_shelter"]), None)
    assert refused.value.extra["allowed_actions"] == ["consent"]
    assert platform.outbox.events == []


async def test_a_person_outside_the_jurisdiction_is_not_acted_on(person: Victim) -> None:
    ctx, platform, _ = context(ELSEWHERE)
    with pytest.raises(Forbidden):
        await care.protect(ctx, person.id, ProtectionIn(measures=["safe_shelter"]), None)
    with pytest.raises(NotFound):
        await care.read_victim(ctx, person.id, "victim support")
    assert platform.audit.entries == []


async def test_a_support_the_law_does_not_entitle_is_refused_naming_the_rule(
    person: Victim,
) -> None:
    ctx, platform, _ = context()
    body = SupportIn(
        type=SupportType.loan, amount_vnd=1, provided_on=date(2026, 3, 1), provider_org="so-ld"
    )
    with pytest.raises(Unprocessable) as refused:
        await care.record_support(ctx, person.id, body, None)
    assert refused.value.extra["rule"] == "presumed_victim"
    assert platform.outbox.events == []


@pytest.fixture
def empty_record(monkeypatch: pytest.MonkeyPatch) -> None:
    async def nothing(session: Any, victim_id: uuid.UUID) -> list[Any]:
        return []

    for name in (
        "protection_of",
        "supports_of",
        "consents_in_force",
        "reintegration_of",
        "timeline_of",
    ):
        monkeypatch.setattr(repository, name, nothing)


@pytest.mark.usefixtures("empty_record")
async def test_a_social_worker_s_read_is_audited_with_its_purpose(person: Victim) -> None:
    ctx, platform, _ = context()
    read = await care.read_victim(ctx, person.id, "home visit")
    assert read.person is not None and read.person.full_name == "Vi Thị Tám"
    assert read.person.date_of_birth == date(2001, 5, 4)
    (entry,) = platform.audit.entries
    assert (entry["actor"], entry["action"], entry["record_id"], entry["purpose"]) == (
        "sw-1",
        "read",
        str(person.id),
        "home visit",
    )


@pytest.mark.usefixtures("empty_record")
async def test_a_supervisor_reads_statuses_without_the_person_and_unaudited(
    person: Victim,
) -> None:
    ctx, platform, _ = context(SUPERVISOR)
    read = await care.read_victim(ctx, person.id, "figures")
    assert read.person is None
    assert platform.audit.entries == []


async def test_a_link_is_proposed_only_from_a_record_in_one_s_jurisdiction(
    person: Victim,
) -> None:
    ctx, platform, _ = context(ELSEWHERE)
    with pytest.raises(Forbidden):
        await links.propose(ctx, person.id, VictimLinkIn(other_victim_id=uuid.uuid4()), "link")
    assert platform.audit.entries == [] and platform.outbox.events == []


async def test_figures_for_a_ward_outside_the_jurisdiction_are_refused() -> None:
    ctx, _, _ = context(SUPERVISOR)
    with pytest.raises(Forbidden):
        await kpis.victim_kpis(ctx, period_from=None, period_to=None, ward_code="26734")
