"""Rings (đường dây, ổ nhóm): cases grouped by investigators, and the graph of what links them:
cases, their parties (one node per person across cases), phones (last digits only) and places."""

from __future__ import annotations

from uuid import UUID

from libs.common.errors import Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import name_of
from libs.contracts.casework import RingUpdated
from services.casework import repository
from services.casework.access import Ctx
from services.casework.cases import summary
from services.casework.graph import person_identities
from services.casework.models import Case, Ring
from services.casework.schemas import GraphEdge, GraphNode, RingCreate, RingGraph, RingRead


async def _visible_cases(ctx: Ctx, ids: list[UUID]) -> list[Case]:
    principal = ctx.require_principal()
    cases = await repository.cases_by_ids(ctx.session, ids)
    found = {c.id for c in cases if principal.covers(c.ward_code)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise Unprocessable(
            "unknown cases",
            errors=[{"field": "case_ids", "message": f"no such case: {', '.join(missing)}"}],
        )
    return list(cases)


async def _add_cases(ctx: Ctx, ring: Ring, cases: list[Case]) -> None:
    for case in cases:
        await repository.add_ring_case(ctx.session, ring.id, case.id, ctx.now, ctx.sub)
    ring.version += 1
    await ctx.session.flush()
    await ctx.emit(
        "casework.ring.updated",
        ring.id,
        RingUpdated(
            ring_id=ring.id,
            case_ids=await repository.ring_case_ids(ctx.session, ring.id),
            province_code=ring.province_code,
            updated_at=ctx.now,
        ),
    )


async def create_ring(ctx: Ctx, data: RingCreate) -> RingRead:
    principal = ctx.require_principal()
    cases = await _visible_cases(ctx, data.case_ids)
    provinces = sorted({c.province_code for c in cases}) or [
        c for c in principal.jurisdiction if len(c) == 2
    ]
    if not provinces:
        raise Unprocessable(
            "a ring needs at least one case to place it",
            errors=[{"field": "case_ids", "message": "give at least one case"}],
        )
    ring = Ring(
        id=new_id(),
        name=data.name,
        description=data.description,
        province_code=provinces[0],
        status="active",
        created_at=ctx.now,
        created_by=ctx.sub,
        version=0,
    )
    await repository.save(ctx.session, ring)
    await _add_cases(ctx, ring, cases)
    return await read_ring(ctx, ring.id)


async def ring_for(ctx: Ctx, ring_id: UUID, *, write: bool) -> Ring:
    principal = ctx.require_principal()
    ring = await repository.get_ring(ctx.session, ring_id, for_update=write)
    if ring is None:
        raise NotFound("no such ring")
    if principal.covers(ring.province_code):
        return ring
    if any(principal.covers(c.ward_code) for c in await _cases_of(ctx, ring)):
        return ring  # a ward officer sees a ring that holds one of the ward's cases
    if write:
        raise Forbidden("this ring is outside your jurisdiction")
    raise NotFound("no such ring")


async def _cases_of(ctx: Ctx, ring: Ring) -> list[Case]:
    ids = await repository.ring_case_ids(ctx.session, ring.id)
    return list(await repository.cases_by_ids(ctx.session, ids))


async def add_cases(ctx: Ctx, ring_id: UUID, case_ids: list[UUID]) -> RingRead:
    ring = await ring_for(ctx, ring_id, write=True)
    await _add_cases(ctx, ring, await _visible_cases(ctx, case_ids))
    return await read_ring(ctx, ring.id)


async def read_ring(ctx: Ctx, ring_id: UUID) -> RingRead:
    principal = ctx.require_principal()
    ring = await ring_for(ctx, ring_id, write=False)
    cases = await _cases_of(ctx, ring)
    return RingRead(
        id=ring.id,
        name=ring.name,
        description=ring.description,
        province_code=ring.province_code,
        created_at=ring.created_at,
        cases=[summary(c, ctx.now) for c in cases if principal.covers(c.ward_code)],
        version=ring.version,
    )


async def ring_graph(ctx: Ctx, ring_id: UUID, purpose: str) -> RingGraph:
    """Nodes (cases, persons, phones, places) and edges of the ring's cases the caller may see;
    the read is audited."""
    principal = ctx.require_principal()
    ring = await ring_for(ctx, ring_id, write=False)
    cases = [c for c in await _cases_of(ctx, ring) if principal.covers(c.ward_code)]
    nodes: dict[str, GraphNode] = {}
    edges: set[tuple[str, str, str]] = set()

    def node(node_id: str, kind: str, label: str, **attributes: object) -> str:
        nodes.setdefault(
            node_id, GraphNode(id=node_id, kind=kind, label=label, attributes=attributes)
        )
        return node_id

    loaded = []
    for case in cases:
        parties = await repository.parties_of(ctx.session, case.id)
        loaded.append(
            (case, parties, await repository.digests_of(ctx.session, [p.id for p in parties]))
        )
    identity = person_identities(
        {p.id: d.get(p.id, {}) for _, parties, d in loaded for p in parties}
    )
    party_count = 0
    for case, parties, digests in loaded:
        case_node = node(f"case:{case.id}", "case", case.title, status=case.status)
        place = node(f"place:{case.ward_code}", "place", name_of(case.ward_code) or case.ward_code)
        edges.add((case_node, place, "occurred_in"))
        for party in parties:
            party_count += 1
            mine = digests.get(party.id, {})
            person = node(
                f"person:{identity[party.id]}",
                "person",
                party.full_name or "(unnamed)",
                role=party.role,
            )
            edges.add((case_node, person, party.role))
            if "phone" in mine and party.phone:
                phone = node(f"phone:{mine['phone']}", "phone", f"…{party.phone[-3:]}")
                edges.add((person, phone, "uses"))
            if party.hometown_ward_code:
                home = node(
                    f"place:{party.hometown_ward_code}",
                    "place",
                    name_of(party.hometown_ward_code) or party.hometown_ward_code,
                )
                edges.add((person, home, "hometown"))
    await ctx.record(
        "read", "ring.graph", ring.id, purpose, {"cases": len(cases), "parties": party_count}
    )
    return RingGraph(
        ring_id=ring.id,
        nodes=list(nodes.values()),
        edges=[GraphEdge(source=s, target=t, kind=k) for s, t, k in sorted(edges)],
    )
