"""Case use cases: open (by hand or from a substantiated tip), read, list, the procedure's steps
and parties added; a change, its timeline entry and its event share one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.open_clocks import DeadlineWindow, in_window
from libs.common.statemachine import RuleViolation
from libs.common.validation import field_error
from libs.contracts.casework import CaseOpened, CaseStatusChanged
from libs.contracts.intake import TipVerified
from services.casework import access, domain, parties, repository, stage_watch
from services.casework.access import Ctx
from services.casework.models import Case, CaseEvent
from services.casework.schemas import (
    CaseCreate,
    CaseRead,
    CaseSummary,
    Close,
    Decline,
    Indict,
    Initiate,
    PartyIn,
    PartyOut,
    RecordVerdict,
    RelatedCase,
    ReopenInvestigation,
    Resume,
    ScheduleTrial,
    Suspend,
    TimelineEntry,
    TransitionIn,
)


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
        assignee=case.assignee,
        version=case.version,
    )


def _timeline(
    ctx: Ctx, case: Case, action: str, before: str | None, details: dict[str, Any]
) -> None:
    ctx.session.add(
        CaseEvent.step(
            action=action,
            before=before,
            after=case.status,
            at=ctx.now,
            by=ctx.sub,
            details=details,
            case_id=case.id,
        )
    )


def _new_case(
    ctx: Ctx,
    *,
    title: str,
    summary_text: str | None,
    ward_code: str,
    tip_id: UUID | None,
    exploitation_types: list[str],
    destination_country: str | None,
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
        opened_at=ctx.now,
        opened_by=ctx.sub,
        stage_entered_at=ctx.now,
        stage_due_at=None,
        defendants=[],
        sentences=[],
        version=1,
        updated_at=ctx.now,
    )


async def _open(ctx: Ctx, case: Case) -> Case | None:
    """The case inserted with its timeline entry and event; None if its tip already has one."""
    if not await repository.insert_case_once(ctx.session, case):
        return None
    opened = await repository.get_case(ctx.session, case.id)
    assert opened is not None
    _timeline(ctx, opened, "open", None, {"tip_id": str(case.tip_id) if case.tip_id else None})
    await stage_watch.watch(ctx, opened)
    await ctx.emit(
        "casework.case.opened",
        opened.id,
        CaseOpened(
            case_id=opened.id,
            tip_id=opened.tip_id,
            status=opened.status,
            ward_code=opened.ward_code,
            province_code=opened.province_code,
            exploitation_types=opened.exploitation_types,
            opened_at=opened.opened_at,
        ),
    )
    return opened


async def open_case(ctx: Ctx, data: CaseCreate) -> CaseSummary:
    principal = ctx.require_principal()
    access.ensure_covers(principal, data.ward_code)
    if data.tip_id is not None:
        await _check_tip_of_new_case(ctx, principal, data)
    case = _new_case(
        ctx,
        title=data.title,
        summary_text=data.summary,
        ward_code=data.ward_code,
        tip_id=data.tip_id,
        exploitation_types=[t.value for t in data.exploitation_types],
        destination_country=None,
    )
    opened = await _open(ctx, case)
    if opened is None:
        raise Conflict("a case was already opened for this tip")
    return summary(opened, ctx.now)


async def _check_tip_of_new_case(ctx: Ctx, principal: Principal, data: CaseCreate) -> None:
    """Only a tip casework knows, in the caller's jurisdiction and ward, so that nobody can squat
    another tip's case; unknown and out-of-jurisdiction tips get the same answer."""
    assert data.tip_id is not None
    tip = await repository.tip_ref(ctx.session, data.tip_id)
    place = None if tip is None else tip.incident_ward_code or tip.province_code
    if tip is None or place is None or not principal.covers(place):
        unknown = "no tip known to casework in your jurisdiction"
        raise Unprocessable(
            f"tip_id names {unknown}", errors=[field_error("tip_id", unknown, "tip_id.unknown")]
        )
    if tip.incident_ward_code is not None and tip.incident_ward_code != data.ward_code:
        raise Unprocessable(
            "a case opened for a tip is in the tip's ward",
            errors=[
                field_error("ward_code", "must be the ward of the tip", "ward_code.not_the_tips")
            ],
        )


async def open_from_tip(ctx: Ctx, tip: TipVerified) -> Case | None:
    """Open the case of a substantiated tip, exactly once (``tip_id`` is unique)."""
    if tip.outcome != "substantiated" or tip.incident_ward_code is None:
        return None
    case = await _open(
        ctx,
        _new_case(
            ctx,
            title=f"Tin báo {str(tip.tip_id)[:8]} — {tip.received_at.date().isoformat()}",
            summary_text=None,
            ward_code=tip.incident_ward_code,
            tip_id=tip.tip_id,
            exploitation_types=tip.exploitation_types,
            destination_country=tip.destination_country,
        ),
    )
    if case is None:
        return None
    for person in tip.persons:
        if not any((person.full_name, person.phone, person.id_number)):
            continue
        await parties.add_party(
            ctx,
            case,
            PartyIn.model_validate(
                {k: v for k, v in person.model_dump(mode="json").items() if v is not None}
            ),
        )
    return case


async def case_for_read(ctx: Ctx, case_id: UUID) -> Case:
    case = await repository.get_case(ctx.session, case_id)
    return access.readable(ctx.require_principal(), case)


async def case_for_action(ctx: Ctx, case_id: UUID, if_match: str | None) -> Case:
    case = await repository.get_case(ctx.session, case_id, for_update=True)
    case = access.writable(ctx.require_principal(), case)
    check_if_match(if_match, case.version)
    return case


async def list_cases(
    ctx: Ctx,
    *,
    status: str | None,
    tip_id: UUID | None,
    ward_code: str | None,
    overdue: bool | None,
    assignee: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    deadline: DeadlineWindow | None = None,
) -> Sequence[Case]:
    """``assignee``: an officer's ``sub``, or ``me`` for the caller's own cases; ``deadline``:
    the cases whose stage clock is due soon or missed, as the figures count them."""
    return await repository.list_cases(
        ctx.session,
        scope=repository.case_scope(ctx.require_principal()),
        status=status,
        tip_id=tip_id,
        ward_code=ward_code,
        overdue=overdue,
        assignee=ctx.sub if assignee == "me" else assignee,
        now=ctx.now,
        after=after,
        limit=limit,
        clocks=in_window(ctx, deadline, record_type=domain.WATCHED_RECORD, kind=domain.STAGE_CLOCK),
    )


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


async def read_case(ctx: Ctx, case_id: UUID, purpose: str) -> CaseRead:
    case = await case_for_read(ctx, case_id)
    names_only = access.names_only(ctx.require_principal())
    rows = await repository.parties_of(ctx.session, case.id)
    if rows:
        await ctx.record(
            "read",
            "case.parties",
            case.id,
            purpose,
            {"view": "names_only" if names_only else "full", "parties": len(rows)},
        )
    timeline = await repository.timeline_of(ctx.session, case.id)
    return CaseRead(
        **summary(case, ctx.now).model_dump(),
        summary=None if names_only else case.summary,
        exploitation_types=case.exploitation_types,
        allowed_actions=domain.CASES.allowed(domain.CaseStatus(case.status)),
        facts=facts(case),
        persons=[parties.party_out(p, names_only=names_only) for p in rows],
        timeline=[TimelineEntry.model_validate(e) for e in timeline],
    )


async def _apply_facts(ctx: Ctx, case: Case, body: TransitionIn) -> dict[str, Any]:
    """Validate the legal facts of the step against the case; record them; return them."""
    try:
        if isinstance(body, Initiate):
            ages = await parties.victim_ages(ctx, case.id, body.decided_on)
            domain.check_article(body.penal_code_article, ages)
            case.penal_code_article = body.penal_code_article
            case.initiation_decision = body.decision_number
            case.initiated_on = body.decided_on
            case.initiated_at = ctx.now
        elif isinstance(body, Indict):
            suspects = await parties.suspect_ids(ctx, case.id)
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
            case.indicted_at = ctx.now
        elif isinstance(body, ScheduleTrial):
            case.trial_type = body.trial_type.value
            case.trial_scheduled_for = body.scheduled_for
            case.trial_venue = body.venue
        elif isinstance(body, RecordVerdict):
            defendants = {str(d["party_id"]) for d in case.defendants}
            domain.check_verdict(
                body.outcome, {str(s.party_id) for s in body.sentences}, defendants
            )
            case.verdict_outcome = body.outcome.value
            case.verdict_number = body.verdict_number
            case.sentences = [s.model_dump(mode="json") for s in body.sentences]
            case.adjudicated_at = ctx.now
        elif isinstance(body, ReopenInvestigation):
            domain.check_reopen(case.verdict_outcome)
        elif isinstance(body, Close | Decline):
            case.closed_at = ctx.now
        else:
            assert isinstance(body, Suspend | Resume)
    except RuleViolation as exc:
        raise Unprocessable(
            exc.reason, errors=[{"field": body.action, "message": exc.reason}]
        ) from exc
    return body.model_dump(mode="json", exclude={"action"})


async def transition(
    ctx: Ctx, case_id: UUID, body: TransitionIn, if_match: str | None
) -> CaseSummary:
    principal = ctx.require_principal()
    case = await case_for_action(ctx, case_id, if_match)
    before = domain.CaseStatus(case.status)
    step = domain.CASES.take(before, domain.CaseAction(body.action), principal.roles)
    details = await _apply_facts(ctx, case, body)
    case.status = step.to.value
    case.stage_entered_at = ctx.now
    case.stage_due_at = domain.stage_due_at(
        step.to, ctx.now, ctx.settings.stage_rules(), case.trial_scheduled_for
    )
    case.version += 1
    case.updated_at = ctx.now
    _timeline(ctx, case, body.action, before.value, details)
    await stage_watch.watch(ctx, case)
    await ctx.session.flush()
    await ctx.emit(
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
            at=ctx.now,
            facts=details,
        ),
    )
    return summary(case, ctx.now)


async def add_person(ctx: Ctx, case_id: UUID, data: PartyIn, if_match: str | None) -> PartyOut:
    """A party added to a case that is not closed; the case's version moves on."""
    case = await case_for_action(ctx, case_id, if_match)
    if case.status == domain.CaseStatus.closed.value:
        raise Conflict("the case is closed")
    party = await parties.add_party(ctx, case, data)
    case.version += 1
    return parties.party_out(party, names_only=False)


async def related_cases(ctx: Ctx, case_id: UUID) -> list[RelatedCase]:
    return await parties.related(ctx, await case_for_read(ctx, case_id))
