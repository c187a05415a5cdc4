"""The vocabularies we reuse (README, "What the graph looks like": reuse first), as namespaces of IRIs.

>>> DCTERMS.title
'http://purl.org/dc/terms/title'
"""

from __future__ import annotations

from kg.rdf.terms import IRI


class Namespace:
    """``DCTERMS.title`` → IRI. Not a ``str`` subclass: ``str.title`` would shadow the term."""

    __slots__ = ("uri",)

    def __init__(self, uri: str):
        self.uri = uri

    def __getattr__(self, name: str) -> IRI:
        if name.startswith("__"):
            raise AttributeError(name)
        return IRI(self.uri + name)

    def __getitem__(self, name: str) -> IRI:
        return IRI(self.uri + name)

    def __str__(self) -> str:
        return self.uri


RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VOID = Namespace("http://rdfs.org/ns/void#")
PROV = Namespace("http://www.w3.org/ns/prov#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
ROV = Namespace("http://www.w3.org/ns/regorg#")
ORG = Namespace("http://www.w3.org/ns/org#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
SH = Namespace("http://www.w3.org/ns/shacl#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
IC = Namespace("http://imi.go.jp/ns/core/rdf#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
QB = Namespace("http://purl.org/linked-data/cube#")

#: Prefixes shown to users (query UI, Turtle output); our own are added by :mod:`kg.rdf.iri`.
STANDARD_PREFIXES: dict[str, str] = {
    "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD), "owl": str(OWL), "skos": str(SKOS),
    "dcterms": str(DCTERMS), "dcat": str(DCAT), "void": str(VOID), "prov": str(PROV),
    "foaf": str(FOAF), "rov": str(ROV), "org": str(ORG), "adms": str(ADMS), "locn": str(LOCN),
    "geo": str(GEO), "eli": str(ELI), "cpsv": str(CPSV), "cv": str(CV), "sh": str(SH),
    "spdx": str(SPDX), "ic": str(IC), "qb": str(QB),
}

