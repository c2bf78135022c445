"""Matching a partner's found person with our open missing persons, and officers' decisions."""

from __future__ import annotations

import json
from datetime import date, datetime
from uuid import UUID

from libs.common.concurrency import check_if_match
from libs.common.crypto import BlindIndex
from libs.common.errors import NotFound
from libs.common.ids import new_id
from libs.contracts.interagency import FoundPerson, MatchDecided, MatchFound, MatchReason
from services.interagency import domain, match_repository, matching, repository
from services.interagency.access import Ctx, ensure_covers
from services.interagency.alert_data import DATA_MODELS, PersonFoundData
from services.interagency.domain import AlertType, Decision, Direction, MatchStatus
from services.interagency.models import Alert, Match, MissingPersonRef
from services.interagency.schemas import MatchRead

_MATCH_COLUMNS = (
    "id",
    "missing_person_id",
    "alert_id",
    "partner_code",
    "score",
    "reasons",
    "status",
    "created_at",
    "version",
)


async def match_received_alert(ctx: Ctx, alert_id: UUID) -> None:
    """Match a stored inbound alert's person, off the partner's request; the best candidate
    becomes its ``subject_id``. Seen again, it changes nothing (one match per person and alert)."""
    alert = await repository.get_alert(ctx.session, alert_id)
    if alert is None or alert.direction != Direction.inbound.value:
        return
    alert_type = AlertType(alert.alert_type)
    if alert_type not in domain.MATCHABLE:
        return
    data = DATA_MODELS[alert_type].model_validate(json.loads(alert.data))
    assert isinstance(data, PersonFoundData)
    found = await match_found_person(ctx, alert, data)
    if found and alert.subject_id is None:
        alert.subject_id = max(found, key=lambda m: m.score).missing_person_id
        await ctx.session.flush()


def found_facts(data: PersonFoundData, index: BlindIndex, now: datetime) -> matching.PersonFacts:
    seen_on = (data.found_at or now).date()
    return matching.PersonFacts(
        full_name=data.full_name,
        sex=data.sex if data.sex not in (None, "unknown") else None,
        date_of_birth=data.date_of_birth,
        birth_year=matching.birth_year_from_age(data.age, seen_on),
        hometown_ward_code=data.hometown_ward_code,
        id_digest=index.digest("id_number", data.id_number) if data.id_number else None,
        phone_digest=index.digest("phone", data.phone) if data.phone else None,
    )


def missing_facts(ref: MissingPersonRef) -> matching.PersonFacts:
    return matching.PersonFacts(
        full_name=ref.full_name,
        sex=ref.sex if ref.sex != "unknown" else None,
        date_of_birth=date.fromisoformat(ref.date_of_birth) if ref.date_of_birth else None,
        birth_year=ref.birth_year,
        hometown_ward_code=ref.hometown_ward_code,
        id_digest=ref.id_digest,
        phone_digest=ref.phone_digest,
    )


async def scored_candidates(
    ctx: Ctx, facts: matching.PersonFacts
) -> list[tuple[MissingPersonRef, matching.Scored]]:
    """Open missing persons scoring at or above the threshold, best first."""
    settings = ctx.settings
    probes = matching.probe_name_keys(facts.full_name) if facts.full_name else set()
    candidates = await match_repository.match_candidates(
        ctx.session,
        name_keys=[ctx.index.key64(matching.KEY_PURPOSE, key) for key in probes],
        sex=facts.sex,
        birth_year=facts.year,
        id_digest=facts.id_digest,
        phone_digest=facts.phone_digest,
        limit=settings.match_candidates,
    )
    scored = [(ref, matching.score(missing_facts(ref), facts)) for ref in candidates]
    kept = [(ref, s) for ref, s in scored if s.score >= settings.match_threshold]
    return sorted(kept, key=lambda pair: pair[1].score, reverse=True)


async def match_found_person(ctx: Ctx, alert: Alert, data: PersonFoundData) -> list[Match]:
    facts = found_facts(data, ctx.index, ctx.now)
    found = FoundPerson(
        full_name=data.full_name,
        sex=data.sex,
        date_of_birth=data.date_of_birth,
        age=data.age,
        found_at=data.found_at,
        found_place=data.found_place,
        hometown_ward_code=data.hometown_ward_code,
        nationality=data.nationality,
    )
    matches: list[Match] = []
    for ref, scored in await scored_candidates(ctx, facts):
        reasons = [
            MatchReason(field=r.field, detail=r.detail, weight=r.weight) for r in scored.reasons
        ]
        match = Match(
            id=new_id(),
            missing_person_id=ref.missing_person_id,
            alert_id=alert.id,
            partner_code=alert.partner_code or "",
            score=scored.score,
            reasons=[r.model_dump() for r in reasons],
            status=MatchStatus.candidate.value,
            created_at=ctx.now,
            version=1,
        )
        values = {c: getattr(match, c) for c in _MATCH_COLUMNS}
        if not await match_repository.insert_match(ctx.session, values):
            continue
        matches.append(match)
        await ctx.emit(
            "interagency.match.found",
            ref.missing_person_id,
            MatchFound(
                match_id=match.id,
                missing_person_id=ref.missing_person_id,
                alert_id=alert.id,
                partner_code=match.partner_code,
                score=match.score,
                reasons=reasons,
                found=found,
                found_at=ctx.now,
            ),
        )
    return matches


async def list_matches(
    ctx: Ctx,
    *,
    missing_person_id: UUID | None,
    status: MatchStatus | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[MatchRead]:
    """Candidates for missing persons in the reader's jurisdiction, newest first."""
    rows = await match_repository.list_matches(
        ctx.session,
        ctx.require_principal(),
        missing_person_id=missing_person_id,
        status=status.value if status else None,
        after=after,
        limit=limit,
    )
    return [MatchRead.model_validate(m) for m in rows]


async def decide(
    ctx: Ctx, match_id: UUID, decision: Decision, note: str | None, if_match: str | None
) -> MatchRead:
    """``confirmed`` or ``rejected``, once (409 after), by an officer of the person's area."""
    principal = ctx.require_principal()
    match = await match_repository.get_match(ctx.session, match_id, for_update=True)
    if match is None:
        raise NotFound("no such match")
    ref = await match_repository.get_missing_person(ctx.session, match.missing_person_id)
    ensure_covers(principal, ref.last_seen_ward_code if ref else None)
    check_if_match(if_match, match.version)
    step = domain.MATCH.take(MatchStatus(match.status), decision)
    match.status = step.to.value
    match.decided_by = principal.sub
    match.decided_at = ctx.now
    match.version += 1
    await ctx.session.flush()
    await ctx.emit(
        step.event or "interagency.match.decided",
        match.missing_person_id,
        MatchDecided(
            match_id=match.id,
            missing_person_id=match.missing_person_id,
            alert_id=match.alert_id,
            decision=decision.value,
            decided_at=ctx.now,
        ),
    )
    await ctx.record(
        f"match.{decision.value}",
        "match",
        match.id,
        "missing-person search",
        {"note": note} if note else {},
    )
    return MatchRead.model_validate(match)
