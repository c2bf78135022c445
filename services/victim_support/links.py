"""Two records of one person kept by two jurisdictions, and the explicit step that links them.

A reception never reaches into a record another jurisdiction keeps: a social worker could
otherwise learn that anyone in the country is a trafficking victim, where, and change that
record, by typing an ID number. A match elsewhere makes a new record here, says nothing to the
receiving office, and is *suggested* to the office that owns the matched record, by an event and
in its list of links. Linking then needs a person on each side: one office proposes (its record,
the other's id, which it learned from the other office), the office holding the other record
confirms or rejects, and each step is audited. A proposal is stored and answered alike whether or
not the other id exists, so it is no oracle either.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.pagination import Page, time_cursor
from libs.common.platform import platform_of
from libs.contracts.victim_support import VictimLinkChanged
from services.victim_support import domain, repository, service
from services.victim_support.models import Victim, VictimLink, metadata
from services.victim_support.schemas import VictimLinkDecisionIn, VictimLinkIn, VictimLinkOut

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)

Places = dict[UUID, tuple[str | None, str]]


def link_out(link: VictimLink, places: Places) -> VictimLinkOut:
    status = domain.LinkStatus(link.status)
    ward, province = places.get(link.victim_id, (None, None))
    shows_other = status in (domain.LinkStatus.suggested, domain.LinkStatus.confirmed)
    other_ward, other_province = (
        places.get(link.other_victim_id, (None, None)) if shows_other else (None, None)
    )
    return VictimLinkOut(
        id=link.id,
        status=link.status,
        victim_id=link.victim_id,
        ward_code=ward,
        province_code=province,
        other_victim_id=link.other_victim_id,
        other_ward_code=other_ward,
        other_province_code=other_province,
        matched_on=link.matched_on,
        created_at=link.created_at,
        proposed_at=link.proposed_at,
        decided_at=link.decided_at,
        version=link.version,
    )


async def _emit(
    session: AsyncSession, event: str, link: VictimLink, places: Places, at: datetime
) -> None:
    ward, province = places[link.victim_id]
    other_ward, other_province = places.get(link.other_victim_id, (None, None))
    await platform.outbox.add(
        session,
        f"victim_support.victim.{event}",
        link.victim_id,
        VictimLinkChanged(
            link_id=link.id,
            status=link.status,
            victim_id=link.victim_id,
            ward_code=ward,
            province_code=province,
            other_victim_id=link.other_victim_id,
            other_ward_code=other_ward,
            other_province_code=other_province,
            matched_on=link.matched_on,
            at=at,
        ),
    )


async def suggest(
    session: AsyncSession, actor: service.Actor, match: repository.Match, received: Victim
) -> None:
    """Tell the office owning ``match`` that ``received`` (a new record elsewhere) may be its
    person. Nothing of its record changes, and the receiving office is told nothing."""
    link = VictimLink(
        id=new_id(),
        victim_id=match.victim_id,
        other_victim_id=received.id,
        status=domain.LinkStatus.suggested.value,
        matched_on=match.matched_on,
        created_at=actor.now,
        version=1,
    )
    session.add(link)
    await session.flush()
    places: Places = {
        match.victim_id: (match.ward_code, match.province_code),
        received.id: (received.ward_code, received.province_code),
    }
    await _emit(session, "possible_duplicate", link, places, actor.now)


async def _own_record(session: AsyncSession, principal: Principal, victim_id: UUID) -> Victim:
    victim = await repository.get_victim(session, victim_id)
    if victim is None:
        raise NotFound("no such person")
    if not service.visible_to(principal, victim):
        raise Forbidden("this person is outside your jurisdiction")
    return victim


async def propose(
    session: AsyncSession, actor: service.Actor, victim_id: UUID, data: VictimLinkIn, purpose: str
) -> VictimLinkOut:
    """Ask the office holding ``other_victim_id`` to link it to our record ``victim_id``."""
    principal = actor.principal
    assert principal is not None
    victim = await _own_record(session, principal, victim_id)
    other_id = data.other_victim_id
    if other_id == victim.id:
        raise Unprocessable(
            "a record is not linked to itself",
            errors=[{"field": "other_victim_id", "message": "the same record"}],
        )
    # Visible to us: we hold its ``other_victim_id``, and it is no suggestion.
    reverse = await repository.link_between(session, other_id, victim.id)
    if reverse is not None and reverse.status == domain.LinkStatus.proposed.value:
        raise Conflict("the other office has proposed this link already: decide on its proposal")
    if reverse is not None and reverse.status == domain.LinkStatus.confirmed.value:
        raise Conflict("these records are linked already")
    link = await repository.link_between(session, victim.id, other_id, for_update=True)
    if link is None:
        inserted = await session.execute(
            insert(VictimLink)
            .values(
                id=new_id(),
                victim_id=victim.id,
                other_victim_id=other_id,
                status=domain.LinkStatus.proposed.value,
                matched_on=[],
                created_at=actor.now,
                proposed_by=actor.sub,
                proposed_at=actor.now,
                version=1,
            )
            .on_conflict_do_nothing()
            .returning(VictimLink.id)
        )
        link_id = inserted.scalar_one_or_none()
        if link_id is None:
            raise Conflict("this link was proposed meanwhile")
        link = await repository.get_link(session, link_id)
        assert link is not None
    elif domain.LinkStatus(link.status) in domain.PROPOSABLE:
        link.status = domain.LinkStatus.proposed.value
        link.proposed_by, link.proposed_at = actor.sub, actor.now
        link.decided_by, link.decided_at = None, None
        link.version += 1
    else:
        raise Conflict(f"this link is {link.status} already")
    await platform.audit.record(
        session,
        actor=principal,
        action="propose_link",
        record_type="victim",
        record_id=str(victim.id),
        purpose=purpose,
        details={"link_id": str(link.id), "other_victim_id": str(other_id)},
    )
    await session.flush()
    places = await repository.places_of(session, [victim.id, other_id])
    await _emit(session, "link_proposed", link, places, actor.now)
    return link_out(link, places)


async def decide(
    session: AsyncSession,
    actor: service.Actor,
    link_id: UUID,
    data: VictimLinkDecisionIn,
    purpose: str,
    if_match: str | None,
) -> VictimLinkOut:
    """The office holding the record a proposal names confirms or rejects it; someone else than
    the proposer, so that no one person links two records alone."""
    principal = actor.principal
    assert principal is not None
    link = await repository.get_link(session, link_id, for_update=True)
    other = None if link is None else await repository.get_victim(session, link.other_victim_id)
    if (
        link is None
        or other is None
        or link.status == domain.LinkStatus.suggested.value
        or not service.visible_to(principal, other)
    ):
        raise NotFound("no such link")
    if link.status != domain.LinkStatus.proposed.value:
        raise Conflict(f"this link is {link.status} already")
    if link.proposed_by == actor.sub:
        raise Forbidden("a link is decided by someone other than the person who proposed it")
    check_if_match(if_match, link.version)
    status = domain.LINK_STATUS_AFTER[data.decision]
    link.status = status.value
    link.decided_by, link.decided_at = actor.sub, actor.now
    link.version += 1
    # A suggestion between the same two records is settled by the same decision.
    await session.execute(
        update(VictimLink)
        .where(
            VictimLink.victim_id == link.other_victim_id,
            VictimLink.other_victim_id == link.victim_id,
            VictimLink.status == domain.LinkStatus.suggested.value,
        )
        .values(status=status.value, decided_by=actor.sub, decided_at=actor.now)
    )
    if status is domain.LinkStatus.confirmed:
        mine = await repository.get_victim(session, link.victim_id)
        assert mine is not None
        for victim, counterpart in ((mine, other), (other, mine)):
            await service.record_on_timeline(
                session,
                victim,
                "record_linked",
                actor,
                {"link_id": str(link.id), "other_victim_id": str(counterpart.id)},
            )
    await platform.audit.record(
        session,
        actor=principal,
        action="decide_link",
        record_type="victim",
        record_id=str(other.id),
        purpose=purpose,
        details={"link_id": str(link.id), "decision": data.decision.value},
    )
    await session.flush()
    places = await repository.places_of(session, [link.victim_id, other.id])
    await _emit(session, f"link_{status.value}", link, places, actor.now)
    return link_out(link, places)


async def list_links(
    session: AsyncSession,
    principal: Principal,
    *,
    victim_id: UUID | None,
    status: domain.LinkStatus | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Page[VictimLinkOut]:
    rows = await repository.list_links(
        session,
        scope=repository.victim_scope(principal),
        victim_id=victim_id,
        status=status.value if status else None,
        after=after,
        limit=limit,
    )
    ids = list({i for link in rows for i in (link.victim_id, link.other_victim_id)})
    places = await repository.places_of(session, ids)
    return Page(
        items=[link_out(link, places) for link in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )
