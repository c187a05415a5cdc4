"""``kg validate``'s referential integrity: every IRI the data points at under the id namespace
(``{base}id/``) names an entity that some graph types (``rdf:type``).

The shapes see one entity at a time, so a parcel ``dcterms:isPartOf`` a town that no file ever
described, or a link to a corporation that was since deleted, conforms to them; only a look at
the whole store finds it. Every graph of a dataset is checked, and graph/links, whose links must
point at typed entities too.

One registry names another's entities by code (an NTA corporation its ABR municipality, a
program its prefecture) before that registry is loaded, if it ever is. Such a reference is only
noted while its registry (:data:`OWNERS`, by the IRI's first path segment) has no graph in the
store; once the registry is loaded, an entity it lacks is a problem like any other.

The store of a whole country holds hundreds of millions of triples, too many to walk through
Python or to collect in a set, so the check runs inside the engine, one query per predicate of the
graph (together about one pass over it). Most predicates point at few distinct things (a
parcel's town, its municipality, a code): their distinct IRI objects are fetched, at most
:data:`FEW`, and each is looked up once. A predicate with more (each entity's own point) is
checked triple by triple inside the engine (``FILTER NOT EXISTS``: slower, but memory stays flat
and only the objects found wanting are counted).
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.rdf import RDF
from kg.rdf.iri import Minter
from kg.store.interface import ReadStore

#: first path segment under {base}id/ → the dataset whose graph describes such entities
OWNERS = {"prefecture": "abr", "municipality": "abr", "town": "abr", "block": "abr", "residence": "abr",
          "parcel": "abr", "corporation": "houjin", "law": "laws", "law-revision": "laws", "program": "programs",
          "code": "codes"}

#: predicates (under {base}def/) that name an entity of the publisher's register which a partial
#: file need not hold: an NTA diff names each merged corporation's successor (承継先法人) without
#: including it, and a whole-country file does. Objects that name nothing are noted, not problems.
OUTSIDE_THE_FILE = frozenset({"successor"})

#: distinct objects of one predicate that are fetched and looked up one by one
FEW = 100_000

#: namespaces written as prefixes in messages (the rest is shown in full)
_SHORT = {"http://purl.org/dc/terms/": "dcterms:", "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
          "http://www.opengis.net/ont/geosparql#": "geo:", "http://www.w3.org/2004/02/skos/core#": "skos:",
          "http://www.w3.org/ns/prov#": "prov:", "http://www.w3.org/2002/07/owl#": "owl:"}


@dataclass(frozen=True)
class Dangling:
    """Objects of one predicate in one graph, of one kind, that name no typed entity."""

    dataset: str      # the graph's name: "abr", "houjin", ..., "links"
    predicate: str
    kind: str         # the objects' first path segment under {base}id/ ("town", "municipality", ...)
    count: int        # distinct objects
    example: str      # the smallest of them, for the message
    owner_loaded: bool = True   # False: they belong to a registry with no graph in the store (a note)
    outside: bool = False       # True: the predicate may name what the loaded files do not hold (a note)

    @property
    def problem(self) -> bool:
        return self.owner_loaded and not self.outside

    def message(self, m: Minter) -> str:
        noun = "object names" if self.count == 1 else "objects name"
        where = short(self.predicate, m)
        if not self.owner_loaded:
            return (f"{self.dataset}: {where}: {self.count:,} {noun} an entity of {OWNERS[self.kind]}, which is "
                    f"not loaded (not checked), e.g. <{self.example}>")
        if self.outside:
            return (f"{self.dataset}: {where}: {self.count:,} {noun} an entity the loaded files do not hold "
                    f"(the publisher's register does; noted, not a problem), e.g. <{self.example}>")
        return f"{self.dataset}: {where}: {self.count:,} {noun} no entity (no rdf:type in any graph), e.g. <{self.example}>"


def short(iri: str, m: Minter) -> str:
    """A predicate as the project's prefixes write it (``dcterms:isPartOf``, ``kg:town``)."""
    if iri.startswith(m.def_):
        return "kg:" + iri[len(m.def_):]
    for ns, prefix in _SHORT.items():
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return f"<{iri}>"


def predicates(store: ReadStore, graph: str) -> list[str]:
    """The predicates used in a graph (one scan, a handful of values)."""
    rows = store.query(f"SELECT DISTINCT ?p WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return sorted(row["p"].value for row in rows)


def dangling(store: ReadStore, dataset: str, m: Minter) -> list[Dangling]:
    """Per predicate of ``dataset``'s graph and kind of object, the objects under ``{base}id/`` that
    name no typed entity (problems, and notes for registries that are not loaded)."""
    graph = m.graph(dataset)
    loaded = set(store.named_graphs())
    out: list[Dangling] = []
    for p in predicates(store, graph):
        if p == str(RDF.type):
            continue
        found = _few_objects(store, graph, p, m)
        for kind, (count, example) in sorted((_in_engine(store, graph, p, m) if found is None else found).items()):
            owner = OWNERS.get(kind)
            out.append(Dangling(dataset, p, kind, count, example, owner is None or m.graph(owner) in loaded,
                                outside=p.startswith(m.def_) and p[len(m.def_):] in OUTSIDE_THE_FILE))
    return out


def _kind(iri: str, m: Minter) -> str:
    return iri[len(m.id):].split("/", 1)[0].split("#", 1)[0]


def _few_objects(store: ReadStore, graph: str, p: str, m: Minter) -> dict[str, tuple[int, str]] | None:
    """kind → (count, smallest) of the predicate's objects that name nothing, each of its distinct
    IRI objects looked up once (many a request); None if there are more than :data:`FEW` of them."""
    rows = store.query(f"SELECT DISTINCT ?o WHERE {{ GRAPH <{graph}> {{ ?s <{p}> ?o }} FILTER(isIRI(?o)) }} "
                       f"LIMIT {FEW + 1}")
    objects = [row["o"].value for row in rows]
    if len(objects) > FEW:
        return None
    ours = [o for o in objects if o.startswith(m.id)]
    # asked together (KG_SPARQL_SUBJECTS a request to an engine): one ASK each took 21 s for the
    # real ABR files on Virtuoso
    typed = {q.subject.value for q in store.quads_of(ours, [str(RDF.type)])}
    out: dict[str, tuple[int, str]] = {}
    for o in ours:
        if o not in typed:
            count, example = out.get(_kind(o, m), (0, o))
            out[_kind(o, m)] = (count + 1, min(example, o))
    return out


def _in_engine(store: ReadStore, graph: str, p: str, m: Minter) -> dict[str, tuple[int, str]]:
    """The same, triple by triple inside the engine (flat memory for predicates with many objects)."""
    rows = store.query(
        f"SELECT ?kind (COUNT(DISTINCT ?o) AS ?n) (MIN(STR(?o)) AS ?e) WHERE {{ GRAPH <{graph}> {{ ?s <{p}> ?o }} "
        f"FILTER(isIRI(?o) && STRSTARTS(STR(?o), \"{m.id}\")) FILTER NOT EXISTS {{ ?o a ?type }} "
        f"BIND(STRBEFORE(CONCAT(REPLACE(STRAFTER(STR(?o), \"{m.id}\"), \"#.*$\", \"\"), \"/\"), \"/\") AS ?kind) }} "
        f"GROUP BY ?kind")
    return {row["kind"].value: (int(row["n"].value), row["e"].value) for row in rows}
