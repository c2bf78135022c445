"""The persons named in a tip being filed: their rows, and the blind indexes by which possible
duplicates are found (keyed HMACs of a phone, an ID number, a name with a birth year and a ward:
never a searchable plaintext)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from libs.common.crypto import BlindIndex
from libs.common.ids import new_id
from libs.common.text import name_tokens
from services.intake import domain
from services.intake.filing_rows import NewPersonDigest, NewTipPerson
from services.intake.schemas import PersonIn


def person_digests(
    index: BlindIndex, person: PersonIn, birth_year: int | None, ward: str | None
) -> dict[str, str]:
    """Blind indexes for possible duplicates: phone, ID number, name + birth year + ward."""
    digests: dict[str, str] = {}
    if person.phone:
        digests["phone"] = index.digest("phone", person.phone)
    if person.id_number:
        digests["id_number"] = index.digest("id_number", person.id_number)
    if person.full_name and birth_year is not None and ward:
        key = f"{' '.join(name_tokens(person.full_name))}|{birth_year}|{ward}"
        digests["name_birth_year_ward"] = index.digest("name_birth_year_ward", key)
    return digests


def _person(tip_id: UUID, position: int, person: PersonIn, year: int | None) -> NewTipPerson:
    return NewTipPerson(
        id=new_id(),
        tip_id=tip_id,
        position=position,
        role=person.role.value,
        full_name=person.full_name,
        date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else None,
        birth_year=year,
        age=person.age,
        sex=person.sex,
        phone=person.phone,
        id_number=person.id_number,
        hometown_ward_code=person.hometown_ward_code,
        notes=person.notes,
    )


def filed_persons(
    index: BlindIndex, tip_id: UUID, given: Sequence[PersonIn], ward: str | None, now: datetime
) -> tuple[list[NewTipPerson], list[NewPersonDigest]]:
    """The rows of a new tip's persons and of their blind indexes (a person's hometown, else the
    tip's ward, is the ward of the name + birth year key)."""
    persons: list[NewTipPerson] = []
    digests: list[NewPersonDigest] = []
    for position, named in enumerate(given):
        year = domain.birth_year(named.date_of_birth, named.age, now)
        person = _person(tip_id, position, named, year)
        persons.append(person)
        home = named.hometown_ward_code or ward
        for kind, digest in person_digests(index, named, year, home).items():
            digests.append(NewPersonDigest(tip_id, person.id, kind, digest))
    return persons, digests
