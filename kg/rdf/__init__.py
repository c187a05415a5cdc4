"""RDF as this project writes it: terms, the reused vocabularies, and (in :mod:`kg.rdf.iri`) the
one minter of our own IRIs. Nothing here touches a store; :mod:`kg.store` converts to its engine.
"""

from kg.rdf.terms import BNode, IRI, Literal, Term, Triple, boolean, date, integer, nquad, term_nt
from kg.rdf.vocab import (ADMS, CPSV, CV, DCAT, DCTERMS, ELI, FOAF, GEO, IC, LOCN, ORG, OWL, PROV, QB, RDF, RDFS, ROV,
                          SD, SH, SKOS, SPDX, STANDARD_PREFIXES, VOID, XSD, Namespace)

__all__ = ["BNode", "IRI", "Literal", "Term", "Triple", "boolean", "date", "integer", "nquad", "term_nt",
           "ADMS", "CPSV", "CV", "DCAT", "DCTERMS", "ELI", "FOAF", "GEO", "IC", "LOCN", "ORG", "OWL", "PROV", "QB", "RDF",
           "RDFS", "ROV", "SD", "SH", "SKOS", "SPDX", "STANDARD_PREFIXES", "VOID", "XSD", "Namespace"]
