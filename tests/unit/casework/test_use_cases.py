"""Casework's use cases with a fake context: the repository is monkeypatched, the outbox and the
audit log record into lists, so the rules of a step are checked without PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from libs.common.auth import Principal
from libs.common.errors import Conflict, Forbidden, NotFound
from libs.common.jurisdiction import province_of, wards_of
from services.casework import cases, graph, parties, repository
from services.casework.models import Case, CaseEvent, Party
from services.casework.schemas import (
    CaseCreate,
    GraphEdge,
    GraphNode,
    PartyIn,
    RingGraph,
    TransitionIn,
)
from services.casework.settings import CaseworkSettings
from tests.fakes import FakePlatform, fake_context

HANOI, HCMC = wards_of("01")[0], wards_of("79")[0]
NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
STEP: TypeAdapter[TransitionIn] = TypeAdapter(TransitionIn)


def officer(*roles: str, where: str = "01") -> Principal:
    return Principal(sub=f"{roles[0]}-1", roles=frozenset(roles), jurisdiction=(where,))


class FakeSession:
    """What the use cases do to a session besides the repository: add rows and flush."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)

    def add_all(self, rows: Any) -> None:
        self.added.extend(rows)

    async def flush(self) -> None:
        return None


def a_case(status: str = "open", ward_code: str = HANOI, **facts: Any) -> Case:
    return Case(
        id=uuid.uuid4(),
        tip_id=None,
        title="Vụ án mua bán người",
        summary=None,
        status=status,
        ward_code=ward_code,
        province_code=province_of(ward_code),
        exploitation_types=["sexual"],
        destination_country=None,
        opened_at=NOW,
        opened_by="investigator-1",
        stage_entered_at=NOW,
        stage_due_at=None,
        defendants=[],
        sentences=[],
        version=3,
        updated_at=NOW,
        **facts,
    )


def context(principal: Principal | None) -> tuple[Any, FakePlatform, FakeSession]:
    session = FakeSession()
    ctx, platform = fake_context(
        CaseworkSettings(environment="test"), principal, session=session, now=NOW
    )
    return ctx, platform, session


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The repository replaced by one case and its parties."""
    held: dict[str, Any] = {"case": None, "parties": []}

    async def get_case(session: Any, case_id: uuid.UUID, *, for_update: bool = False) -> Any:
        case = held["case"]
        return case if case is not None and case.id == case_id else None

    async def parties_of(session: Any, case_id: uuid.UUID) -> list[Party]:
        return list(held["parties"])

    async def save(session: Any, *rows: Any) -> None:
        session.add_all(rows)

    monkeypatch.setattr(repository, "get_case", get_case)
    monkeypatch.setattr(repository, "parties_of", parties_of)
    monkeypatch.setattr(repository, "save", save)
    return held


async def test_initiating_a_case_moves_it_on_with_its_timeline_entry_and_event(
    stored: dict[str, Any],
) -> None:
    stored["case"] = case = a_case()
    ctx, platform, session = context(officer("investigator"))
    body = {
        "action": "initiate",
        "decision_number": "01/QĐ-CSĐT",
        "decided_on": "2026-11-01",
        "penal_code_article": 150,
    }
    step = STEP.validate_python(body)

    done = await cases.transition(ctx, case.id, step, '"3"')

    assert (done.status, done.version, done.penal_code_article) == ("investigating", 4, 150)
    assert case.initiated_at == NOW and case.stage_due_at == datetime(2027, 3, 2, 8, tzinfo=UTC)
    (entry,) = [r for r in session.added if isinstance(r, CaseEvent)]
    assert (entry.action, entry.from_status, entry.to_status, entry.by) == (
        "initiate",
        "open",
        "investigating",
        "investigator-1",
    )
    assert platform.outbox.types() == ["vn.ctip.casework.case.initiated.v1"]
    assert platform.deadlines.watched == {("case", case.id, "stage"): (case.stage_due_at, None)}


@pytest.mark.parametrize(
    ("status", "body", "watched"),
    [
        ("investigating", {"action": "suspend", "decision_number": "1/QĐ", "reason": "absconded"},
         False),
        ("suspended", {"action": "resume", "decision_number": "2/QĐ"}, True),
        ("trial_scheduled", {"action": "record_verdict", "outcome": "acquitted",
                             "verdict_number": "3/HS-ST", "decided_on": "2026-11-01"}, False),
        ("adjudicated", {"action": "close"}, False),
        ("open", {"action": "decline", "legal_ground": "CPC Art. 157(1)"}, False),
    ],
)  # fmt: skip
async def test_a_stage_without_a_deadline_settles_the_watch_and_one_with_a_deadline_arms_it(
    stored: dict[str, Any], status: str, body: dict[str, Any], watched: bool
) -> None:
    stored["case"] = case = a_case(status)
    case.stage_due_at = NOW
    roles = {"record_verdict": "court_clerk", "close": "court_clerk"}
    ctx, platform, _ = context(officer(roles.get(body["action"], "investigator")))
    platform.deadlines.watched[("case", case.id, "stage")] = (NOW, "investigator-7")

    await cases.transition(ctx, case.id, STEP.validate_python(body), None)

    if watched:  # a new deadline, the thresholds afresh; the assignee kept
        assert case.stage_due_at == datetime(2027, 3, 2, 8, tzinfo=UTC)
        expected = {("case", case.id, "stage"): (case.stage_due_at, "investigator-7")}
        assert platform.deadlines.watched == expected
    else:
        assert platform.deadlines.watched == {}


async def test_a_step_the_status_does_not_allow_is_a_409_with_the_allowed_ones(
    stored: dict[str, Any],
) -> None:
    stored["case"] = case = a_case("closed")
    ctx, platform, _ = context(officer("investigator"))
    step = STEP.validate_python({"action": "close"})

    with pytest.raises(Conflict) as refused:
        await cases.transition(ctx, case.id, step, None)

    assert refused.value.extra["allowed_actions"] == []
    assert platform.outbox.events == []


async def test_another_roles_step_is_a_403(stored: dict[str, Any]) -> None:
    stored["case"] = case = a_case("investigating")
    ctx, _, _ = context(officer("investigator"))
    step = STEP.validate_python(
        {
            "action": "indict",
            "indictment_number": "12/CT-VKS",
            "indicted_on": "2026-11-01",
            "defendants": [{"party_id": str(uuid.uuid4()), "charge_article": 150}],
        }
    )
    with pytest.raises(Forbidden, match="indict is for: prosecutor"):
        await cases.transition(ctx, case.id, step, None)


async def test_a_case_elsewhere_reads_as_missing_and_refuses_a_step(stored: dict[str, Any]) -> None:
    stored["case"] = case = a_case(ward_code=HCMC)
    ctx, _, _ = context(officer("investigator"))
    with pytest.raises(NotFound):
        await cases.case_for_read(ctx, case.id)
    with pytest.raises(Forbidden, match="outside your jurisdiction"):
        await cases.case_for_action(ctx, case.id, None)


async def test_a_closed_case_takes_no_new_party(stored: dict[str, Any]) -> None:
    stored["case"] = case = a_case("closed")
    ctx, platform, session = context(officer("investigator"))
    with pytest.raises(Conflict, match="the case is closed"):
        await cases.add_person(ctx, case.id, PartyIn(role="victim", full_name="Lò Thị Mẩy"), None)
    assert (session.added, platform.outbox.events, case.version) == ([], [], 3)


async def test_a_victim_added_is_sent_to_victim_support_and_the_case_moves_on(
    stored: dict[str, Any],
) -> None:
    stored["case"] = case = a_case()
    ctx, platform, session = context(officer("investigator"))
    victim = PartyIn(
        role="victim", full_name="Lò Thị Mẩy", date_of_birth=date(2012, 5, 1), phone="0912345678"
    )

    out = await cases.add_person(ctx, case.id, victim, None)

    assert (out.full_name, out.phone, out.date_of_birth) == (
        "Lò Thị Mẩy",
        "+84912345678",
        date(2012, 5, 1),
    )
    assert case.version == 4
    (event,) = platform.outbox.events
    assert event.type == "vn.ctip.casework.case.victim_linked.v1"
    assert event.data["is_minor"] is True
    assert {r.kind for r in session.added if not isinstance(r, Party)} == {"phone"}


async def test_a_case_outside_the_callers_jurisdiction_is_not_opened() -> None:
    ctx, platform, _ = context(officer("investigator"))
    with pytest.raises(Forbidden, match="that ward is outside your jurisdiction"):
        await cases.open_case(ctx, CaseCreate(title="Vụ án", ward_code=HCMC))
    assert platform.outbox.events == []


def test_a_supervisor_sees_a_partys_name_only() -> None:
    party = Party(
        id=uuid.uuid4(),
        role="victim",
        full_name="Lò Thị Mẩy",
        date_of_birth="2012-05-01",
        age=None,
        phone="+84912345678",
    )
    assert parties.party_out(party, names_only=True).phone is None
    assert parties.party_out(party, names_only=False).date_of_birth == date(2012, 5, 1)


def test_parties_sharing_an_id_number_are_one_person_but_a_shared_phone_is_not_enough() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    identity = graph.person_identities(
        {a: {"id_number": "x", "phone": "p"}, b: {"id_number": "x"}, c: {"phone": "p"}}
    )
    assert identity[a] == identity[b] != identity[c]


def test_the_svg_escapes_labels() -> None:
    drawn = graph.render_svg(
        RingGraph(
            ring_id=uuid.uuid4(),
            nodes=[
                GraphNode(id="case:1", kind="case", label="<script>"),
                GraphNode(id="place:1", kind="place", label="Ba Đình"),
            ],
            edges=[GraphEdge(source="case:1", target="place:1", kind="occurred_in")],
        )
    )
    assert "<script>" not in drawn and "&lt;script&gt;" in drawn
