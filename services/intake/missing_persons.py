"""Missing-person reports (đơn trình báo mất tích): filing, reading, resolution, matches."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, Forbidden, NotFound
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.statemachine import RuleViolation
from libs.contracts.intake import (
    MissingPersonHeld,
    MissingPersonPublished,
    MissingPersonReported,
    MissingPersonResolved,
)
from libs.contracts.interagency import FoundPerson, MatchDecided, MatchFound
from services.intake import access, domain, receipts, repository
from services.intake.access import Ctx
from services.intake.models import MissingPerson
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

KIND = "missing_person"


async def report(ctx: Ctx, data: MissingPersonCreate) -> MissingPersonCreated:
    """The report, its receipt and ``.reported`` (matching only); partners hear of it on
    ``.published``, at once or after an officer's review."""
    if data.publish and not access.may_publish(ctx.principal, data.last_seen_ward_code):
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
        birth_year=domain.birth_year(data.date_of_birth, data.age, ctx.now),
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
        filed_by=ctx.principal.sub if ctx.principal else None,
        reported_at=ctx.now,
        publication=publication.value,
        reviewed_at=ctx.now if data.publish else None,
        reviewed_by=ctx.sub if data.publish else None,
        version=1,
    )
    await repository.save(ctx.session, mp)
    code, receipt = receipts.new_receipt(ctx, KIND, mp.id)
    repository.add_receipt(ctx.session, receipt)
    await ctx.emit(
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
            reported_at=ctx.now,
        ),
    )
    if data.publish:
        await _publish(ctx, mp)
    return MissingPersonCreated(
        id=mp.id,
        receipt_code=code,
        status=domain.MissingPersonStatus.open,
        publication=publication,
    )


async def _publish(ctx: Ctx, mp: MissingPerson) -> None:
    """``.published`` with the allow-listed fields interagency sends to partners."""
    await ctx.emit(
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
            published_at=ctx.now,
        ),
    )


async def review(
    ctx: Ctx, mp_id: UUID, data: ReviewIn, if_match: str | None
) -> MissingPersonSummary:
    """Publish the report (partners are alerted) or hold it with a reason (kept here, never in
    the event); audited."""
    mp = await _for_action(ctx, mp_id, if_match)
    try:
        publication = domain.review(
            domain.MissingPersonStatus(mp.status),
            domain.Publication(mp.publication),
            data.decision,
        )
    except RuleViolation as exc:
        raise Conflict(exc.reason) from exc
    mp.publication = publication.value
    mp.review_reason = data.reason
    mp.reviewed_at = ctx.now
    mp.reviewed_by = ctx.sub
    mp.version += 1
    await repository.save(ctx.session, mp)
    if publication is domain.Publication.published:
        await _publish(ctx, mp)
    else:
        await ctx.emit(
            "intake.missing_person.held",
            mp.id,
            MissingPersonHeld(missing_person_id=mp.id, held_at=ctx.now),
        )
    await ctx.record(
        f"review.{data.decision.value}",
        "missing_person",
        mp.id,
        "missing-person review",
        {"publication": publication.value},
    )
    counts = await repository.match_counts(ctx.session, [mp.id])
    return summary(mp, counts.get(mp.id, 0))


async def _for_action(ctx: Ctx, mp_id: UUID, if_match: str | None) -> MissingPerson:
    """The report, locked for the change; 404 if absent, 403 outside the jurisdiction, 412 if
    stale."""
    principal = ctx.require_principal()
    mp = await repository.get_missing_person(ctx.session, mp_id, for_update=True)
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


async def list_reports(
    ctx: Ctx,
    *,
    status: str | None,
    ward_code: str | None,
    publication: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[list[MissingPerson], list[MissingPersonSummary]]:
    """Reports in the caller's jurisdiction, newest first, with their match counts."""
    rows = await repository.list_missing_persons(
        ctx.session,
        scope=repository.missing_person_scope(ctx.require_principal()),
        status=status,
        ward_code=ward_code,
        publication=publication,
        after=after,
        limit=limit,
    )
    counts = await repository.match_counts(ctx.session, [r.id for r in rows])
    return list(rows), [summary(r, counts.get(r.id, 0)) for r in rows]


async def read(ctx: Ctx, mp_id: UUID, purpose: str) -> MissingPersonRead:
    principal = ctx.require_principal()
    mp = await repository.get_missing_person(ctx.session, mp_id)
    if mp is None or not principal.covers(mp.last_seen_ward_code):
        raise NotFound("no such missing-person report")
    names_only = access.names_only(principal)
    matches = await repository.matches_of(ctx.session, mp.id)
    messages = [] if names_only else await repository.messages_of(ctx.session, KIND, mp.id)
    view = "names_only" if names_only else "full"
    await ctx.record("read", "missing_person", mp.id, purpose, {"view": view})
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
        messages=[MessageOut.model_validate(m) for m in messages],
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
    ctx: Ctx, mp_id: UUID, data: ResolutionIn, if_match: str | None
) -> MissingPersonSummary:
    mp = await _for_action(ctx, mp_id, if_match)
    try:
        domain.check_resolvable(domain.MissingPersonStatus(mp.status))
    except RuleViolation as exc:
        raise Conflict(exc.reason) from exc
    mp.status = domain.MissingPersonStatus.resolved.value
    mp.outcome = data.outcome.value
    mp.resolution_notes = data.notes
    mp.resolved_at = ctx.now
    mp.resolved_by = ctx.sub
    mp.version += 1
    await repository.save(ctx.session, mp)
    await ctx.emit(
        "intake.missing_person.resolved",
        mp.id,
        MissingPersonResolved(missing_person_id=mp.id, outcome=mp.outcome, resolved_at=ctx.now),
    )
    counts = await repository.match_counts(ctx.session, [mp.id])
    return summary(mp, counts.get(mp.id, 0))


async def message_reporter(ctx: Ctx, mp_id: UUID, body: str) -> MessageOut:
    """A word to the family who reported, read through their receipt."""
    principal = ctx.require_principal()
    mp = await repository.get_missing_person(ctx.session, mp_id)
    if mp is None:
        raise NotFound("no such missing-person report")
    if not principal.covers(mp.last_seen_ward_code):
        raise Forbidden("this report is outside your jurisdiction")
    return await receipts.add_message(ctx, KIND, mp.id, receipts.TO_REPORTER, body)


async def record_match(ctx: Ctx, match: MatchFound) -> None:
    """A candidate from interagency; a match for a report we do not hold is ignored."""
    if await repository.get_missing_person(ctx.session, match.missing_person_id) is None:
        return
    await repository.insert_possible_match(
        ctx.session,
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


async def record_decision(ctx: Ctx, decided: MatchDecided) -> None:
    """The officers' decision on a candidate (matches are decided once, in interagency, and come
    after their ``match.found`` on the same partition; one we never recorded is ignored)."""
    await repository.decide_possible_match(
        ctx.session,
        decided.match_id,
        decided.missing_person_id,
        status=decided.decision,
        decided_at=decided.decided_at,
    )
