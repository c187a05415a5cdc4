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

from kg.rdf import IRI, RDF, ROV, SKOS
from kg.rdf.iri import Minter
from kg.store.describe import incoming_counts
from kg.store.interface import ReadStore

FILENAME = "kg-counts.sqlite"


def hub_properties(m: Minter) -> list[str]:
    """Properties whose objects are shared by many entities: places, classes, code concepts."""
    return [str(RDF.type), str(ROV.orgStatus), str(ROV.orgType), str(SKOS.inScheme)] + [
        str(m.term(name)) for name in ("process", "municipality", "prefecture", "addressMatchLevel", "closeCause")]


def count_hubs(store: ReadStore, m: Minter, gen_dir: Path, *, find: bool = True, hub_min: int = 1000) -> int:
    """Count the incoming links of every hub of the store into the generation's counts file.

    Finding the hubs scans every hub property (most of the cost: ~4 s of ~6 s at 1M
    corporations). With ``find=False`` the hubs listed by the previous generation's file (copied
    into this one) are recounted instead: a diff rarely makes a new hub, and a hub it misses is
    only counted on its page's first view, exactly as before.
    """
    hubs = set() if find else _listed(gen_dir)
    if find or not hubs:
        for p in hub_properties(m):
            query = f"SELECT ?o WHERE {{ GRAPH ?g {{ ?s <{p}> ?o }} }} GROUP BY ?o HAVING (COUNT(*) >= {hub_min})"
            hubs.update(str(s["o"]) for s in store.query(query) if isinstance(s["o"], IRI))
    db = sqlite3.connect(gen_dir / FILENAME)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                         "DROP TABLE IF EXISTS counts; DROP TABLE IF EXISTS stamp;"
                         "CREATE TABLE counts(iri TEXT PRIMARY KEY, counts TEXT);"
                         "CREATE TABLE stamp(generation TEXT);")
        db.executemany("INSERT INTO counts VALUES (?, ?)",
                       ((iri, json.dumps(incoming_counts(store, iri))) for iri in sorted(hubs)))
        db.execute("INSERT INTO stamp VALUES (?)", (gen_dir.name,))
        db.commit()
    finally:
        db.close()
    return len(hubs)


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


def _listed(gen_dir: Path) -> set[str]:
    """The hubs a counts file lists, whatever generation it was counted in."""
    return {iri for (iri,) in _read(gen_dir, "SELECT iri FROM counts")}


def read_hubs(gen_dir: Path) -> dict[str, dict[str, int]]:
    """The hub counts of a generation, or nothing when they were counted for another one."""
    if _read(gen_dir, "SELECT generation FROM stamp") != [(gen_dir.name,)]:
        return {}
    return {iri: json.loads(counts) for iri, counts in _read(gen_dir, "SELECT iri, counts FROM counts")}
