"""Case use cases: open (directly or from a substantiated tip), read, list, transitions.

Each state change, its timeline entry and its event are written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.crypto import BlindIndex
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.platform import platform_of
from libs.common.statemachine import RuleViolation
from libs.contracts.casework import CaseOpened, CaseStatusChanged
from libs.contracts.intake import TipVerified
from services.casework import domain, parties, repository
from services.casework.models import Case, CaseEvent, metadata
from services.casework.schemas import (
    CaseCreate,
    CaseRead,
    CaseSummary,
    Close,
    Decline,
    Indict,
    Initiate,
    PartyIn,
    RecordVerdict,
    ReopenInvestigation,
    Resume,
    ScheduleTrial,
    Suspend,
    TimelineEntry,
    TransitionIn,
)

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

READERS = (Role.investigator, Role.prosecutor, Role.court_clerk)


@dataclass(frozen=True)
class Actor:
    principal: Principal | None
    index: BlindIndex
    now: datetime
    rules: domain.StageRules

    @property
    def sub(self) -> str:
        return self.principal.sub if self.principal else "system"


def now_utc() -> datetime:
    return datetime.now(UTC)


def summary(case: Case, now: datetime) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        title=case.title,
        status=case.status,
        tip_id=case.tip_id,
        ward_code=case.ward_code,
        opened_at=case.opened_at,
        stage_due_at=case.stage_due_at,
        overdue=case.status != "closed" and domain.is_overdue(case.stage_due_at, now),
        penal_code_article=case.penal_code_article,
        trial_type=case.trial_type,
        version=case.version,
    )


def _timeline(
    session: AsyncSession,
    case: Case,
    action: str,
    before: str | None,
    actor: Actor,
    details: dict[str, Any],
) -> None:
    session.add(
        CaseEvent.step(
            action=action,
            before=before,
            after=case.status,
            at=actor.now,
            by=actor.sub,
            details=details,
            case_id=case.id,
        )
    )


async def _opened(session: AsyncSession, case: Case, actor: Actor) -> None:
    _timeline(
        session, case, "open", None, actor, {"tip_id": str(case.tip_id) if case.tip_id else None}
    )
    await platform.outbox.add(
        session,
        "casework.case.opened",
        case.id,
        CaseOpened(
            case_id=case.id,
            tip_id=case.tip_id,
            status=case.status,
            ward_code=case.ward_code,
            province_code=case.province_code,
            exploitation_types=case.exploitation_types,
            opened_at=case.opened_at,
        ),
    )


def _new_case(
    *,
    title: str,
    summary_text: str | None,
    ward_code: str,
    tip_id: UUID | None,
    exploitation_types: list[str],
    destination_country: str | None,
    actor: Actor,
) -> Case:
    province = province_of(ward_code)
    assert province is not None
    return Case(
        id=new_id(),
        tip_id=tip_id,
        title=title,
        summary=summary_text,
        status=domain.CaseStatus.open.value,
        ward_code=ward_code,
        province_code=province,
        exploitation_types=sorted(set(exploitation_types)),
        destination_country=destination_country,
        opened_at=actor.now,
        opened_by=actor.sub,
        stage_entered_at=actor.now,
        stage_due_at=None,
        defendants=[],
        sentences=[],
        version=1,
        updated_at=actor.now,
    )


async def open_case(session: AsyncSession, actor: Actor, data: CaseCreate) -> CaseSummary:
    assert actor.principal is not None
    if not actor.principal.covers(data.ward_code):
        raise Forbidden("that ward is outside your jurisdiction")
    if data.tip_id is not None:
        await _check_tip_of_new_case(session, actor.principal, data)
    case = _new_case(
        title=data.title,
        summary_text=data.summary,
        ward_code=data.ward_code,
        tip_id=data.tip_id,
        exploitation_types=[t.value for t in data.exploitation_types],
        destination_country=None,
        actor=actor,
    )
    if not await _insert_once(session, case):
        raise Conflict("a case was already opened for this tip")
    opened = await repository.get_case(session, case.id)
    assert opened is not None
    await _opened(session, opened, actor)
    return summary(opened, actor.now)


async def _check_tip_of_new_case(
    session: AsyncSession, principal: Principal, data: CaseCreate
) -> None:
    """A case opened by hand may name only a tip casework knows (its read model of intake's tips)
    in the caller's jurisdiction, in the tip's own ward. Otherwise an investigator could squat
    any tip id, even another province's or one not filed yet, so that its case never opens when
    the tip is substantiated. Unknown and out-of-jurisdiction tips get the same answer, so that
    the refusal says nothing about tips elsewhere."""
    assert data.tip_id is not None
    tip = await repository.tip_ref(session, data.tip_id)
    place = None if tip is None else tip.incident_ward_code or tip.province_code
    if tip is None or place is None or not principal.covers(place):
        unknown = "no tip known to casework in your jurisdiction"
        raise Unprocessable(
            f"tip_id names {unknown}", errors=[{"field": "tip_id", "message": unknown}]
        )
    if tip.incident_ward_code is not None and tip.incident_ward_code != data.ward_code:
        raise Unprocessable(
            "a case opened for a tip is in the tip's ward",
            errors=[{"field": "ward_code", "message": "must be the ward of the tip"}],
        )


async def _insert_once(session: AsyncSession, case: Case) -> bool:
    """Insert the case unless its tip already has one (``tip_id`` is unique): concurrent
    openings of one tip give one case, never an integrity error."""
    values = {c.key: getattr(case, c.key) for c in Case.__table__.columns if c.key != "updated_at"}
    inserted = await session.execute(
        insert(Case)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Case.tip_id])
        .returning(Case.id)
    )
    return inserted.first() is not None


async def open_from_tip(session: AsyncSession, tip: TipVerified, actor: Actor) -> Case | None:
    """Open the case of a substantiated tip, exactly once (``tip_id`` is unique)."""
    if tip.outcome != "substantiated" or tip.incident_ward_code is None:
        return None
    case = _new_case(
        title=f"Tin báo {str(tip.tip_id)[:8]} — {tip.received_at.date().isoformat()}",
        summary_text=None,
        ward_code=tip.incident_ward_code,
        tip_id=tip.tip_id,
        exploitation_types=tip.exploitation_types,
        destination_country=tip.destination_country,
        actor=actor,
    )
    if not await _insert_once(session, case):
        return None
    opened = await repository.get_case(session, case.id)
    assert opened is not None
    case = opened
    await _opened(session, case, actor)
    for person in tip.persons:
        if not any((person.full_name, person.phone, person.id_number)):
            continue
        await parties.add_party(
            session,
            case,
            PartyIn.model_validate(
                {k: v for k, v in person.model_dump(mode="json").items() if v is not None}
            ),
            actor,
        )
    return case


async def case_for_read(session: AsyncSession, principal: Principal, case_id: UUID) -> Case:
    case = await repository.get_case(session, case_id)
    if case is None or not principal.covers(case.ward_code):
        raise NotFound("no such case")
    return case


async def case_for_action(
    session: AsyncSession, principal: Principal, case_id: UUID, if_match: str | None
) -> Case:
    case = await repository.get_case(session, case_id, for_update=True)
    if case is None:
        raise NotFound("no such case")
    if not principal.covers(case.ward_code):
        raise Forbidden("this case is outside your jurisdiction")
    check_if_match(if_match, case.version)
    return case


def facts(case: Case) -> dict[str, Any]:
    """The legal facts recorded so far (decisions, indictment, trial, verdict)."""
    return {
        "penal_code_article": case.penal_code_article,
        "initiation_decision": case.initiation_decision,
        "initiated_on": case.initiated_on.isoformat() if case.initiated_on else None,
        "indictment_number": case.indictment_number,
        "defendants": case.defendants,
        "trial_type": case.trial_type,
        "trial_scheduled_for": case.trial_scheduled_for.isoformat()
        if case.trial_scheduled_for
        else None,
        "trial_venue": case.trial_venue,
        "verdict_outcome": case.verdict_outcome,
        "verdict_number": case.verdict_number,
        "sentences": case.sentences,
    }


async def read_case(session: AsyncSession, actor: Actor, case_id: UUID, purpose: str) -> CaseRead:
    assert actor.principal is not None
    principal = actor.principal
    case = await case_for_read(session, principal, case_id)
    names_only = not principal.has_role(*READERS)
    rows = await repository.parties_of(session, case.id)
    if rows:
        await platform.audit.record(
            session,
            actor=principal,
            action="read",
            record_type="case.parties",
            record_id=str(case.id),
            purpose=purpose,
            details={"view": "names_only" if names_only else "full", "parties": len(rows)},
        )
    timeline = await repository.timeline_of(session, case.id)
    return CaseRead(
        **summary(case, actor.now).model_dump(),
        summary=None if names_only else case.summary,
        exploitation_types=case.exploitation_types,
        allowed_actions=domain.CASES.allowed(domain.CaseStatus(case.status)),
        facts=facts(case),
        persons=[parties.party_out(p, names_only=names_only) for p in rows],
        timeline=[TimelineEntry.model_validate(e) for e in timeline],
    )


async def _apply_facts(
    session: AsyncSession, case: Case, body: TransitionIn, actor: Actor
) -> dict[str, Any]:
    """Validate the legal facts of the step against the case; record them; return them."""
    try:
        if isinstance(body, Initiate):
            ages = await parties.victim_ages(session, case.id, body.decided_on)
            domain.check_article(body.penal_code_article, ages)
            case.penal_code_article = body.penal_code_article
            case.initiation_decision = body.decision_number
            case.initiated_on = body.decided_on
            case.initiated_at = actor.now
            return body.model_dump(mode="json", exclude={"action"})
        if isinstance(body, Indict):
            suspects = await parties.suspect_ids(session, case.id)
            unknown = [str(d.party_id) for d in body.defendants if d.party_id not in suspects]
            if unknown:
                raise Unprocessable(
                    "defendants must be suspects of this case",
                    errors=[
                        {"field": "defendants", "message": f"not a suspect: {', '.join(unknown)}"}
                    ],
                )
            case.indictment_number = body.indictment_number
            case.defendants = [d.model_dump(mode="json") for d in body.defendants]
            case.indicted_at = actor.now
            return body.model_dump(mode="json", exclude={"action"})
        if isinstance(body, ScheduleTrial):
            case.trial_type = body.trial_type.value
            case.trial_scheduled_for = body.scheduled_for
            case.trial_venue = body.venue
            return body.model_dump(mode="json", exclude={"action"})
        if isinstance(body, RecordVerdict):
            defendants = {str(d["party_id"]) for d in case.defendants}
            domain.check_verdict(
                body.outcome, {str(s.party_id) for s in body.sentences}, defendants
            )
            case.verdict_outcome = body.outcome.value
            case.verdict_number = body.verdict_number
            case.sentences = [s.model_dump(mode="json") for s in body.sentences]
            case.adjudicated_at = actor.now
            return body.model_dump(mode="json", exclude={"action"})
        if isinstance(body, ReopenInvestigation):
            domain.check_reopen(case.verdict_outcome)
            return body.model_dump(mode="json", exclude={"action"})
        if isinstance(body, Close):
            case.closed_at = actor.now
            return body.model_dump(mode="json", exclude={"action"})
        if isinstance(body, Decline):
            case.closed_at = actor.now
            return body.model_dump(mode="json", exclude={"action"})
        assert isinstance(body, Suspend | Resume)
        return body.model_dump(mode="json", exclude={"action"})
    except RuleViolation as exc:
        raise Unprocessable(
            exc.reason, errors=[{"field": body.action, "message": exc.reason}]
        ) from exc


async def transition(
    session: AsyncSession, actor: Actor, case_id: UUID, body: TransitionIn, if_match: str | None
) -> CaseSummary:
    assert actor.principal is not None
    case = await case_for_action(session, actor.principal, case_id, if_match)
    before = domain.CaseStatus(case.status)
    step = domain.CASES.take(before, domain.CaseAction(body.action), actor.principal.roles)
    details = await _apply_facts(session, case, body, actor)
    case.status = step.to.value
    case.stage_entered_at = actor.now
    case.stage_due_at = domain.stage_due_at(
        step.to, actor.now, actor.rules, case.trial_scheduled_for
    )
    case.version += 1
    case.updated_at = actor.now
    _timeline(session, case, body.action, before.value, actor, details)
    await session.flush()
    await platform.outbox.add(
        session,
        f"casework.case.{step.event}",
        case.id,
        CaseStatusChanged(
            case_id=case.id,
            tip_id=case.tip_id,
            action=body.action,
            from_status=before.value,
            to_status=case.status,
            ward_code=case.ward_code,
            province_code=case.province_code,
            at=actor.now,
            facts=details,
        ),
    )
    return summary(case, actor.now)
