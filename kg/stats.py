"""Counts for `kg stats` and the pages: read from the metadata graph (computed at load time)."""

from __future__ import annotations

import pyoxigraph as ox

from kg.iri import Minter


def graph_counts(store: ox.Store) -> list[tuple[str, int]]:
    out = []
    for g in sorted(store.named_graphs(), key=lambda g: str(g)):
        if isinstance(g, ox.NamedNode):
            out.append((g.value, sum(1 for _ in store.quads_for_pattern(None, None, None, g))))
    return out


def class_counts(store: ox.Store, m: Minter) -> list[tuple[str, str, int]]:
    q = f"""SELECT ?ds ?class ?n WHERE {{ GRAPH <{m.graph('meta')}> {{
        ?ds <http://rdfs.org/ns/void#classPartition> ?p . ?p <http://rdfs.org/ns/void#class> ?class ;
            <http://rdfs.org/ns/void#entities> ?n }} }} ORDER BY ?ds ?class"""
    return [(s["ds"].value.rsplit("/", 1)[-1], _short(s["class"].value, m), int(s["n"].value)) for s in store.query(q)]


def _short(iri: str, m: Minter) -> str:
    for prefix, ns in m.prefixes().items():
        if iri.startswith(ns) and "/" not in iri[len(ns):]:
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def graph_triples(store: ox.Store, m: Minter) -> list[tuple[str, int]]:
    """Triples per named graph: recorded counts for datasets, live counts for the small graphs."""
    recorded = {s["g"].value: int(s["n"].value) for s in store.query(
        f"SELECT ?g ?n WHERE {{ GRAPH <{m.graph('meta')}> {{ ?g <http://rdfs.org/ns/void#triples> ?n }} }}")}
    out = []
    for g in sorted(store.named_graphs(), key=str):
        if isinstance(g, ox.NamedNode):
            count = recorded.get(g.value)
            if count is None:
                count = sum(1 for _ in store.quads_for_pattern(None, None, None, g))
            out.append((g.value, count))
    return out
