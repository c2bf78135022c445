"""Parties of a case (suspects, victims, witnesses) and the search for related cases."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from libs.common.crypto import BlindIndex
from libs.common.ids import new_id
from libs.common.text import name_tokens
from libs.contracts.casework import VictimLinked
from services.casework import domain, repository
from services.casework.access import Ctx
from services.casework.models import Case, Party, PartyIndex
from services.casework.schemas import PartyIn, PartyOut, RelatedCase

ADULT_AGE = 18


def party_digests(index: BlindIndex, party: PartyIn, birth_year: int | None) -> dict[str, str]:
    """Suspects are matched on name + birth year; anyone on phone and ID number."""
    digests: dict[str, str] = {}
    if party.phone:
        digests["phone"] = index.digest("phone", party.phone)
    if party.id_number:
        digests["id_number"] = index.digest("id_number", party.id_number)
    if party.role is domain.PartyRole.suspect and party.full_name and birth_year is not None:
        key = f"{' '.join(name_tokens(party.full_name))}|{birth_year}"
        digests["suspect_name_birth_year"] = index.digest("suspect_name_birth_year", key)
    return digests


async def add_party(ctx: Ctx, case: Case, data: PartyIn) -> Party:
    """Add a party; a victim also emits ``casework.case.victim_linked`` for victim_support."""
    today = ctx.now.date()
    birth_year = (
        data.date_of_birth.year
        if data.date_of_birth
        else (today.year - data.age if data.age is not None else None)
    )
    party = Party(
        id=new_id(),
        case_id=case.id,
        role=data.role.value,
        full_name=data.full_name,
        date_of_birth=data.date_of_birth.isoformat() if data.date_of_birth else None,
        age=data.age,
        sex=data.sex,
        phone=data.phone,
        id_number=data.id_number,
        hometown_ward_code=data.hometown_ward_code,
        nationality=data.nationality,
        notes=data.notes,
        added_at=ctx.now,
        added_by=ctx.sub,
    )
    await repository.save(ctx.session, party)
    await repository.save(
        ctx.session,
        *(
            PartyIndex(
                party_id=party.id,
                kind=kind,
                digest=digest,
                case_id=case.id,
                province_code=case.province_code,
            )
            for kind, digest in party_digests(ctx.index, data, birth_year).items()
        ),
    )
    if data.role is domain.PartyRole.victim:
        age = domain.age_on(data.date_of_birth, data.age, ctx.now, today)
        await ctx.emit(
            "casework.case.victim_linked",
            case.id,
            VictimLinked(
                case_id=case.id,
                party_id=party.id,
                full_name=data.full_name,
                date_of_birth=data.date_of_birth,
                age=data.age,
                sex=data.sex,
                phone=data.phone,
                id_number=data.id_number,
                hometown_ward_code=data.hometown_ward_code,
                nationality=data.nationality,
                is_minor=None if age is None else age < ADULT_AGE,
                ward_code=case.ward_code,
                province_code=case.province_code,
                exploitation_types=case.exploitation_types,
                linked_at=ctx.now,
            ),
        )
    await ctx.session.flush()
    return party


def party_out(party: Party, *, names_only: bool) -> PartyOut:
    if names_only:
        return PartyOut(id=party.id, role=party.role, full_name=party.full_name)
    return PartyOut.model_validate(party)


async def victim_ages(ctx: Ctx, case_id: UUID, on: date) -> list[int | None]:
    return [
        domain.age_on(
            date.fromisoformat(p.date_of_birth) if p.date_of_birth else None, p.age, p.added_at, on
        )
        for p in await repository.parties_of(ctx.session, case_id)
        if p.role == domain.PartyRole.victim.value
    ]


async def suspect_ids(ctx: Ctx, case_id: UUID) -> set[UUID]:
    return {
        p.id
        for p in await repository.parties_of(ctx.session, case_id)
        if p.role == domain.PartyRole.suspect.value
    }


async def related(ctx: Ctx, case: Case) -> list[RelatedCase]:
    """Other cases in the caller's jurisdiction sharing a suspect (name + birth year), phone or
    ID number with this one."""
    scope = repository.case_scope(ctx.require_principal())
    shared = await repository.related_cases(ctx.session, case.id, scope)
    others = await repository.cases_by_ids(ctx.session, list(shared))
    return [
        RelatedCase(
            case_id=o.id,
            title=o.title,
            status=o.status,
            ward_code=o.ward_code,
            shared=sorted(shared[o.id]),
        )
        for o in others
    ]
