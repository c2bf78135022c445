"""Missing-person reports (đơn trình báo mất tích): filing, reading, resolution, matches."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, Forbidden, NotFound
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.platform import platform_of
from libs.contracts.intake import (
    MissingPersonHeld,
    MissingPersonPublished,
    MissingPersonReported,
    MissingPersonResolved,
)
from libs.contracts.interagency import FoundPerson, MatchDecided, MatchFound
from services.intake import domain, repository
from services.intake.models import Message, MissingPerson, metadata
from services.intake.schemas import (
    MessageOut,
    MissingPersonCreate,
    MissingPersonCreated,
    MissingPersonRead,
    MissingPersonSummary,
    PossibleMatchOut,
    ReporterOut,
    ResolutionIn,
    ReviewIn,
)
from services.intake.service import TO_REPORTER, Actor, issue_receipt, message_out

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

OFFICERS = (Role.intake_officer, Role.investigator)
KIND = "missing_person"


def may_publish(principal: Principal | None, ward_code: str) -> bool:
    """Only an intake officer of the place decides what partners hear of (DESIGN.md section 5)."""
    return (
        principal is not None
        and principal.has_role(Role.intake_officer)
        and principal.covers(ward_code)
    )


async def report(
    session: AsyncSession, data: MissingPersonCreate, actor: Actor
) -> MissingPersonCreated:
    """The report, its receipt and ``.reported`` (matching only). Partners are alerted on
    ``.published``: at once when an intake officer of the place files with ``publish: true``,
    otherwise after an officer's review (``review``)."""
    if data.publish and not may_publish(actor.principal, data.last_seen_ward_code):
        raise Forbidden(
            "only an intake officer of the place may publish a report at once; "
            "a report from the public is published after an officer's review"
        )
    reporter = data.reporter
    province = province_of(data.last_seen_ward_code)
    assert province is not None  # the schema accepts known ward codes only
    publication = domain.Publication.published if data.publish else domain.Publication.pending
    mp = MissingPerson(
        id=new_id(),
        status=domain.MissingPersonStatus.open.value,
        full_name=data.full_name,
        sex=data.sex.value,
        date_of_birth=data.date_of_birth.isoformat() if data.date_of_birth else None,
        birth_year=domain.birth_year(data.date_of_birth, data.age, actor.now),
        age=data.age,
        last_seen_at=data.last_seen_at,
        last_seen_ward_code=data.last_seen_ward_code,
        province_code=province,
        hometown_ward_code=data.hometown_ward_code,
        id_number=data.id_number,
        phone=data.phone,
        distinguishing_marks=data.distinguishing_marks,
        circumstances=data.circumstances,
        reporter_name=reporter.name if reporter else None,
        reporter_phone=reporter.phone if reporter else None,
        reporter_email=reporter.email if reporter else None,
        filed_by=actor.principal.sub if actor.principal else None,
        reported_at=actor.now,
        publication=publication.value,
        reviewed_at=actor.now if data.publish else None,
        reviewed_by=actor.sub if data.publish else None,
        version=1,
    )
    session.add(mp)
    await session.flush()
    code = await issue_receipt(session, actor, KIND, mp.id)
    await platform.outbox.add(
        session,
        "intake.missing_person.reported",
        mp.id,
        MissingPersonReported(
            missing_person_id=mp.id,
            full_name=data.full_name,
            sex=data.sex.value,
            date_of_birth=data.date_of_birth,
            age=data.age,
            last_seen_at=data.last_seen_at,
            last_seen_ward_code=data.last_seen_ward_code,
            province_code=province,
            hometown_ward_code=data.hometown_ward_code,
            distinguishing_marks=data.distinguishing_marks,
            id_number=data.id_number,
            phone=data.phone,
            reported_at=actor.now,
        ),
    )
    if data.publish:
        await _publish(session, mp, actor)
    return MissingPersonCreated(
        id=mp.id,
        receipt_code=code,
        status=domain.MissingPersonStatus.open,
        publication=publication,
    )


async def _publish(session: AsyncSession, mp: MissingPerson, actor: Actor) -> None:
    """``.published`` with the allow-listed fields interagency sends to partners."""
    await platform.outbox.add(
        session,
        "intake.missing_person.published",
        mp.id,
        MissingPersonPublished(
            missing_person_id=mp.id,
            full_name=mp.full_name,
            sex=mp.sex,
            date_of_birth=date.fromisoformat(mp.date_of_birth) if mp.date_of_birth else None,
            age=mp.age,
            last_seen_at=mp.last_seen_at,
            last_seen_ward_code=mp.last_seen_ward_code,
            province_code=mp.province_code,
            hometown_ward_code=mp.hometown_ward_code,
            distinguishing_marks=mp.distinguishing_marks,
            id_number=mp.id_number,
            published_at=actor.now,
        ),
    )


async def review(
    session: AsyncSession,
    actor: Actor,
    mp_id: UUID,
    data: ReviewIn,
    if_match: str | None,
) -> MissingPersonSummary:
    """An intake officer of the place publishes the report (partners are alerted) or holds it
    with a reason (kept here, encrypted, never in the event). Audited."""
    principal = actor.principal
    assert principal is not None
    mp = await _for_action(session, principal, mp_id, if_match)
    try:
        publication = domain.review(
            domain.MissingPersonStatus(mp.status),
            domain.Publication(mp.publication),
            data.decision,
        )
    except domain.RuleViolation as exc:
        raise Conflict(exc.reason) from exc
    mp.publication = publication.value
    mp.review_reason = data.reason
    mp.reviewed_at = actor.now
    mp.reviewed_by = actor.sub
    mp.version += 1
    await session.flush()
    if publication is domain.Publication.published:
        await _publish(session, mp, actor)
    else:
        await platform.outbox.add(
            session,
            "intake.missing_person.held",
            mp.id,
            MissingPersonHeld(missing_person_id=mp.id, held_at=actor.now),
        )
    await platform.audit.record(
        session,
        actor=principal,
        action=f"review.{data.decision.value}",
        record_type="missing_person",
        record_id=str(mp.id),
        purpose="missing-person review",
        details={"publication": publication.value},
    )
    counts = await repository.match_counts(session, [mp.id])
    return summary(mp, counts.get(mp.id, 0))


async def _for_action(
    session: AsyncSession, principal: Principal, mp_id: UUID, if_match: str | None
) -> MissingPerson:
    """The report, locked for the change; 404 if absent, 403 outside the jurisdiction, 412 if
    stale."""
    mp = await repository.get_missing_person(session, mp_id, for_update=True)
    if mp is None:
        raise NotFound("no such missing-person report")
    if not principal.covers(mp.last_seen_ward_code):
        raise Forbidden("this report is outside your jurisdiction")
    check_if_match(if_match, mp.version)
    return mp


def summary(mp: MissingPerson, match_count: int) -> MissingPersonSummary:
    return MissingPersonSummary(
        id=mp.id,
        status=mp.status,
        sex=mp.sex,
        age=mp.age,
        birth_year=mp.birth_year,
        last_seen_at=mp.last_seen_at,
        last_seen_ward_code=mp.last_seen_ward_code,
        outcome=mp.outcome,
        reported_at=mp.reported_at,
        publication=mp.publication,
        possible_match_count=match_count,
        version=mp.version,
    )


async def read(session: AsyncSession, actor: Actor, mp_id: UUID, purpose: str) -> MissingPersonRead:
    assert actor.principal is not None
    principal = actor.principal
    mp = await repository.get_missing_person(session, mp_id)
    if mp is None or not principal.covers(mp.last_seen_ward_code):
        raise NotFound("no such missing-person report")
    names_only = not principal.has_role(*OFFICERS)
    matches = await repository.matches_of(session, mp.id)
    messages = [] if names_only else await repository.messages_of(session, KIND, mp.id)
    await platform.audit.record(
        session,
        actor=principal,
        action="read",
        record_type="missing_person",
        record_id=str(mp.id),
        purpose=purpose,
        details={"view": "names_only" if names_only else "full"},
    )
    return MissingPersonRead(
        **summary(mp, len(matches)).model_dump(),
        full_name=mp.full_name,
        date_of_birth=None
        if names_only or not mp.date_of_birth
        else date.fromisoformat(mp.date_of_birth),
        hometown_ward_code=mp.hometown_ward_code,
        id_number=None if names_only else mp.id_number,
        phone=None if names_only else mp.phone,
        distinguishing_marks=None if names_only else mp.distinguishing_marks,
        circumstances=None if names_only else mp.circumstances,
        reporter=None
        if names_only
        else ReporterOut(name=mp.reporter_name, phone=mp.reporter_phone, email=mp.reporter_email),
        resolution_notes=None if names_only else mp.resolution_notes,
        resolved_at=mp.resolved_at,
        review_reason=None if names_only else mp.review_reason,
        reviewed_at=mp.reviewed_at,
        messages=[message_out(m) for m in messages],
        possible_matches=[
            PossibleMatchOut(
                match_id=m.id,
                alert_id=m.alert_id,
                partner_code=m.partner_code,
                score=m.score,
                reasons=m.reasons,
                found={}
                if names_only
                else FoundPerson.model_validate_json(m.found).model_dump(
                    mode="json", exclude_none=True
                ),
                found_at=m.found_at,
                status=m.status,
                decided_at=m.decided_at,
            )
            for m in matches
        ],
    )


async def resolve(
    session: AsyncSession,
    actor: Actor,
    mp_id: UUID,
    data: ResolutionIn,
    if_match: str | None,
) -> MissingPersonSummary:
    principal: Principal | None = actor.principal
    assert principal is not None
    mp = await _for_action(session, principal, mp_id, if_match)
    try:
        domain.check_resolvable(domain.MissingPersonStatus(mp.status))
    except domain.RuleViolation as exc:
        raise Conflict(exc.reason) from exc
    mp.status = domain.MissingPersonStatus.resolved.value
    mp.outcome = data.outcome.value
    mp.resolution_notes = data.notes
    mp.resolved_at = actor.now
    mp.resolved_by = actor.sub
    mp.version += 1
    await session.flush()
    await platform.outbox.add(
        session,
        "intake.missing_person.resolved",
        mp.id,
        MissingPersonResolved(missing_person_id=mp.id, outcome=mp.outcome, resolved_at=actor.now),
    )
    counts = await repository.match_counts(session, [mp.id])
    return summary(mp, counts.get(mp.id, 0))


async def message_reporter(
    session: AsyncSession, actor: Actor, mp_id: UUID, body: str
) -> MessageOut:
    """A word to the family who reported, read through their receipt."""
    principal = actor.principal
    assert principal is not None
    mp = await repository.get_missing_person(session, mp_id)
    if mp is None:
        raise NotFound("no such missing-person report")
    if not principal.covers(mp.last_seen_ward_code):
        raise Forbidden("this report is outside your jurisdiction")
    message = Message(
        id=new_id(),
        subject_kind=KIND,
        subject_id=mp.id,
        direction=TO_REPORTER,
        body=body,
        author=actor.sub,
        created_at=actor.now,
    )
    session.add(message)
    await session.flush()
    return message_out(message)


async def record_match(session: AsyncSession, match: MatchFound) -> None:
    """A candidate from interagency; a match for a report we do not hold is ignored."""
    if await repository.get_missing_person(session, match.missing_person_id) is None:
        return
    await repository.insert_possible_match(
        session,
        {
            "id": match.match_id,
            "missing_person_id": match.missing_person_id,
            "alert_id": match.alert_id,
            "partner_code": match.partner_code,
            "score": match.score,
            "reasons": [r.model_dump() for r in match.reasons],
            "found": match.found.model_dump_json(exclude_none=True),
            "status": "candidate",
            "found_at": match.found_at,
        },
    )


async def record_decision(session: AsyncSession, decided: MatchDecided) -> None:
    """The officers' decision on a candidate (matches are decided once, in interagency, and come
    after their ``match.found`` on the same partition; one we never recorded is ignored)."""
    await repository.decide_possible_match(
        session,
        decided.match_id,
        decided.missing_person_id,
        status=decided.decision,
        decided_at=decided.decided_at,
    )
