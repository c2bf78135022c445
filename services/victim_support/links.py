"""Two records of one person kept by two jurisdictions, and the explicit, audited steps that
link them: a suggestion to the office holding a match, a proposal, the other office's decision."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.pagination import Page, time_cursor
from libs.contracts.victim_support import VictimLinkChanged
from services.victim_support import domain, link_repository, repository
from services.victim_support.access import Ctx, visible_to
from services.victim_support.models import Victim, VictimLink
from services.victim_support.schemas import VictimLinkDecisionIn, VictimLinkIn, VictimLinkOut
from services.victim_support.victims import step

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


async def _emit(ctx: Ctx, event: str, link: VictimLink, places: Places) -> None:
    ward, province = places[link.victim_id]
    other_ward, other_province = places.get(link.other_victim_id, (None, None))
    await ctx.emit(
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
            at=ctx.now,
        ),
    )


async def suggest(ctx: Ctx, match: repository.Match, received: Victim) -> None:
    """Tell the office owning ``match`` that ``received`` (a new record elsewhere) may be its
    person. Nothing of its record changes, and the receiving office is told nothing."""
    link = VictimLink(
        id=new_id(),
        victim_id=match.victim_id,
        other_victim_id=received.id,
        status=domain.LinkStatus.suggested.value,
        matched_on=match.matched_on,
        created_at=ctx.now,
        version=1,
    )
    await repository.save(ctx.session, link)
    places: Places = {
        match.victim_id: (match.ward_code, match.province_code),
        received.id: (received.ward_code, received.province_code),
    }
    await _emit(ctx, "possible_duplicate", link, places)


async def _own_record(ctx: Ctx, victim_id: UUID) -> Victim:
    victim = await repository.get_victim(ctx.session, victim_id)
    if victim is None:
        raise NotFound("no such person")
    if not visible_to(ctx.require_principal(), victim):
        raise Forbidden("this person is outside your jurisdiction")
    return victim


async def propose(ctx: Ctx, victim_id: UUID, data: VictimLinkIn, purpose: str) -> VictimLinkOut:
    """Ask the office holding ``other_victim_id`` to link it to our record ``victim_id``; the
    answer is the same whether or not that record exists."""
    session = ctx.session
    victim = await _own_record(ctx, victim_id)
    other_id = data.other_victim_id
    if other_id == victim.id:
        raise Unprocessable(
            "a record is not linked to itself",
            errors=[{"field": "other_victim_id", "message": "the same record"}],
        )
    # Visible to us: we hold its ``other_victim_id``, and it is no suggestion.
    reverse = await link_repository.link_between(session, other_id, victim.id)
    if reverse is not None and reverse.status == domain.LinkStatus.proposed.value:
        raise Conflict("the other office has proposed this link already: decide on its proposal")
    if reverse is not None and reverse.status == domain.LinkStatus.confirmed.value:
        raise Conflict("these records are linked already")
    link = await link_repository.link_between(session, victim.id, other_id, for_update=True)
    if link is None:
        link = await link_repository.insert_proposal(
            session,
            VictimLink(
                id=new_id(),
                victim_id=victim.id,
                other_victim_id=other_id,
                status=domain.LinkStatus.proposed.value,
                matched_on=[],
                created_at=ctx.now,
                proposed_by=ctx.sub,
                proposed_at=ctx.now,
                decided_by=None,
                decided_at=None,
                version=1,
            ),
        )
        if link is None:
            raise Conflict("this link was proposed meanwhile")
    elif domain.LinkStatus(link.status) in domain.PROPOSABLE:
        link.status = domain.LinkStatus.proposed.value
        link.proposed_by, link.proposed_at = ctx.sub, ctx.now
        link.decided_by, link.decided_at = None, None
        link.version += 1
    else:
        raise Conflict(f"this link is {link.status} already")
    await ctx.record(
        "propose_link",
        "victim",
        victim.id,
        purpose,
        {"link_id": str(link.id), "other_victim_id": str(other_id)},
    )
    await session.flush()
    places = await link_repository.places_of(session, [victim.id, other_id])
    await _emit(ctx, "link_proposed", link, places)
    return link_out(link, places)


async def decide(
    ctx: Ctx, link_id: UUID, data: VictimLinkDecisionIn, purpose: str, if_match: str | None
) -> VictimLinkOut:
    """The office holding the record a proposal names confirms or rejects it; someone else than
    the proposer, so that no one person links two records alone."""
    session, principal = ctx.session, ctx.require_principal()
    link = await link_repository.get_link(session, link_id, for_update=True)
    other = None if link is None else await repository.get_victim(session, link.other_victim_id)
    if (
        link is None
        or other is None
        or link.status == domain.LinkStatus.suggested.value
        or not visible_to(principal, other)
    ):
        raise NotFound("no such link")
    if link.status != domain.LinkStatus.proposed.value:
        raise Conflict(f"this link is {link.status} already")
    if link.proposed_by == ctx.sub:
        raise Forbidden("a link is decided by someone other than the person who proposed it")
    check_if_match(if_match, link.version)
    status = domain.LINK_STATUS_AFTER[data.decision]
    link.status = status.value
    link.decided_by, link.decided_at = ctx.sub, ctx.now
    link.version += 1
    await link_repository.settle_suggestion(session, link, status.value, ctx.sub, ctx.now)
    if status is domain.LinkStatus.confirmed:
        mine = await repository.get_victim(session, link.victim_id)
        assert mine is not None
        for victim, counterpart in ((mine, other), (other, mine)):
            await step(
                ctx,
                victim,
                "record_linked",
                victim.status,
                {"link_id": str(link.id), "other_victim_id": str(counterpart.id)},
            )
    await ctx.record(
        "decide_link",
        "victim",
        other.id,
        purpose,
        {"link_id": str(link.id), "decision": data.decision.value},
    )
    await session.flush()
    places = await link_repository.places_of(session, [link.victim_id, other.id])
    await _emit(ctx, f"link_{status.value}", link, places)
    return link_out(link, places)


async def list_links(
    ctx: Ctx,
    *,
    victim_id: UUID | None,
    status: domain.LinkStatus | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Page[VictimLinkOut]:
    rows = await link_repository.list_links(
        ctx.session,
        scope=repository.victim_scope(ctx.require_principal()),
        victim_id=victim_id,
        status=status.value if status else None,
        after=after,
        limit=limit,
    )
    ids = list({i for link in rows for i in (link.victim_id, link.other_victim_id)})
    places = await link_repository.places_of(ctx.session, ids)
    return Page(
        items=[link_out(link, places) for link in rows],
        next_cursor=time_cursor(rows, "created_at", limit),
    )
