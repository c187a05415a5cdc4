"""Incoming-link counts of hubs, counted once per load instead of on a page's first view.

A municipality, a class or a code concept can have hundreds of thousands of incoming links; the
page of one counts them (30-60 ms for 100k), then keeps the count for the generation. Counting
them when the load ends makes even the first view as fast as any other page.

The counts live in ``kg-counts.sqlite`` in the generation directory, stamped with the generation
they were counted in: a generation made otherwise (SPARQL Update, ``kg link``) copies the file but
not the stamp, and its pages count for themselves.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterable, Mapping

from kg.rdf import IRI, RDF, ROV, SKOS
from kg.rdf.iri import Minter
from kg.store.interface import ReadStore

FILENAME = "kg-counts.sqlite"


def hub_properties(m: Minter) -> list[str]:
    """Properties whose objects are shared by many entities: places, classes, code concepts."""
    return [str(RDF.type), str(ROV.orgStatus), str(ROV.orgType), str(SKOS.inScheme)] + [
        str(m.term(name)) for name in ("process", "municipality", "prefecture", "addressMatchLevel", "closeCause")]


def count_hubs(store: ReadStore, m: Minter, gen_dir: Path, *, find: bool = True, hub_min: int = 1000,
               previous: str | None = None, carried: dict[str, Mapping[tuple[str, str], int]] | None = None,
               rewritten: Iterable[str] = ()) -> int:
    """Count the incoming links of every hub of the store into the generation's counts file.

    Finding the hubs scans every hub property (most of the cost: ~4 s of ~6 s at 1M
    corporations). With ``find=False`` the hubs listed by the previous generation's file (copied
    into this one) are recounted instead: a diff rarely makes a new hub, and a hub it misses is
    only counted on its page's first view, exactly as before.

    The file keeps each hub's count per graph, so that a diff need not recount a hub of a million
    links either (7 s at 1M corporations, 16 s through an engine's layers at 200k): when the file
    was counted for ``previous`` (the generation this one was built from), the graphs in
    ``carried`` move by the (property, object) references the load added and removed there, those
    in ``rewritten`` are counted again (the small graphs a load rewrites whole), and every other
    graph is as it was.
    """
    contributions = None if find or carried is None else _contributions(gen_dir, previous)
    if contributions is not None:
        hubs = {iri for _, iri, _ in contributions} | listed_hubs(gen_dir)
        contributions = _carried(store, contributions, hubs, carried, set(rewritten))
    else:
        hubs = set() if find else listed_hubs(gen_dir)
        if find or not hubs:
            hubs = _found(store, m, hub_min)
        contributions = _counted(store, hubs)
    totals: dict[str, dict[str, int]] = {iri: {} for iri in hubs}
    for (_, iri, p), n in sorted(contributions.items()):
        if n > 0:
            totals[iri][p] = totals[iri].get(p, 0) + n
    db = sqlite3.connect(gen_dir / FILENAME)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                         "DROP TABLE IF EXISTS counts; DROP TABLE IF EXISTS stamp; DROP TABLE IF EXISTS per_graph;"
                         "CREATE TABLE counts(iri TEXT PRIMARY KEY, counts TEXT);"
                         "CREATE TABLE per_graph(graph TEXT, iri TEXT, property TEXT, n INTEGER);"
                         "CREATE TABLE stamp(generation TEXT);")
        db.executemany("INSERT INTO counts VALUES (?, ?)", ((iri, json.dumps(totals[iri])) for iri in sorted(hubs)))
        db.executemany("INSERT INTO per_graph VALUES (?, ?, ?, ?)",
                       ((g, iri, p, n) for (g, iri, p), n in sorted(contributions.items()) if n > 0))
        db.execute("INSERT INTO stamp VALUES (?)", (gen_dir.name,))
        db.commit()
    finally:
        db.close()
    return len(hubs)


def _found(store: ReadStore, m: Minter, hub_min: int) -> set[str]:
    """Every object linked to through one hub property at least ``hub_min`` times."""
    hubs: set[str] = set()
    for p in hub_properties(m):
        query = f"SELECT ?o WHERE {{ GRAPH ?g {{ ?s <{p}> ?o }} }} GROUP BY ?o HAVING (COUNT(*) >= {hub_min})"
        hubs.update(str(s["o"]) for s in store.query(query) if isinstance(s["o"], IRI))
    return hubs


def _counted(store: ReadStore, hubs: set[str]) -> dict[tuple[str, str, str], int]:
    """(graph, hub, property) → links, counted in the store."""
    out = {}
    for iri in sorted(hubs):
        for r in store.query(f"SELECT ?g ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} GROUP BY ?g ?p"):
            out[(str(r["g"]), iri, str(r["p"]))] = int(r["n"].value)
    return out


def _carried(store: ReadStore, before: dict[tuple[str, str, str], int], hubs: set[str],
             carried: dict[str, Mapping[tuple[str, str], int]], rewritten: set[str]) -> dict[tuple[str, str, str], int]:
    """The previous generation's per-graph counts moved by a load's references (``carried``),
    the ``rewritten`` graphs counted again."""
    out = {k: n for k, n in before.items() if k[0] not in rewritten}
    for graph, delta in carried.items():
        for (p, o), n in delta.items():
            if o in hubs and n:
                out[(graph, o, p)] = out.get((graph, o, p), 0) + n
    for graph in sorted(rewritten):
        # the FILTER outside the GRAPH group: a load's one-pattern read of a graph it changes goes
        # through the engine's layer (kg.store.overlay), where the FILTER inside made it copy the
        # graph first (12 s of a national daily diff into Virtuoso)
        query = f"SELECT ?p ?o (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} FILTER(isIRI(?o)) }} GROUP BY ?p ?o"
        for r in store.query(query):
            if str(r["o"]) in hubs:
                out[(graph, str(r["o"]), str(r["p"]))] = int(r["n"].value)
    return out


def _contributions(gen_dir: Path, previous: str | None) -> dict[tuple[str, str, str], int] | None:
    """(graph, hub, property) → links, as counted for ``previous``; None when the file was not
    (another generation's, made before counts were kept per graph, or missing)."""
    if previous is None or _read(gen_dir, "SELECT generation FROM stamp") != [(previous,)]:
        return None
    rows = _read(gen_dir, "SELECT graph, iri, property, n FROM per_graph")
    if not rows and listed_hubs(gen_dir):
        return None
    return {(g, iri, p): n for g, iri, p, n in rows}


def _read(gen_dir: Path, sql: str) -> list[tuple]:
    """Rows of the generation's counts file, or none when it is missing or unreadable."""
    path = gen_dir / FILENAME
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.Error:
        return []
    finally:
        db.close()


def listed_hubs(gen_dir: Path) -> set[str]:
    """The hubs a counts file lists, whatever generation it was counted in."""
    return {iri for (iri,) in _read(gen_dir, "SELECT iri FROM counts")}


def read_hubs(gen_dir: Path) -> dict[str, dict[str, int]]:
    """The hub counts of a generation, or nothing when they were counted for another one."""
    if _read(gen_dir, "SELECT generation FROM stamp") != [(gen_dir.name,)]:
        return {}
    return {iri: json.loads(counts) for iri, counts in _read(gen_dir, "SELECT iri, counts FROM counts")}
