"""Rings (đường dây, ổ nhóm): cases grouped by investigators, and the graph of what links them.

The graph joins the ring's cases to their parties, the parties to their phones and home wards,
and the cases to the wards where they happened. A person who appears in several cases (same ID
number, or for suspects the same name and birth year) is one node, which is the point: it shows
who ties the cases together. Phones are labelled by their last digits only.
"""

from __future__ import annotations

import html
from uuid import UUID

import networkx as nx
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import Forbidden, NotFound, Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import name_of
from libs.common.platform import platform_of
from libs.contracts.casework import RingUpdated
from services.casework import repository
from services.casework.models import Case, Ring, RingCase, metadata
from services.casework.schemas import GraphEdge, GraphNode, RingCreate, RingGraph, RingRead
from services.casework.service import Actor, summary

# Until the use cases take the context: the platform of this service's schema.
platform = platform_of(metadata)


async def _visible_cases(session: AsyncSession, actor: Actor, ids: list[UUID]) -> list[Case]:
    assert actor.principal is not None
    cases = await repository.cases_by_ids(session, ids)
    found = {c.id for c in cases if actor.principal.covers(c.ward_code)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise Unprocessable(
            "unknown cases",
            errors=[{"field": "case_ids", "message": f"no such case: {', '.join(missing)}"}],
        )
    return list(cases)


async def _add_cases(session: AsyncSession, ring: Ring, cases: list[Case], actor: Actor) -> None:
    for case in cases:
        await session.execute(
            insert(RingCase)
            .values(ring_id=ring.id, case_id=case.id, added_at=actor.now, added_by=actor.sub)
            .on_conflict_do_nothing()
        )
    ring.version += 1
    await session.flush()
    await platform.outbox.add(
        session,
        "casework.ring.updated",
        ring.id,
        RingUpdated(
            ring_id=ring.id,
            case_ids=await repository.ring_case_ids(session, ring.id),
            province_code=ring.province_code,
            updated_at=actor.now,
        ),
    )


async def create_ring(session: AsyncSession, actor: Actor, data: RingCreate) -> RingRead:
    assert actor.principal is not None
    cases = await _visible_cases(session, actor, data.case_ids)
    provinces = sorted({c.province_code for c in cases}) or [
        c for c in actor.principal.jurisdiction if len(c) == 2
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
        created_at=actor.now,
        created_by=actor.sub,
        version=0,
    )
    session.add(ring)
    await session.flush()
    await _add_cases(session, ring, cases, actor)
    return await read_ring(session, actor, ring.id)


async def ring_for(session: AsyncSession, actor: Actor, ring_id: UUID, *, write: bool) -> Ring:
    assert actor.principal is not None
    ring = await repository.get_ring(session, ring_id, for_update=write)
    if ring is None:
        raise NotFound("no such ring")
    if actor.principal.covers(ring.province_code):
        return ring
    cases = await repository.cases_by_ids(session, await repository.ring_case_ids(session, ring.id))
    if any(actor.principal.covers(c.ward_code) for c in cases):
        return ring  # a ward officer sees a ring that holds one of the ward's cases
    if write:
        raise Forbidden("this ring is outside your jurisdiction")
    raise NotFound("no such ring")


async def add_cases(
    session: AsyncSession, actor: Actor, ring_id: UUID, case_ids: list[UUID]
) -> RingRead:
    ring = await ring_for(session, actor, ring_id, write=True)
    await _add_cases(session, ring, await _visible_cases(session, actor, case_ids), actor)
    return await read_ring(session, actor, ring.id)


async def read_ring(session: AsyncSession, actor: Actor, ring_id: UUID) -> RingRead:
    assert actor.principal is not None
    ring = await ring_for(session, actor, ring_id, write=False)
    cases = await repository.cases_by_ids(session, await repository.ring_case_ids(session, ring.id))
    return RingRead(
        id=ring.id,
        name=ring.name,
        description=ring.description,
        province_code=ring.province_code,
        created_at=ring.created_at,
        cases=[summary(c, actor.now) for c in cases if actor.principal.covers(c.ward_code)],
        version=ring.version,
    )


async def ring_graph(session: AsyncSession, actor: Actor, ring_id: UUID, purpose: str) -> RingGraph:
    assert actor.principal is not None
    ring = await ring_for(session, actor, ring_id, write=False)
    cases = [
        c
        for c in await repository.cases_by_ids(
            session, await repository.ring_case_ids(session, ring.id)
        )
        if actor.principal.covers(c.ward_code)
    ]
    nodes: dict[str, GraphNode] = {}
    edges: set[tuple[str, str, str]] = set()

    def node(node_id: str, kind: str, label: str, **attributes: object) -> str:
        nodes.setdefault(
            node_id, GraphNode(id=node_id, kind=kind, label=label, attributes=attributes)
        )
        return node_id

    loaded = []
    for case in cases:
        parties = await repository.parties_of(session, case.id)
        loaded.append(
            (case, parties, await repository.digests_of(session, [p.id for p in parties]))
        )
    identity = _person_identities(
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
    await platform.audit.record(
        session,
        actor=actor.principal,
        action="read",
        record_type="ring.graph",
        record_id=str(ring.id),
        purpose=purpose,
        details={"cases": len(cases), "parties": party_count},
    )
    return RingGraph(
        ring_id=ring.id,
        nodes=list(nodes.values()),
        edges=[GraphEdge(source=s, target=t, kind=k) for s, t, k in sorted(edges)],
    )


_SAME_PERSON = ("id_number", "suspect_name_birth_year")


def _person_identities(digests: dict[UUID, dict[str, str]]) -> dict[UUID, str]:
    """Parties that share an ID number or (suspects) a name and birth year are one person, even
    when each case knows them by a different identifier: union-find over the shared digests.
    A shared phone is not enough: phones are what the graph shows as links between people."""
    parent = {party: party for party in digests}

    def root(party: UUID) -> UUID:
        while parent[party] != party:
            parent[party] = parent[parent[party]]
            party = parent[party]
        return party

    first_seen: dict[tuple[str, str], UUID] = {}
    for party, mine in sorted(digests.items(), key=lambda item: str(item[0])):
        for kind in _SAME_PERSON:
            if kind not in mine:
                continue
            other = first_seen.setdefault((kind, mine[kind]), party)
            a, b = root(party), root(other)
            if a != b:
                parent[max(a, b, key=str)] = min(a, b, key=str)
    return {party: str(root(party)) for party in digests}


_COLOURS = {"case": "#b03a2e", "person": "#1f618d", "phone": "#7d3c98", "place": "#1e8449"}


def render_svg(graph: RingGraph, size: int = 900) -> str:
    """The graph drawn as SVG (spring layout, fixed seed: the same ring draws the same way)."""
    g = nx.Graph()
    g.add_nodes_from(n.id for n in graph.nodes)
    g.add_edges_from((e.source, e.target) for e in graph.edges)
    positions = nx.spring_layout(g, seed=7) if len(g) else {}
    margin = 80

    def xy(node_id: str) -> tuple[float, float]:
        x, y = positions[node_id]
        return margin + (x + 1) / 2 * (size - 2 * margin), margin + (y + 1) / 2 * (
            size - 2 * margin
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="sans-serif" font-size="12">',
        f'<rect width="{size}" height="{size}" fill="white"/>',
    ]
    for edge in graph.edges:
        (x1, y1), (x2, y2) = xy(edge.source), xy(edge.target)
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#999">'
            f"<title>{html.escape(edge.kind)}</title></line>"
        )
    for n in graph.nodes:
        x, y = xy(n.id)
        colour = _COLOURS.get(n.kind, "#555")
        label = html.escape(n.label[:40])
        radius = 12 if n.kind == "case" else 8
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">'
            f"<title>{html.escape(n.kind)}: {label}</title></circle>"
            f'<text x="{x + 14:.1f}" y="{y + 4:.1f}">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
