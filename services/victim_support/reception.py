"""Reception of a person, by hand or from an event (a case's victim, a partner's handover),
exactly once; a person already received within the receiving jurisdiction is linked, not
duplicated, and a match elsewhere is only suggested to the office that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from libs.common.crypto import BlindIndex
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.common.text import name_tokens
from services.victim_support import domain, links, repository
from services.victim_support.access import Ctx, ensure_covers
from services.victim_support.models import Victim
from services.victim_support.schemas import PersonIn, VictimCreate, VictimSummary
from services.victim_support.victims import step, summary, watch_verification

ADULT_AGE = 18


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


async def receive(ctx: Ctx, r: Reception) -> tuple[Victim, bool]:
    """Create the reception, or link it to the person already received. Returns (victim, new).
    From events, ``source_kind``/``source_ref`` make it exactly-once."""
    session = ctx.session
    if r.source_kind and r.source_ref:
        existing = await repository.source_victim(session, r.source_kind, r.source_ref)
        if existing is not None:
            victim = await repository.get_victim(session, existing)
            assert victim is not None
            return victim, False
    digests = person_digests(ctx.index, r.person)
    scope = repository.receiving_scope(ctx.principal, r.province_code)
    matches = await repository.matches_by_digests(session, digests, scope)
    here = next((m for m in matches if m.in_scope), None)
    known = (
        None
        if here is None
        else await repository.get_victim(session, here.victim_id, for_update=True)
    )
    if known is not None:
        await _link_to_known(ctx, known, r, digests)
        return known, False
    victim = _new_victim(ctx, r)
    await repository.save(session, victim)
    await repository.index_person(session, victim.id, digests)
    await step(ctx, victim, "receive", None, {"source": r.source.value}, emit="received")
    await watch_verification(ctx, victim)
    await _claim_source(ctx, r, victim)
    for elsewhere in matches:
        await links.suggest(ctx, elsewhere, victim)
    return victim, True


async def _link_to_known(ctx: Ctx, known: Victim, r: Reception, digests: dict[str, str]) -> None:
    before = known.status
    if r.case_id and r.case_id not in known.case_ids:
        known.case_ids = [*known.case_ids, r.case_id]
    known.needs = sorted(set(known.needs) | set(r.needs))
    known.exploitation_types = sorted(set(known.exploitation_types) | set(r.exploitation_types))
    known.version += 1
    known.updated_at = ctx.now
    await step(
        ctx,
        known,
        "linked",
        before,
        {"source": r.source.value, "case_id": str(r.case_id) if r.case_id else None},
    )
    await repository.index_person(ctx.session, known.id, digests)
    await _claim_source(ctx, r, known)


def _new_victim(ctx: Ctx, r: Reception) -> Victim:
    person = r.person
    status = (
        domain.VictimStatus.received if r.source_kind else domain.VictimStatus.under_verification
    )
    return Victim(
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
        created_by=ctx.sub,
        version=1,
        updated_at=ctx.now,
    )


async def _claim_source(ctx: Ctx, r: Reception, victim: Victim) -> None:
    if r.source_kind and r.source_ref:
        await repository.claim_source(ctx.session, r.source_kind, r.source_ref, victim.id, ctx.now)


async def receive_by_hand(ctx: Ctx, data: VictimCreate) -> VictimSummary:
    ensure_covers(ctx.require_principal(), data.ward_code)
    province = province_of(data.ward_code)
    assert province is not None
    victim, _ = await receive(
        ctx,
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
    return summary(victim, ctx)
