"""Victim use cases: reception (by hand or from events, once), identification, protection,
support by law, consents, reintegration. Each change, its timeline entry and its event share
one transaction; every read of personal data is audited with its purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.crypto import BlindIndex
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.platform import platform_of
from libs.common.text import name_tokens
from libs.contracts.victim_support import VictimStatusChanged
from services.victim_support import domain, links, repository
from services.victim_support.models import (
    Consent,
    ProtectionMeasure,
    Reintegration,
    Support,
    Victim,
    VictimEvent,
    VictimIndex,
    VictimSource,
    metadata,
)
from services.victim_support.schemas import (
    ConsentIn,
    ConsentOut,
    IdentificationIn,
    PersonIn,
    PersonOut,
    ProtectionIn,
    ReintegrationIn,
    SupportIn,
    SupportOut,
    TimelineEntry,
    VictimCreate,
    VictimRead,
    VictimSummary,
)

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

ADULT_AGE = 18
EVENT_OF_ACTION = {
    "receive": "received",
    "identify:identified": "identified",
    "identify:not_a_victim": "not_identified",
    "protect": "protected",
    "support": "supported",
    "reintegrate": "reintegrated",
    "close": "closed",
}


@dataclass(frozen=True)
class Actor:
    principal: Principal | None
    index: BlindIndex
    now: datetime

    @property
    def sub(self) -> str:
        return self.principal.sub if self.principal else "system"


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Reception:
    """A reception from any source, normalised (by hand, a case, a partner's handover)."""

    source: domain.Source
    received_at: datetime
    ward_code: str | None
    province_code: str
    person: PersonIn
    nationality: str
    is_minor: bool | None
    needs: list[str]
    case_id: UUID | None
    exploitation_types: list[str]
    source_kind: str | None = None
    source_ref: str | None = None


def person_digests(index: BlindIndex, person: PersonIn) -> dict[str, str]:
    """ID number, or normalised name + date of birth: how a returning person is recognised."""
    digests = {}
    if person.id_number:
        digests["id_number"] = index.digest("id_number", person.id_number)
    if person.full_name and person.date_of_birth:
        key = f"{' '.join(name_tokens(person.full_name))}|{person.date_of_birth.isoformat()}"
        digests["name_dob"] = index.digest("name_dob", key)
    return digests


def _minor(person: PersonIn, flagged: bool | None, on: date) -> bool | None:
    if flagged is not None:
        return flagged
    if person.date_of_birth is not None:
        born = person.date_of_birth
        years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        return years < ADULT_AGE
    if person.age is not None:
        return person.age < ADULT_AGE
    return None


async def _event(
    session: AsyncSession,
    victim: Victim,
    action: str,
    before: str | None,
    actor: Actor,
    details: dict[str, Any] | None = None,
    *,
    emit: str | None = None,
) -> None:
    details = details or {}
    session.add(
        VictimEvent(
            id=new_id(),
            victim_id=victim.id,
            action=action,
            from_status=before,
            to_status=victim.status,
            at=actor.now,
            by=actor.sub,
            details=details,
        )
    )
    if emit is None:
        return
    await session.flush()
    await platform.outbox.add(
        session,
        f"victim_support.victim.{emit}",
        victim.id,
        VictimStatusChanged(
            victim_id=victim.id,
            action=action,
            status=victim.status,
            source=victim.source,
            ward_code=victim.ward_code,
            province_code=victim.province_code,
            nationality=victim.nationality,
            is_minor=victim.is_minor,
            case_ids=victim.case_ids,
            at=actor.now,
            details=details,
        ),
    )


async def receive(session: AsyncSession, actor: Actor, r: Reception) -> tuple[Victim, bool]:
    """Create the reception, or link it to the person already received. Returns (victim, new).

    From events, ``source_kind``/``source_ref`` make it exactly-once: the same case party or
    partner alert never receives a person twice.
    """
    if r.source_kind and r.source_ref:
        existing = await session.get(VictimSource, (r.source_kind, r.source_ref))
        if existing is not None:
            victim = await repository.get_victim(session, existing.victim_id)
            assert victim is not None
            return victim, False
    digests = person_digests(actor.index, r.person)
    matches = await repository.matches_by_digests(session, digests, _receiving_scope(actor, r))
    here = next((m for m in matches if m.in_scope), None)
    known = (
        None
        if here is None
        else await repository.get_victim(session, here.victim_id, for_update=True)
    )
    if known is not None:
        before = known.status
        if r.case_id and r.case_id not in known.case_ids:
            known.case_ids = [*known.case_ids, r.case_id]
        known.needs = sorted(set(known.needs) | set(r.needs))
        known.exploitation_types = sorted(set(known.exploitation_types) | set(r.exploitation_types))
        known.version += 1
        known.updated_at = actor.now
        await _event(
            session,
            known,
            "linked",
            before,
            actor,
            {"source": r.source.value, "case_id": str(r.case_id) if r.case_id else None},
        )
        await _index(session, known.id, digests)
        await _claim_source(session, r, known, actor)
        return known, False
    person = r.person
    status = (
        domain.VictimStatus.received if r.source_kind else domain.VictimStatus.under_verification
    )
    victim = Victim(
        id=new_id(),
        status=status.value,
        source=r.source.value,
        ward_code=r.ward_code,
        province_code=r.province_code,
        received_at=r.received_at,
        verification_due_at=domain.verification_due_at(r.received_at),
        full_name=person.full_name,
        date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else None,
        age=person.age,
        sex=person.sex,
        phone=person.phone,
        id_number=person.id_number,
        hometown_ward_code=person.hometown_ward_code,
        nationality=r.nationality,
        is_minor=_minor(person, r.is_minor, r.received_at.date()),
        needs=sorted(set(r.needs)),
        exploitation_types=sorted(set(r.exploitation_types)),
        case_ids=[r.case_id] if r.case_id else [],
        notes=person.notes,
        created_by=actor.sub,
        version=1,
        updated_at=actor.now,
    )
    session.add(victim)
    await session.flush()
    await _index(session, victim.id, digests)
    await _event(
        session, victim, "receive", None, actor, {"source": r.source.value}, emit="received"
    )
    await _claim_source(session, r, victim, actor)
    for elsewhere in matches:
        await links.suggest(session, actor, elsewhere, victim)
    return victim, True


def _receiving_scope(actor: Actor, r: Reception) -> ColumnElement[bool]:
    """Whose records a reception may link to: those the receiving social worker may see; for a
    reception from an event (a case's victim, a partner's handover), those of the province the
    person is received in. Never the whole country (issue 13)."""
    if actor.principal is not None:
        return repository.victim_scope(actor.principal)
    return Victim.province_code == r.province_code


async def record_on_timeline(
    session: AsyncSession, victim: Victim, action: str, actor: Actor, details: dict[str, Any]
) -> None:
    """A timeline entry that does not change the person's status."""
    await _event(session, victim, action, victim.status, actor, details)


async def _index(session: AsyncSession, victim_id: UUID, digests: dict[str, str]) -> None:
    """Remember how to recognise the person, including identifiers first given on a link."""
    for kind, digest in digests.items():
        await session.execute(
            insert(VictimIndex)
            .values(victim_id=victim_id, kind=kind, digest=digest)
            .on_conflict_do_nothing()
        )


async def _claim_source(session: AsyncSession, r: Reception, victim: Victim, actor: Actor) -> None:
    if r.source_kind and r.source_ref:
        await session.execute(
            insert(VictimSource)
            .values(
                source_kind=r.source_kind,
                source_ref=r.source_ref,
                victim_id=victim.id,
                linked_at=actor.now,
            )
            .on_conflict_do_nothing()
        )


async def receive_by_hand(session: AsyncSession, actor: Actor, data: VictimCreate) -> VictimSummary:
    assert actor.principal is not None
    if not actor.principal.covers(data.ward_code):
        raise Forbidden("that ward is outside your jurisdiction")
    province = province_of(data.ward_code)
    assert province is not None
    victim, _ = await receive(
        session,
        actor,
        Reception(
            source=data.source,
            received_at=data.received_at,
            ward_code=data.ward_code,
            province_code=province,
            person=data.person,
            nationality=data.nationality,
            is_minor=data.is_minor,
            needs=[n.value for n in data.needs],
            case_id=data.case_id,
            exploitation_types=[],
        ),
    )
    return summary(victim, actor.now)


def summary(victim: Victim, now: datetime) -> VictimSummary:
    status = domain.VictimStatus(victim.status)
    return VictimSummary(
        id=victim.id,
        status=victim.status,
        source=victim.source,
        ward_code=victim.ward_code,
        province_code=victim.province_code,
        received_at=victim.received_at,
        verification_due_at=victim.verification_due_at,
        overdue=domain.is_overdue(status, victim.verification_due_at, now),
        is_minor=victim.is_minor,
        nationality=victim.nationality,
        case_ids=victim.case_ids,
        version=victim.version,
    )


def visible_to(principal: Principal, victim: Victim) -> bool:
    return principal.covers(victim.ward_code) or principal.covers(victim.province_code)


async def victim_for_read(session: AsyncSession, principal: Principal, victim_id: UUID) -> Victim:
    victim = await repository.get_victim(session, victim_id)
    if victim is None or not visible_to(principal, victim):
        raise NotFound("no such person")
    return victim


async def victim_for_action(
    session: AsyncSession,
    principal: Principal,
    victim_id: UUID,
    action: domain.VictimAction,
    if_match: str | None,
) -> Victim:
    victim = await repository.get_victim(session, victim_id, for_update=True)
    if victim is None:
        raise NotFound("no such person")
    if not visible_to(principal, victim):
        raise Forbidden("this person is outside your jurisdiction")
    check_if_match(if_match, victim.version)
    try:
        domain.check_action(domain.VictimStatus(victim.status), action)
    except domain.RuleViolation as exc:
        raise Conflict(exc.reason, allowed_actions=exc.allowed) from exc
    return victim


async def read_victim(
    session: AsyncSession, actor: Actor, victim_id: UUID, purpose: str
) -> VictimRead:
    """Social workers get the full record (audited); supervisors figures and statuses only."""
    assert actor.principal is not None
    principal = actor.principal
    victim = await victim_for_read(session, principal, victim_id)
    personal = principal.has_role(Role.social_worker)
    if personal:
        await platform.audit.record(
            session,
            actor=principal,
            action="read",
            record_type="victim",
            record_id=str(victim.id),
            purpose=purpose,
        )
    status = domain.VictimStatus(victim.status)
    protection = await repository.protection_of(session, victim.id)
    supports = await repository.supports_of(session, victim.id)
    consents = await repository.consents_in_force(session, victim.id)
    reintegration = await repository.reintegration_of(session, victim.id)
    timeline = await repository.timeline_of(session, victim.id)
    return VictimRead(
        **summary(victim, actor.now).model_dump(),
        person=PersonOut(
            full_name=victim.full_name,
            date_of_birth=date.fromisoformat(victim.date_of_birth)
            if victim.date_of_birth
            else None,
            age=victim.age,
            sex=victim.sex,
            phone=victim.phone,
            id_number=victim.id_number,
            hometown_ward_code=victim.hometown_ward_code,
            notes=victim.notes,
        )
        if personal
        else None,
        needs=victim.needs,
        entitled_supports=domain.entitled_supports(status, victim.nationality),
        identification={
            "outcome": victim.identification_outcome,
            "deciding_agency": victim.deciding_agency,
            "document_ref": victim.document_ref if personal else None,
            "decided_at": victim.identified_at,
        }
        if victim.identification_outcome
        else None,
        protection=[
            {
                "measures": m.measures,
                "notes": m.notes if personal else None,
                "recorded_at": m.recorded_at,
            }
            for m in protection
        ],
        supports=[support_out(s) for s in supports],
        consents=[
            ConsentOut(
                scope=c.scope, org=c.org or None, granted=c.granted, recorded_at=c.recorded_at
            )
            for c in consents
        ],
        reintegration=[
            {
                "checked_on": f.checked_on,
                "employment": f.employment,
                "schooling": f.schooling,
                "situation": f.situation if personal else None,
                "notes": f.notes if personal else None,
                "closed": f.closed,
            }
            for f in reintegration
        ],
        timeline=[
            TimelineEntry(
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                at=e.at,
                by=e.by,
                details=e.details,
            )
            for e in timeline
        ],
    )


def support_out(s: Support) -> SupportOut:
    return SupportOut(
        id=s.id,
        type=s.type,
        amount_vnd=s.amount_vnd,
        provided_on=s.provided_on,
        provider_org=s.provider_org,
        program_id=s.program_id,
    )


def _advance(
    victim: Victim, action: domain.VictimAction, actor: Actor, *, closed: bool = False
) -> str:
    before = victim.status
    victim.status = domain.status_after(action, domain.VictimStatus(before), closed=closed).value
    victim.version += 1
    victim.updated_at = actor.now
    return before


async def identify(
    session: AsyncSession,
    actor: Actor,
    victim_id: UUID,
    data: IdentificationIn,
    if_match: str | None,
) -> VictimSummary:
    assert actor.principal is not None
    victim = await victim_for_action(
        session, actor.principal, victim_id, domain.VictimAction.identify, if_match
    )
    before = victim.status
    victim.status = data.outcome.value
    victim.identification_outcome = data.outcome.value
    victim.deciding_agency = data.deciding_agency
    victim.document_ref = data.document_ref
    victim.identified_at = actor.now
    victim.needs = sorted(set(victim.needs) | {n.value for n in data.needs})
    victim.version += 1
    victim.updated_at = actor.now
    await _event(
        session,
        victim,
        "identify",
        before,
        actor,
        {"outcome": data.outcome.value, "within_deadline": actor.now <= victim.verification_due_at},
        emit=EVENT_OF_ACTION[f"identify:{data.outcome.value}"],
    )
    return summary(victim, actor.now)


async def protect(
    session: AsyncSession, actor: Actor, victim_id: UUID, data: ProtectionIn, if_match: str | None
) -> VictimSummary:
    assert actor.principal is not None
    victim = await victim_for_action(
        session, actor.principal, victim_id, domain.VictimAction.protect, if_match
    )
    session.add(
        ProtectionMeasure(
            id=new_id(),
            victim_id=victim.id,
            measures=list(data.measures),
            notes=data.notes,
            recorded_at=actor.now,
            recorded_by=actor.sub,
        )
    )
    victim.first_protected_at = victim.first_protected_at or actor.now
    before = _advance(victim, domain.VictimAction.protect, actor)
    await _event(
        session,
        victim,
        "protect",
        before,
        actor,
        {"measures": list(data.measures)},
        emit="protected",
    )
    return summary(victim, actor.now)


async def add_support(
    session: AsyncSession,
    actor: Actor,
    victim: Victim,
    *,
    support_type: domain.SupportType,
    amount_vnd: int,
    provided_on: date,
    provider_org: str,
    program_id: UUID | None,
    external_id: str | None,
) -> Support:
    """Record a support the law entitles the person to now (422 naming the rule otherwise)."""
    try:
        domain.check_action(domain.VictimStatus(victim.status), domain.VictimAction.support)
        domain.check_entitlement(
            support_type, domain.VictimStatus(victim.status), victim.nationality
        )
    except domain.RuleViolation as exc:
        raise Unprocessable(
            exc.reason,
            errors=[{"field": "type", "message": exc.reason}],
            rule=exc.rule,
            entitled_supports=domain.entitled_supports(
                domain.VictimStatus(victim.status), victim.nationality
            ),
        ) from exc
    support = Support(
        id=new_id(),
        victim_id=victim.id,
        type=support_type.value,
        amount_vnd=amount_vnd,
        provided_on=provided_on,
        provider_org=provider_org,
        program_id=program_id,
        external_id=external_id,
        created_by=actor.sub,
        created_at=actor.now,
    )
    session.add(support)
    victim.first_supported_at = victim.first_supported_at or actor.now
    before = _advance(victim, domain.VictimAction.support, actor)
    await _event(
        session,
        victim,
        "support",
        before,
        actor,
        {
            "type": support_type.value,
            "amount_vnd": amount_vnd,
            "program_id": str(program_id) if program_id else None,
        },
        emit="supported",
    )
    return support


async def record_support(
    session: AsyncSession, actor: Actor, victim_id: UUID, data: SupportIn, if_match: str | None
) -> SupportOut:
    """A support recorded by a social worker (NGOs go through ``programs.record_support``)."""
    principal = actor.principal
    assert principal is not None
    victim = await victim_for_action(
        session, principal, victim_id, domain.VictimAction.support, if_match
    )
    if (
        data.program_id is not None
        and await repository.get_program(session, data.program_id) is None
    ):
        raise Unprocessable(
            "no such program", errors=[{"field": "program_id", "message": "no such program"}]
        )
    support = await add_support(
        session,
        actor,
        victim,
        support_type=data.type,
        amount_vnd=data.amount_vnd,
        provided_on=data.provided_on,
        provider_org=data.provider_org,
        program_id=data.program_id,
        external_id=None,
    )
    await session.flush()
    return support_out(support)


async def consent(
    session: AsyncSession, actor: Actor, victim_id: UUID, data: ConsentIn, if_match: str | None
) -> ConsentOut:
    assert actor.principal is not None
    victim = await victim_for_action(
        session, actor.principal, victim_id, domain.VictimAction.consent, if_match
    )
    entry = Consent(
        id=new_id(),
        victim_id=victim.id,
        scope=data.scope.value,
        org=data.org or "",
        granted=data.granted,
        recorded_at=actor.now,
        recorded_by=actor.sub,
    )
    session.add(entry)
    before = _advance(victim, domain.VictimAction.consent, actor)
    await _event(
        session,
        victim,
        "consent",
        before,
        actor,
        {"scope": data.scope.value, "org": data.org, "granted": data.granted},
    )
    await session.flush()
    return ConsentOut(
        scope=entry.scope, org=data.org, granted=entry.granted, recorded_at=entry.recorded_at
    )


async def reintegrate(
    session: AsyncSession,
    actor: Actor,
    victim_id: UUID,
    data: ReintegrationIn,
    if_match: str | None,
) -> VictimSummary:
    assert actor.principal is not None
    victim = await victim_for_action(
        session, actor.principal, victim_id, domain.VictimAction.reintegrate, if_match
    )
    session.add(
        Reintegration(
            id=new_id(),
            victim_id=victim.id,
            checked_on=data.checked_on,
            situation=data.situation,
            employment=data.employment,
            schooling=data.schooling,
            notes=data.notes,
            closed=data.closed,
            recorded_at=actor.now,
            recorded_by=actor.sub,
        )
    )
    before = _advance(victim, domain.VictimAction.reintegrate, actor, closed=data.closed)
    if data.closed:
        victim.closed_at = actor.now
    await _event(
        session,
        victim,
        "reintegrate",
        before,
        actor,
        {"employment": data.employment, "schooling": data.schooling, "closed": data.closed},
        emit="closed" if data.closed else "reintegrated",
    )
    return summary(victim, actor.now)
