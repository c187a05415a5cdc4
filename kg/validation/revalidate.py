"""``kg validate``: re-check what is in the store against the shapes (after shapes change, say).

Each entity is checked as a load checks it: its subject with its fragment nodes
(:meth:`kg.store.interface.ReadStore.entity`), against the dataset's compiled shapes. What no
single entity shows (a reference to an entity the store lacks) is :mod:`kg.validation.integrity`'s.
"""

from __future__ import annotations

from kg.rdf import IRI, LOCN, RDF
from kg.rdf.iri import Minter
from kg.store.interface import ReadStore
from kg.validation.compiler import Violation
from kg.validation.shapes import validator_for

def revalidate(store: ReadStore, dataset: str, m: Minter) -> tuple[int, list[Violation]]:
    """(entities checked, violations) of one dataset's graph."""
    validator = validator_for(dataset, m.base)
    graph = m.graph(dataset)
    # fragment nodes are checked with their owner, except past records (a class of their own)
    top_level = validator.target_classes - {str(LOCN.Address)}
    checked = 0
    violations: list[Violation] = []
    seen: set[str] = set()
    batch: list[str] = []

    def check() -> None:
        for quads in store.entities(batch, graph).values():
            violations.extend(validator.check([(str(e.subject), e.predicate, e.object) for e in quads]))
        batch.clear()

    for cls in sorted(validator.target_classes):
        for q in store.quads(None, str(RDF.type), IRI(cls), graph):
            subject = q.subject
            if not isinstance(subject, IRI) or subject in seen:
                continue
            if "#" in subject and cls not in top_level:
                continue
            seen.add(str(subject))
            checked += 1
            batch.append(str(subject))
            if len(batch) >= store.subjects_per_read:  # one engine request per level of fragments
                check()
    check()
    return checked, violations
