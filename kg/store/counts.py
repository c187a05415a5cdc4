"""Counts for ``kg stats``, the service description and the pages.

Dataset counts are read from the metadata graph, where each load recorded them (a typed count
over millions of entities costs seconds); only the small graphs that no load describes
(ontology, code lists, links, meta) are counted live, inside the engine.
"""

from __future__ import annotations

from kg.rdf import VOID
from kg.rdf.iri import Minter
from kg.store.interface import ReadStore


def class_counts(store: ReadStore, m: Minter) -> list[tuple[str, str, int]]:
    """(dataset, class as a prefixed name, entities) as recorded by the last load of each dataset."""
    q = f"""SELECT ?ds ?class ?n WHERE {{ GRAPH <{m.graph('meta')}> {{
        ?ds <{VOID.classPartition}> ?p . ?p <{VOID['class']}> ?class ; <{VOID.entities}> ?n }} }} ORDER BY ?ds ?class"""
    return [(str(s["ds"]).rsplit("/", 1)[-1], m.shorten(s["class"]), int(s["n"].value)) for s in store.query(q)]


def graph_triples(store: ReadStore, m: Minter) -> list[tuple[str, int]]:
    """Triples per named graph: recorded counts for datasets, live counts for the small graphs."""
    recorded = {str(s["g"]): int(s["n"].value) for s in store.query(
        f"SELECT ?g ?n WHERE {{ GRAPH <{m.graph('meta')}> {{ ?g <{VOID.triples}> ?n }} }}")}
    return [(g, recorded[g] if g in recorded else store.count(g)) for g in store.named_graphs()]
