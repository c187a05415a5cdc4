"""What one entity page shows: its quads, labels of what it links to, incoming links counted
per property and paged (a prefecture has millions: they are never loaded whole)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.rdf import IRI, BNode, Literal, Term, Triple
from kg.rdf.iri import Minter
from kg.rdf.labels import LABEL_PROPERTIES
from kg.rdf.vocab import ELI, GEO, PROV, RDF, RDFS, SKOS, XSD
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
    incoming_classes: dict[str, dict[str, int]] = field(default_factory=dict)  # property → class → count
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    siblings: dict[str, str] = field(default_factory=dict)   # "previous"/"next" → IRI (law structure)
    parts: list[Quad] = field(default_factory=list)          # a law's (or part's) subdivisions, all levels
    facts: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # linked IRI → what a link shows
    part_text: frozenset[str] = frozenset()                  # the parts' predicates a page reads

    @property
    def found(self) -> bool:
        return bool(self.quads or self.incoming_counts)


@dataclass
class GenerationCache:
    """What pages of one generation (which never changes) keep learning: the incoming-link counts
    of the entities shown and the labels of the things they link to (properties, code concepts,
    municipalities recur on every page), the parts of the laws shown (one quad counts as one entry).
    Bounded: a crawler walking every entity starts it over."""

    hubs: dict[str, dict[str, int]] = field(default_factory=dict)   # counted at load time (kg.store.hubs)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    facts: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    classes: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    pages: dict[tuple, list[Quad]] = field(default_factory=dict)   # incoming pages of one class
    parts: dict[str, list[Quad]] = field(default_factory=dict)     # a law's text: thousands of quads
    part_quads: int = 0
    limit: int = 200_000

    def __post_init__(self) -> None:
        self.counts = dict(self.hubs)  # what a trim starts over from

    def trim(self) -> None:
        kept = len(self.counts) + len(self.labels) + len(self.facts) + len(self.classes) + len(self.pages)
        if kept + self.part_quads > self.limit:
            self.counts = dict(self.hubs)
            self.parts.clear()
            self.part_quads = 0
            self.labels.clear()
            self.facts.clear()
            self.classes.clear()
            self.pages.clear()


def incoming_counts(store: ReadStore, iri: str) -> dict[str, int]:
    """How many links point at ``iri``, by property: counted in the store, never loaded."""
    counts = store.query(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} GROUP BY ?p")
    return {str(s["p"]): int(s["n"].value) for s in counts}


def _subject_class(iri: str, p: str) -> str:
    """Each subject linking to ``iri`` through ``p`` with one class (the least IRI of its types, so a
    ward that is also a municipality counts once; "" when untyped)."""
    return (f"SELECT ?s (SAMPLE(?g0) AS ?g) (COALESCE(MIN(STR(?t0)), \"\") AS ?t) WHERE {{ GRAPH ?g0 {{ ?s <{p}> <{iri}> }} "
            f"OPTIONAL {{ GRAPH ?h {{ ?s a ?t0 }} }} }} GROUP BY ?s")


def incoming_class_counts(store: ReadStore, iri: str, p: str) -> dict[str, int]:
    """How many of the links to ``iri`` through ``p`` come from each class (\"\" for untyped)."""
    rows = store.query(f"SELECT ?t (COUNT(*) AS ?n) WHERE {{ {{ {_subject_class(iri, p)} }} }} GROUP BY ?t ORDER BY DESC(?n)")
    return {r["t"].value: int(r["n"].value) for r in rows}


def describe(store: ReadStore, iri: str, m: Minter, *, prop: str | None = None, offset: int = 0,
             limit: int = 20, cache: GenerationCache | None = None, cls: str | None = None,
             class_limit: int = 1000) -> Description:
    """An entity's own quads (with its fragment nodes), one page of incoming links per property,
    the labels of everything shown and, for law structure, its neighbours.

    Incoming links are paged in the store's index order: an ORDER BY would sort all of a
    prefecture's million corporations to show twenty. ``cache`` (one per generation) keeps counts
    and labels already looked up, so a hub's page costs the same as any other. A property with fewer
    than ``class_limit`` links is split by the class of what links (``cls`` pages one class).
    """
    d = Description(iri, quads=store.entity(iri))
    d.quads += _own_fragments_linking_in(store, iri, {str(q.subject) for q in d.quads})
    cache = cache if cache is not None else GenerationCache()
    cache.trim()
    if any(str(q.predicate) == _HAS_PART for q in d.quads):
        parts = cache.parts.get(iri)
        if parts is None:
            parts = cache.parts[iri] = parts_of(store, iri)
            cache.part_quads += len(parts)
        d.parts = list(parts)
        d.part_text = PART_TEXT | {str(m.term(t)) for t in ("order", "caption", "text", "amendLawNum", "extract")}
    counts = cache.counts.get(iri)
    if counts is None:
        counts = cache.counts[iri] = incoming_counts(store, iri)
    d.incoming_counts = dict(counts)
    for p, n in d.incoming_counts.items():
        if n < class_limit:
            key = (iri, p)
            by_class = cache.classes.get(key)
            if by_class is None:
                by_class = cache.classes[key] = incoming_class_counts(store, iri, p)
            d.incoming_classes[p] = dict(by_class)
            for c in by_class:
                start = offset if (prop is None or p == prop) and (cls is None or c == cls) else 0
                page_key = (iri, p, c, start, limit)
                page = cache.pages.get(page_key)
                if page is None:
                    q = (f"SELECT ?s ?g WHERE {{ {{ {_subject_class(iri, p)} }} FILTER({_string(c)} = ?t) }} "
                         f"ORDER BY ?s LIMIT {limit} OFFSET {start}")
                    page = cache.pages[page_key] = [Quad(sol["s"], p, IRI(iri), str(sol["g"])) for sol in store.query(q)]
                d.incoming.extend(page)
            continue
        start = offset if prop is None or p == prop else 0
        q = f"SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s <{p}> <{iri}> }} }} LIMIT {limit} OFFSET {start}"
        for sol in store.query(q):
            d.incoming.append(Quad(sol["s"], p, IRI(iri), str(sol["g"])))
    d.siblings = _siblings(store, iri, m)
    wanted = {iri} | set(d.siblings.values())
    linked: set[str] = set()
    part_iris = {str(q.subject) for q in d.parts}   # a law's parts are shown by number and title, not label
    for q in d.quads + d.incoming + d.parts:
        wanted.add(q.predicate)
        for t in (q.subject, q.object):
            if isinstance(t, IRI) and str(t) not in part_iris:
                wanted.add(str(t))
                linked.add(str(t))
    for q in d.incoming:  # what links in is named by its class, and a fragment by its entity
        wanted.add(str(q.subject).split("#", 1)[0])
        facts = cache.facts.get(str(q.subject))
        if facts is None:
            facts = cache.facts[str(q.subject)] = facts_of(store, str(q.subject))
        wanted.update(facts.get(str(RDF.type), []))
    for w in wanted:
        found = cache.labels.get(w)
        if found is None:
            found = cache.labels[w] = labels_of(store, w)
        if found:
            d.labels[w] = found
    own = {str(q.subject) for q in d.quads + d.parts}
    for w in linked - own:
        found = cache.facts.get(w)
        if found is None:
            found = cache.facts[w] = facts_of(store, w)
        if found:
            d.facts[w] = found
    return d


_HAS_PART = str(ELI.has_part)
_PART_OF = str(ELI.is_part_of)
#: what a link to a thing shows besides its label: its class (incoming links are grouped by it),
#: a revision's date (revisions of one law share a title), a place's point (a map link)
FACT_PROPERTIES: tuple[str, ...] = (str(RDF.type), str(ELI.version_date), str(SKOS.notation))


def facts_of(store: ReadStore, iri: str) -> dict[str, list[str]]:
    """Types, version date and point (WKT) of a linked resource."""
    out: dict[str, list[str]] = {}
    for p in FACT_PROPERTIES:
        values = [q.object.value if isinstance(q.object, Literal) else str(q.object) for q in store.quads(iri, p)]
        if values:
            out[p] = values
    for g in store.quads(iri, str(GEO.hasGeometry)):
        if isinstance(g.object, IRI):
            wkt = [q.object.value for q in store.quads(str(g.object), str(GEO.asWKT)) if isinstance(q.object, Literal)]
            if wkt:
                out[str(GEO.asWKT)] = wkt[:1]
    return out


def parts_of(store: ReadStore, iri: str, limit: int = 200_000) -> list[Quad]:
    """Every subdivision below ``iri`` (chapters, articles, paragraphs, 附則, 別表), all their quads:
    the law's text and its order (``kg:order`` among siblings) for the table of contents."""
    out: list[Quad] = []
    seen = {iri}
    frontier = [iri]
    while frontier and len(out) < limit:
        parent = frontier.pop()
        for q in store.quads(None, _PART_OF, IRI(parent)):
            child = str(q.subject)
            if child in seen or not isinstance(q.subject, IRI):
                continue
            seen.add(child)
            out.extend(store.quads(child))
            frontier.append(child)
    return out


def _own_fragments_linking_in(store: ReadStore, iri: str, have: set[str]) -> list[Quad]:
    """Past states of ``iri`` kept as its fragment nodes (a corporation's ``#record-…``, linked to
    it by ``prov:specializationOf``): part of its description, so its page and RDF hold its history."""
    prefix = iri + "#"
    out: list[Quad] = []
    for q in store.quads(None, str(PROV.specializationOf), IRI(iri)):
        s = str(q.subject)
        if s.startswith(prefix) and s not in have:
            found = [x for x in store.entity(s) if str(x.subject) not in have]
            out.extend(found)
            have.update(str(x.subject) for x in found)
    return out


#: what a page shows of a law's parts (its RDF has them all): order, kind, number, title, text
PART_TEXT = frozenset({str(ELI.is_part_of), str(ELI.type_subdivision), str(ELI.number), "http://purl.org/dc/terms/title"})


def description_json(d: Description, attributions: dict[str, dict[str, str]]) -> dict:
    """The page's data as plain JSON (it may cross from a query worker to the web process)."""
    return {
        "iri": d.iri,
        "triples": [{"s": term_json(q.subject), "p": q.predicate, "o": term_json(q.object), "g": q.graph}
                    for q in d.quads],
        "incoming": [{"s": term_json(q.subject), "p": q.predicate, "g": q.graph} for q in d.incoming],
        "incoming_counts": d.incoming_counts,
        "incoming_classes": d.incoming_classes,
        "labels": d.labels,
        "siblings": d.siblings,
        "parts": [{"s": term_json(q.subject), "p": q.predicate, "o": term_json(q.object)} for q in d.parts
                  if q.predicate in d.part_text],
        "facts": d.facts,
        "attributions": attributions,
    }


def description_triples(d: Description) -> list[Triple]:
    """The entity's RDF: own and fragment triples, labels of what it links to, a page of incoming."""
    out = [(q.subject, q.predicate, q.object) for q in d.quads + d.parts + d.incoming]
    own = {str(q.subject) for q in d.quads + d.parts}
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
    """Previous and next part in the law's order: the neighbours under the same parent (paragraphs
    of an article, articles of a chapter) and, for an article at a chapter's end, the article in
    the next (or previous) chapter, section or part."""
    order_p, part_of = m.term("order"), str(ELI.is_part_of)
    parents = [q.object for q in store.quads(iri, part_of)]
    position = _order(store, iri, order_p)
    if position is None or not parents:
        return {}
    out: dict[str, str] = {}
    for q in store.quads(None, part_of, parents[0]):
        n = _order(store, str(q.subject), order_p)
        if n == position - 1:
            out["previous"] = str(q.subject)
        elif n == position + 1:
            out["next"] = str(q.subject)
    if _kind(store, iri) != "article" or ("previous" in out and "next" in out):
        return out
    for name, step in (("previous", -1), ("next", 1)):
        if name not in out:
            found = _across(store, str(parents[0]), step, order_p, part_of)
            if found:
                out[name] = found
    return out


#: subdivisions that group articles (編, 章, 節, 款, 目): an article's neighbours may be in the next one
CONTAINERS = ("part", "chapter", "section", "subsection", "division")


def _order(store: ReadStore, iri: str, order_p: str) -> int | None:
    for q in store.quads(iri, order_p):
        try:
            return int(q.object.value)
        except ValueError:
            return None
    return None


def _kind(store: ReadStore, iri: str) -> str:
    for q in store.quads(iri, str(ELI.type_subdivision)):
        return str(q.object).rsplit("/", 1)[-1]
    return ""


def _children(store: ReadStore, iri: str, order_p: str, part_of: str) -> list[str]:
    return [c for _, c in sorted((_order(store, str(q.subject), order_p) or 0, str(q.subject))
                                 for q in store.quads(None, part_of, IRI(iri)))]


def _across(store: ReadStore, container: str, step: int, order_p: str, part_of: str) -> str | None:
    """The first article after (``step`` 1) or the last before (-1) ``container`` (a chapter,
    section, ...), in a following or preceding container of the same law or 附則; None at its ends.
    Only the containers on the way are read, never the whole law."""
    current = container
    while _kind(store, current) in CONTAINERS:
        up = [str(q.object) for q in store.quads(current, part_of)]
        if not up:
            return None
        siblings = _children(store, up[0], order_p, part_of)
        i = siblings.index(current) + step
        while 0 <= i < len(siblings):
            found = _edge_article(store, siblings[i], step, order_p, part_of)
            if found:
                return found
            i += step
        current = up[0]
    return None


def _edge_article(store: ReadStore, iri: str, step: int, order_p: str, part_of: str) -> str | None:
    """``iri`` if it is an article, else the first (or, going back, last) article inside it."""
    kind = _kind(store, iri)
    if kind == "article":
        return iri
    if kind not in CONTAINERS:
        return None
    children = _children(store, iri, order_p, part_of)
    for child in (children if step > 0 else reversed(children)):
        found = _edge_article(store, child, step, order_p, part_of)
        if found:
            return found
    return None


def _string(text: str) -> str:
    """A SPARQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
