"""What one entity page shows: its triples, labels of what it links to, incoming links counted
per property and paged (a prefecture has millions: they are never loaded whole)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.iri import Minter

LABELS = ("http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel",
          "http://data.europa.eu/eli/ontology#title", "http://purl.org/dc/terms/title")
INCOMING_PAGE = 20


def _term(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "iri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    out = {"type": "literal", "value": t.value}
    if t.language:
        out["lang"] = t.language
    else:
        out["datatype"] = t.datatype.value
    return out


def labels_of(store: ox.Store, iri: str) -> dict[str, str]:
    """{language: label} of a resource, from any graph (first label per language wins)."""
    out: dict[str, str] = {}
    node = ox.NamedNode(iri)
    for p in LABELS:
        for q in store.quads_for_pattern(node, ox.NamedNode(p), None, None):
            if isinstance(q.object, ox.Literal):
                out.setdefault(q.object.language or "", q.object.value)
    return out


@dataclass
class Description:
    iri: str
    triples: list[ox.Quad] = field(default_factory=list)       # own + fragment nodes
    incoming: list[ox.Quad] = field(default_factory=list)      # one page per property
    incoming_counts: dict[str, int] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    siblings: dict[str, str] = field(default_factory=dict)    # "previous"/"next" → IRI (law structure)

    @property
    def found(self) -> bool:
        return bool(self.triples or self.incoming_counts)


@dataclass
class GenerationCache:
    """What pages of one generation (which never changes) keep learning: the incoming-link counts
    of the entities shown and the labels of the things they link to (properties, code concepts,
    municipalities recur on every page). Bounded: a crawler walking every entity starts it over."""

    hubs: dict[str, dict[str, int]] = field(default_factory=dict)   # counted at load time (kg.hubs)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    limit: int = 200_000

    def __post_init__(self) -> None:
        self.counts = dict(self.hubs)  # what a trim starts over from

    def trim(self) -> None:
        if len(self.counts) + len(self.labels) > self.limit:
            self.counts = dict(self.hubs)
            self.labels.clear()


def incoming_counts(store: ox.Store, iri: str) -> dict[str, int]:
    """How many links point at ``iri``, by property: counted in the store, never loaded."""
    counts = store.query(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} GROUP BY ?p")
    return {s["p"].value: int(s["n"].value) for s in counts}


def describe(store: ox.Store, iri: str, m: Minter, *, prop: str | None = None, offset: int = 0,
             limit: int = INCOMING_PAGE, cache: GenerationCache | None = None) -> Description:
    """An entity's own triples (with its fragment nodes), one page of incoming links per property,
    the labels of everything shown and, for law structure, its neighbours.

    Incoming links are paged in the store's index order: an ORDER BY would sort all of a
    prefecture's million corporations to show twenty. ``cache`` (one per generation) keeps counts
    and labels already looked up, so a hub's page costs the same as any other.
    """
    d = Description(iri)
    node = ox.NamedNode(iri)
    own = iri + "#"
    seen_nodes = {iri}
    frontier = [node]
    while frontier:
        s = frontier.pop()
        for q in store.quads_for_pattern(s, None, None, None):
            d.triples.append(q)
            o = q.object
            if isinstance(o, ox.NamedNode) and o.value.startswith(own) and o.value not in seen_nodes:
                seen_nodes.add(o.value)
                frontier.append(o)
    cache = cache if cache is not None else GenerationCache()
    cache.trim()
    counts = cache.counts.get(iri)
    if counts is None:
        counts = cache.counts[iri] = incoming_counts(store, iri)
    d.incoming_counts = dict(counts)
    for p in d.incoming_counts:
        if prop is not None and p != prop:
            start = 0
        else:
            start = offset
        q = f"SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s <{p}> <{iri}> }} }} LIMIT {limit} OFFSET {start}"
        for sol in store.query(q):
            d.incoming.append(ox.Quad(sol["s"], ox.NamedNode(p), node, sol["g"]))
    d.siblings = _siblings(store, node, m)
    wanted = {iri} | set(d.siblings.values())
    for q in d.triples + d.incoming:
        wanted.add(q.predicate.value)
        for t in (q.subject, q.object):
            if isinstance(t, ox.NamedNode):
                wanted.add(t.value)
    for w in wanted:
        found = cache.labels.get(w)
        if found is None:
            found = cache.labels[w] = labels_of(store, w)
        if found:
            d.labels[w] = found
    return d


def description_json(d: Description, attributions: dict[str, dict[str, str]]) -> dict:
    """The page's data as plain JSON (it crosses from the query worker to the web process)."""
    return {
        "iri": d.iri,
        "triples": [{"s": _term(q.subject), "p": q.predicate.value, "o": _term(q.object),
                     "g": q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else None} for q in d.triples],
        "incoming": [{"s": _term(q.subject), "p": q.predicate.value,
                      "g": q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else None} for q in d.incoming],
        "incoming_counts": d.incoming_counts,
        "labels": d.labels,
        "siblings": d.siblings,
        "attributions": attributions,
    }


def description_triples(d: Description) -> list[ox.Triple]:
    """The entity's RDF: own and fragment triples, labels of what it links to, a page of incoming."""
    out = [q.triple for q in d.triples] + [q.triple for q in d.incoming]
    label = ox.NamedNode(LABELS[0])
    own = {q.subject.value for q in d.triples}
    for iri, labels in d.labels.items():
        if iri in own:
            continue
        for lang, text in labels.items():
            out.append(ox.Triple(ox.NamedNode(iri), label, ox.Literal(text, language=lang) if lang else ox.Literal(text)))
    return list(dict.fromkeys(out))


def attributions(store: ox.Store, m: Minter, graphs: set[str]) -> dict[str, dict[str, str]]:
    """Title, licence and required attribution of each dataset graph the page shows data from."""
    out = {}
    meta = ox.NamedNode(m.graph("meta"))
    for g in graphs:
        node = ox.NamedNode(g)
        info = {}
        for q in store.quads_for_pattern(node, None, None, meta):
            key = q.predicate.value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            if isinstance(q.object, ox.Literal) and (q.object.language in ("ja", "") or key not in info):
                info[key] = q.object.value
            elif isinstance(q.object, ox.NamedNode) and key == "license":
                info["license"] = q.object.value
        if "attributionText" in info:
            out[g] = {k: info[k] for k in ("title", "attributionText", "license", "modified") if k in info}
    return out


IS_PART_OF = "http://data.europa.eu/eli/ontology#is_part_of"


def _siblings(store: ox.Store, node: ox.NamedNode, m: Minter) -> dict[str, str]:
    """Previous and next part of the same whole (articles of a chapter, paragraphs of an article)."""
    order_p = ox.NamedNode(m.term("order"))
    mine = [q.object for q in store.quads_for_pattern(node, order_p, None, None)]
    parents = [q.object for q in store.quads_for_pattern(node, ox.NamedNode(IS_PART_OF), None, None)]
    if not mine or not parents:
        return {}
    try:
        position = int(mine[0].value)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for q in store.quads_for_pattern(None, ox.NamedNode(IS_PART_OF), parents[0], None):
        for o in store.quads_for_pattern(q.subject, order_p, None, None):
            try:
                n = int(o.object.value)
            except ValueError:
                continue
            if n == position - 1:
                out["previous"] = q.subject.value
            elif n == position + 1:
                out["next"] = q.subject.value
    return out
