"""What one entity page shows: its quads, labels of what it links to, incoming links counted
per property and paged (a prefecture has millions: they are never loaded whole)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.rdf import IRI, BNode, Literal, Term, Triple
from kg.rdf.iri import Minter
from kg.rdf.labels import LABEL_PROPERTIES
from kg.rdf.vocab import ELI, RDFS, XSD
from kg.store.interface import Quad, ReadStore


def term_json(t: Term) -> dict:
    if isinstance(t, Literal):
        out = {"type": "literal", "value": t.value}
        if t.lang:
            out["lang"] = t.lang
        else:
            out["datatype"] = t.datatype or str(XSD.string)
        return out
    if isinstance(t, BNode):
        return {"type": "bnode", "value": str(t)}
    return {"type": "iri", "value": str(t)}


def labels_of(store: ReadStore, iri: str) -> dict[str, str]:
    """{language: label} of a resource, from any graph (first label per language wins)."""
    out: dict[str, str] = {}
    for p in LABEL_PROPERTIES:
        for q in store.quads(iri, p):
            if isinstance(q.object, Literal):
                out.setdefault(q.object.lang or "", q.object.value)
    return out


@dataclass
class Description:
    iri: str
    quads: list[Quad] = field(default_factory=list)          # own + fragment nodes
    incoming: list[Quad] = field(default_factory=list)       # one page per property
    incoming_counts: dict[str, int] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    siblings: dict[str, str] = field(default_factory=dict)   # "previous"/"next" → IRI (law structure)

    @property
    def found(self) -> bool:
        return bool(self.quads or self.incoming_counts)


@dataclass
class GenerationCache:
    """What pages of one generation (which never changes) keep learning: the incoming-link counts
    of the entities shown and the labels of the things they link to (properties, code concepts,
    municipalities recur on every page). Bounded: a crawler walking every entity starts it over."""

    hubs: dict[str, dict[str, int]] = field(default_factory=dict)   # counted at load time (kg.store.hubs)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    limit: int = 200_000

    def __post_init__(self) -> None:
        self.counts = dict(self.hubs)  # what a trim starts over from

    def trim(self) -> None:
        if len(self.counts) + len(self.labels) > self.limit:
            self.counts = dict(self.hubs)
            self.labels.clear()


def incoming_counts(store: ReadStore, iri: str) -> dict[str, int]:
    """How many links point at ``iri``, by property: counted in the store, never loaded."""
    counts = store.query(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} GROUP BY ?p")
    return {str(s["p"]): int(s["n"].value) for s in counts}


def describe(store: ReadStore, iri: str, m: Minter, *, prop: str | None = None, offset: int = 0,
             limit: int = 20, cache: GenerationCache | None = None) -> Description:
    """An entity's own quads (with its fragment nodes), one page of incoming links per property,
    the labels of everything shown and, for law structure, its neighbours.

    Incoming links are paged in the store's index order: an ORDER BY would sort all of a
    prefecture's million corporations to show twenty. ``cache`` (one per generation) keeps counts
    and labels already looked up, so a hub's page costs the same as any other.
    """
    d = Description(iri, quads=store.entity(iri))
    cache = cache if cache is not None else GenerationCache()
    cache.trim()
    counts = cache.counts.get(iri)
    if counts is None:
        counts = cache.counts[iri] = incoming_counts(store, iri)
    d.incoming_counts = dict(counts)
    for p in d.incoming_counts:
        start = offset if prop is None or p == prop else 0
        q = f"SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s <{p}> <{iri}> }} }} LIMIT {limit} OFFSET {start}"
        for sol in store.query(q):
            d.incoming.append(Quad(sol["s"], p, IRI(iri), str(sol["g"])))
    d.siblings = _siblings(store, iri, m)
    wanted = {iri} | set(d.siblings.values())
    for q in d.quads + d.incoming:
        wanted.add(q.predicate)
        for t in (q.subject, q.object):
            if isinstance(t, IRI):
                wanted.add(str(t))
    for w in wanted:
        found = cache.labels.get(w)
        if found is None:
            found = cache.labels[w] = labels_of(store, w)
        if found:
            d.labels[w] = found
    return d


def description_json(d: Description, attributions: dict[str, dict[str, str]]) -> dict:
    """The page's data as plain JSON (it may cross from a query worker to the web process)."""
    return {
        "iri": d.iri,
        "triples": [{"s": term_json(q.subject), "p": q.predicate, "o": term_json(q.object), "g": q.graph}
                    for q in d.quads],
        "incoming": [{"s": term_json(q.subject), "p": q.predicate, "g": q.graph} for q in d.incoming],
        "incoming_counts": d.incoming_counts,
        "labels": d.labels,
        "siblings": d.siblings,
        "attributions": attributions,
    }


def description_triples(d: Description) -> list[Triple]:
    """The entity's RDF: own and fragment triples, labels of what it links to, a page of incoming."""
    out = [(q.subject, q.predicate, q.object) for q in d.quads + d.incoming]
    own = {str(q.subject) for q in d.quads}
    for iri, labels in d.labels.items():
        if iri in own:
            continue
        for lang, text in labels.items():
            out.append((IRI(iri), str(RDFS.label), Literal(text, None, lang or None)))
    return list(dict.fromkeys(out))


def attributions(store: ReadStore, m: Minter, graphs: set[str]) -> dict[str, dict[str, str]]:
    """Title, licence and required attribution of each dataset graph the page shows data from."""
    out = {}
    meta = m.graph("meta")
    for g in graphs:
        info: dict[str, str] = {}
        for q in store.quads(g, None, None, meta):
            key = q.predicate.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            if isinstance(q.object, Literal) and (q.object.lang in ("ja", None) or key not in info):
                info[key] = q.object.value
            elif isinstance(q.object, IRI) and key == "license":
                info["license"] = str(q.object)
        if "attributionText" in info:
            out[g] = {k: info[k] for k in ("title", "attributionText", "license", "modified") if k in info}
    return out


def _siblings(store: ReadStore, iri: str, m: Minter) -> dict[str, str]:
    """Previous and next part of the same whole (articles of a chapter, paragraphs of an article)."""
    order_p, part_of = m.term("order"), str(ELI.is_part_of)
    mine = [q.object for q in store.quads(iri, order_p)]
    parents = [q.object for q in store.quads(iri, part_of)]
    if not mine or not parents:
        return {}
    try:
        position = int(mine[0].value)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for q in store.quads(None, part_of, parents[0]):
        for o in store.quads(str(q.subject), order_p):
            try:
                n = int(o.object.value)
            except ValueError:
                continue
            if n == position - 1:
                out["previous"] = str(q.subject)
            elif n == position + 1:
                out["next"] = str(q.subject)
    return out
