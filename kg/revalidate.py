"""`kg validate`: re-check what is in the store against the shapes (after shapes change, say)."""

from __future__ import annotations

import pyoxigraph as ox

from kg.iri import Minter
from kg.pipeline import validator_for
from kg.rdf import RDF, from_oxigraph
from kg.validation import Violation


def entity_triples(store: ox.Store, subject: ox.NamedNode, graph: ox.NamedNode) -> list:
    """The subject's triples plus those of its fragment nodes (subject#...)."""
    own = subject.value + ("-" if "#" in subject.value else "#")
    out = []
    for q in store.quads_for_pattern(subject, None, None, graph):
        out.append((q.subject.value, q.predicate.value, from_oxigraph(q.object)))
        if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(own):
            for q2 in store.quads_for_pattern(q.object, None, None, graph):
                out.append((q2.subject.value, q2.predicate.value, from_oxigraph(q2.object)))
    return out


def revalidate(store: ox.Store, dataset: str, m: Minter) -> tuple[int, list[Violation]]:
    validator = validator_for(dataset, m.base)
    graph = ox.NamedNode(m.graph(dataset))
    checked = 0
    violations: list[Violation] = []
    seen: set[str] = set()
    for cls in sorted(validator.target_classes):
        for q in store.quads_for_pattern(None, ox.NamedNode(RDF.type), ox.NamedNode(cls), graph):
            subject = q.subject
            if not isinstance(subject, ox.NamedNode) or subject.value in seen:
                continue
            # fragment nodes are checked with their owner
            if "#" in subject.value and cls not in _top_level(validator):
                continue
            seen.add(subject.value)
            checked += 1
            violations.extend(validator.check(entity_triples(store, subject, graph)))
    return checked, violations


def _top_level(validator) -> set[str]:
    from kg.rdf import LOCN

    return validator.target_classes - {str(LOCN.Address)}
