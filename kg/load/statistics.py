"""Load-time statistics: the aggregates researchers ask first, kept as small RDF Data Cubes.

Corporations per prefecture and kind, closures per year, corporations per municipality and how
many of them link to a 町字, corporations per address match level: as live SPARQL aggregates these read every corporation (12–26 s at
a million, past any time limit at the NTA's 5.3 million). So each load keeps them up to date by
what it writes, as it keeps the content digest (:mod:`kg.load.digest`): a corporation written
adds one to the cells its new description falls in, the description it replaces (the quads an
upsert removes) takes one from its old cells, a ``kg:town`` link added or removed moves its
municipality's linked count, and a ``kg:addressMatchLevel`` link its level's. A daily diff of 3,000 rows changes 6,000 cells; it never reads the
rest of the graph. When the previous counts are unknown (a store loaded before these existed, or
changed by a SPARQL Update, which drops them), the load counts them in the store once.

The cubes live in the graph ``graph/statistics`` as W3C RDF Data Cube observations
(https://www.w3.org/TR/vocab-data-cube/ §6: ``qb:Observation``, one per cell, with its
``qb:dataSet``, dimension values and measure)::

    SELECT ?prefecture ?kind (SUM(?n) AS ?corporations) WHERE { GRAPH graph:statistics {
      ?o qb:dataSet stat:corporations-per-prefecture-kind-status ;
         kg:refPrefecture ?prefecture ; kg:refKind ?kind ; kg:corporations ?n } }
    GROUP BY ?prefecture ?kind

>>> from kg.rdf.iri import Minter
>>> m = Minter("http://x/")
>>> t = Tally(m, {})
>>> corp = "http://x/id/corporation/1"
>>> t.add_entity(corp, [(corp, str(RDF.type), str(ROV.RegisteredOrganization)),
...                     (corp, str(m.term("prefecture")), "http://x/id/prefecture/130001"),
...                     (corp, str(m.term("closeDate")), Literal("2021-07-12", XSD.date))])
>>> sorted(t.counts.items())
[(('closures', '2021', ''), 1), (('municipality', ''), 1), (('prefecture-kind-status', 'http://x/id/prefecture/130001', '', ''), 1)]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator

from kg.rdf import IRI, QB as QB_NS, Literal, RDF, RDFS, ROV, XSD, Triple, integer, nquad
from kg.rdf.iri import Minter, segment
from kg.store.interface import Quad, ReadStore, WriteStore

QB = str(QB_NS)

@dataclass(frozen=True)
class Cube:
    slug: str                 # its qb:DataSet is {id}statistics/{slug}
    ja: str
    en: str
    dimensions: tuple[str, ...]   # kg terms
    measure: str                  # a kg term


CUBES: dict[str, Cube] = {
    "prefecture-kind-status": Cube("corporations-per-prefecture-kind-status", "都道府県・法人種別・状態ごとの法人数",
                                   "Corporations per prefecture, kind and status",
                                   ("refPrefecture", "refKind", "refStatus"), "corporations"),
    "closures": Cube("closures-per-year", "年・閉鎖事由ごとの登記記録の閉鎖数", "Closures per year and close cause",
                     ("refYear", "refCloseCause"), "closures"),
    "municipality": Cube("corporations-per-municipality", "市区町村ごとの法人数", "Corporations per municipality",
                         ("refMunicipality",), "corporations"),
    "municipality-linked": Cube("corporations-linked-to-town-per-municipality", "市区町村ごとの町字に結び付いた法人数",
                                "Corporations per municipality linked to a 町字 (kg:town)",
                                ("refMunicipality",), "corporations"),
    "match-level": Cube("corporations-per-address-match-level", "住所照合の水準ごとの法人数",
                        "Corporations per address match level (kg:addressMatchLevel)", ("refMatchLevel",),
                        "corporations"),
}
#: the cubes a houjin load writes from corporations, and those the links step writes
ENTITY_CUBES = ("prefecture-kind-status", "closures", "municipality")
LINK_CUBES = ("municipality-linked", "match-level")


def dataset_iri(m: Minter, cube: str) -> IRI:
    return m.statistics(CUBES[cube].slug)


class Tally:
    """The cells of every cube (cube, *dimension values) → count, as a load changes them.

    ``counts`` is None when the counts the load started from are unknown: then nothing is
    tallied and the store is counted after the load (:func:`count_in_store`).
    """

    def __init__(self, m: Minter, counts: dict[tuple, int] | None):
        self.m = m
        self.counts: Counter | None = None if counts is None else Counter(counts)
        self._p = {name: str(m.term(name)) for name in ("prefecture", "municipality", "closeDate", "closeCause")}
        self._registered = str(ROV.RegisteredOrganization)

    # ---- what one corporation counts in ----------------------------------------------------------

    def cells(self, pairs: Iterable[tuple[str, object]]) -> list[tuple]:
        """The cells of one corporation, from its own (predicate, object) pairs; none for any
        other subject. Several values of a property (never in NTA data): the least counts."""
        found: dict[str, list[str]] = {}
        for p, o in pairs:
            found.setdefault(str(p), []).append(o.value if isinstance(o, Literal) else str(o))
        if self._registered not in found.get(str(RDF.type), ()):
            return []
        one = {k: min(v) for k, v in found.items()}
        p = self._p
        out = [("prefecture-kind-status", one.get(p["prefecture"], ""), one.get(str(ROV.orgType), ""),
                one.get(str(ROV.orgStatus), "")),
               ("municipality", one.get(p["municipality"], ""))]
        close = one.get(p["closeDate"])
        if close:
            out.append(("closures", close[:4], one.get(p["closeCause"], "")))
        return out

    def _move(self, cells: Iterable[tuple], sign: int) -> None:
        if self.counts is not None:
            for cell in cells:
                self.counts[cell] += sign

    # ---- fed by the load ----------------------------------------------------------------------------

    def add_entity(self, focus: str, triples: Iterable[Triple]) -> None:
        """A description written for ``focus`` (its own triples count; fragment nodes do not)."""
        if self.counts is not None:
            self._move(self.cells((p, o) for s, p, o in triples if s == focus), 1)

    def add_cells(self, cells: dict[tuple, int]) -> None:
        """Cells counted elsewhere (a column mapping of plain rows, :mod:`loaders.houjin_columns`)."""
        if self.counts is not None:
            self.counts.update(cells)

    def remove_quads(self, quads: Iterable[Quad]) -> None:
        """Quads removed from the dataset graph (an upsert's old descriptions, a deletion)."""
        if self.counts is None:
            return
        by_subject: dict[str, list] = {}
        for q in quads:
            by_subject.setdefault(str(q.subject), []).append((q.predicate, q.object))
        for pairs in by_subject.values():
            self._move(self.cells(pairs), -1)

    def link(self, town: str, sign: int) -> None:
        """A ``kg:town`` link added (+1) or removed (-1): its town's municipality moves."""
        if self.counts is not None:
            self.counts[("municipality-linked", self.m.municipality_of_town(town))] += sign

    def level(self, level: str, sign: int) -> None:
        """A ``kg:addressMatchLevel`` link added (+1) or removed (-1)."""
        if self.counts is not None:
            self.counts[("match-level", level)] += sign

    def reset(self, cubes: Iterable[str]) -> None:
        """The graph these cubes count was emptied (a fresh or replaced dataset, a full relink)."""
        if self.counts is not None:
            for cell in [c for c in self.counts if c[0] in cubes]:
                del self.counts[cell]

    def reset_links(self) -> None:
        """The links graph is rebuilt from nothing (a full relink)."""
        self.reset(LINK_CUBES)

    def merge(self, counts: dict[tuple, int]) -> None:
        """Cells tallied elsewhere (the child process of a streamed load)."""
        if self.counts is not None:
            self.counts.update(counts)

    def state(self) -> dict | None:
        return None if self.counts is None else dict(self.counts)

    def restore(self, state: dict | None) -> None:
        self.counts = None if state is None else Counter(state)


# ---- the statistics graph ----------------------------------------------------------------------------

def recorded(store: ReadStore, m: Minter) -> dict[tuple, int] | None:
    """The cells the last load wrote, or None when there are none (never kept, or dropped) or
    a cube is missing (written by a kg that did not keep it yet)."""
    graph = m.graph("statistics")
    if not store.has(graph=graph):
        return None
    cube_of = {str(dataset_iri(m, c)): c for c in CUBES}
    rows: dict[str, dict] = {}
    for q in store.quads(None, None, None, graph):
        rows.setdefault(str(q.subject), {})[str(q.predicate)] = q.object
    if any(str(RDF.type) not in rows.get(ds, {}) for ds in cube_of):
        return None
    out: dict[tuple, int] = {}
    for row in rows.values():
        cube = cube_of.get(str(row.get(QB + "dataSet", "")))
        if cube is None:
            continue
        c = CUBES[cube]
        key = tuple(_value(row.get(str(m.term(d)))) for d in c.dimensions)
        out[(cube, *key)] = int(row[str(m.term(c.measure))].value)
    return out


def _value(term) -> str:
    if term is None:
        return ""
    return term.value if isinstance(term, Literal) else str(term)


def triples(m: Minter, counts: dict[tuple, int]) -> Iterator[Triple]:
    """The cubes as Data Cube observations (cells counting zero are left out)."""
    for cube, c in CUBES.items():
        ds = dataset_iri(m, cube)
        yield ds, RDF.type, IRI(QB + "DataSet")
        yield ds, RDFS.label, Literal(c.ja, None, "ja")
        yield ds, RDFS.label, Literal(c.en, None, "en")
        yield ds, IRI(QB + "structure"), m.term(f"statistics-{cube}")
    for cell, n in sorted(counts.items()):
        if n <= 0:
            continue
        cube, key = cell[0], cell[1:]
        c = CUBES[cube]
        ds = dataset_iri(m, cube)
        obs = m.fragment(ds, "-".join(segment(v.rsplit("/", 1)[-1]) if v else "none" for v in key))
        yield obs, RDF.type, IRI(QB + "Observation")
        yield obs, IRI(QB + "dataSet"), ds
        for name, value in zip(c.dimensions, key):
            if not value:
                continue
            yield obs, m.term(name), (Literal(value, XSD.gYear) if name == "refYear" else IRI(value))
        yield obs, m.term(c.measure), integer(n)


def resume(store: ReadStore, m: Minter) -> Tally:
    """The tally a load continues: the recorded cells, zero before anything they count was
    loaded, else unknown (counted in the store when the load saves them)."""
    counts = recorded(store, m)
    if counts is None and not store.has(graph=m.graph("houjin")) and not store.has(graph=m.graph("links")):
        counts = {}
    return Tally(m, counts)


def save(store: WriteStore, m: Minter, tally: Tally) -> None:
    """The cubes as tallied, or counted in the store when the start was unknown."""
    write(store, m, tally.counts if tally.counts is not None else count_in_store(store, m))


def clear(store: WriteStore, m: Minter) -> None:
    """Empty the statistics graph (a build does it before its bulk loads: see ``kg.load.pipeline``)."""
    graph = m.graph("statistics")
    if store.has(graph=graph):
        store.remove_graph(graph)


def write(store: WriteStore, m: Minter, counts: dict[tuple, int]) -> None:
    """Replace the statistics graph with these counts (bulk-loaded: only a build writes them)."""
    clear(store, m)
    graph = m.graph("statistics")
    store.add(text="".join(nquad(s, p, o, graph) for s, p, o in triples(m, counts)), fmt="nquads", bulk=True)


def count_in_store(store: ReadStore, m: Minter) -> dict[tuple, int]:
    """Every cell counted in the store (the fallback when a load cannot carry them forward): one
    GROUP BY per cube, so the engine aggregates and only the cells come back (reading one row per
    corporation into Python took 847 s at 5.3 million). A property with several values (never
    written by the houjin mapping) counts the corporation in each of its cells."""
    houjin, links = m.graph("houjin"), m.graph("links")
    p = {name: str(m.term(name)) for name in ("prefecture", "municipality", "closeDate", "closeCause",
                                               "town", "addressMatchLevel")}
    is_corporation = f"?c a <{ROV.RegisteredOrganization}>"
    counts: Counter = Counter()

    def cells(cube: str, where: str, names: tuple[str, ...]) -> None:
        head = " ".join(f"?{n}" for n in names)
        for r in store.query(f"SELECT {head} (COUNT(?c) AS ?n) WHERE {{ {where} }} GROUP BY {head}"):
            counts[(cube, *(_value(r[n]) for n in names))] += int(r["n"].value)

    cells("prefecture-kind-status", f"GRAPH <{houjin}> {{ {is_corporation} OPTIONAL {{ ?c <{p['prefecture']}> ?a }} "
          f"OPTIONAL {{ ?c <{ROV.orgType}> ?b }} OPTIONAL {{ ?c <{ROV.orgStatus}> ?s }} }}", ("a", "b", "s"))
    cells("municipality", f"GRAPH <{houjin}> {{ {is_corporation} OPTIONAL {{ ?c <{p['municipality']}> ?a }} }}", ("a",))
    cells("closures", f"GRAPH <{houjin}> {{ {is_corporation} ; <{p['closeDate']}> ?d "
          f"OPTIONAL {{ ?c <{p['closeCause']}> ?b }} }} BIND(SUBSTR(STR(?d), 1, 4) AS ?a)", ("a", "b"))
    for r in store.query(f"SELECT ?t (COUNT(?c) AS ?n) WHERE {{ GRAPH <{links}> {{ ?c <{p['town']}> ?t }} }} GROUP BY ?t"):
        counts[("municipality-linked", m.municipality_of_town(str(r["t"])))] += int(r["n"].value)
    cells("match-level", f"GRAPH <{links}> {{ ?c <{p['addressMatchLevel']}> ?a }}", ("a",))
    return {cell: n for cell, n in counts.items() if n}
