"""A ring's graph: who is the same person across cases (union-find over shared digests), and
the graph drawn as SVG."""

from __future__ import annotations

import html
from uuid import UUID

import networkx as nx

from services.casework.schemas import RingGraph

_SAME_PERSON = ("id_number", "suspect_name_birth_year")


def person_identities(digests: dict[UUID, dict[str, str]]) -> dict[UUID, str]:
    """Union-find: parties sharing an ID number or (suspects) a name and birth year are one
    person; a shared phone is not enough, phones are what the graph shows as links."""
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
