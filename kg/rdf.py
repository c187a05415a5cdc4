"""Lightweight RDF terms and N-Quads text, for mapping millions of records fast.

Mapping writes text, not objects (DESIGN.md: 400k+ triples/s as text, far fewer as rdflib or
pyoxigraph objects). A term is an :class:`IRI` (a ``str``), a :class:`Literal` or a blank node.

>>> nquad(IRI("http://x/s"), IRI("http://x/p"), Literal("名前", lang="ja"), IRI("http://x/g"))
'<http://x/s> <http://x/p> "名前"@ja <http://x/g> .\\n'
>>> Literal.typed("2021-07-14", XSD.date).nt()
'"2021-07-14"^^<http://www.w3.org/2001/XMLSchema#date>'
"""

from __future__ import annotations

from typing import NamedTuple, Union


class IRI(str):
    """An IRI; a plain ``str`` subclass so it hashes and compares as its text."""

    __slots__ = ()

    def nt(self) -> str:
        return f"<{self}>"


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

#: Prefixes shown to users (query UI, Turtle output); our own are added by :mod:`kg.iri`.
STANDARD_PREFIXES: dict[str, str] = {
    "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD), "owl": str(OWL), "skos": str(SKOS),
    "dcterms": str(DCTERMS), "dcat": str(DCAT), "void": str(VOID), "prov": str(PROV),
    "foaf": str(FOAF), "rov": str(ROV), "org": str(ORG), "adms": str(ADMS), "locn": str(LOCN),
    "geo": str(GEO), "eli": str(ELI), "cpsv": str(CPSV), "cv": str(CV), "sh": str(SH),
    "spdx": str(SPDX), "ic": str(IC),
}

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


class Literal(NamedTuple):
    value: str
    datatype: str | None = None
    lang: str | None = None

    @classmethod
    def typed(cls, value: str, datatype: str) -> "Literal":
        return cls(value, datatype, None)

    def nt(self) -> str:
        value = self.value
        if '"' in value or "\\" in value or "\n" in value or "\r" in value or "\t" in value:
            value = value.translate(_ESCAPES)
        if self.lang:
            return f'"{value}"@{self.lang}'
        datatype = self.datatype
        if datatype and datatype != _XSD_STRING:
            return f'"{value}"^^<{datatype}>'
        return f'"{value}"'


class BNode(str):
    __slots__ = ()

    def nt(self) -> str:
        return f"_:{self}"


Term = Union[IRI, Literal, BNode]
Triple = tuple[str, str, Term]


def term_nt(term: Term | str) -> str:
    if isinstance(term, (Literal, BNode)):
        return term.nt()
    return f"<{term}>"


def nquad(s: str, p: str, o: Term, g: str | None = None) -> str:
    graph = f" <{g}>" if g else ""
    return f"{term_nt(s)} <{p}> {term_nt(o)}{graph} .\n"


def boolean(value: bool) -> Literal:
    return Literal("true" if value else "false", XSD.boolean)


def date(value: str) -> Literal:
    return Literal(value, XSD.date)


def integer(value: int | str) -> Literal:
    return Literal(str(value), XSD.integer)


def to_oxigraph(term: Term | str):
    """Convert one of our terms to a pyoxigraph term (for transactional writes)."""
    import pyoxigraph as ox

    if isinstance(term, Literal):
        if term.lang:
            return ox.Literal(term.value, language=term.lang)
        return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype or XSD.string))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    return ox.NamedNode(str(term))


def from_oxigraph(term) -> Term:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return IRI(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, None, term.language)
    return Literal(term.value, term.datatype.value, None)
