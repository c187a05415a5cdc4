"""The format registry and content negotiation, in one place.

Each format the service speaks is one :class:`Format`: its name (what the store's serialisers
take), media type, page suffix, the short names a ``format``/``output`` parameter may use, and
the kinds of answer it can carry. The SPARQL endpoint, the entity pages, the catalogue, the
service description and the query UI all choose from :data:`FORMATS`; Accept headers are parsed
by werkzeug (q-values, wildcards and specificity as RFC 9110 §12.5.1 says).

>>> negotiate("text/turtle;q=0.5, application/ld+json", offered("graph")).name
'jsonld'
>>> negotiate("text/*;q=0.9, */*;q=0.1", [by_name("rdfxml"), by_name("turtle")]).name
'turtle'
>>> negotiate("image/png", offered("graph")) is None
True
>>> by_suffix(".ttl").media_type, by_short_name("srj").name
('text/turtle', 'json')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

#: what an answer is: SELECT solutions, an ASK boolean, RDF triples, or an HTML page
KINDS = ("solutions", "boolean", "graph", "page")


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    kinds: tuple[str, ...]
    #: page suffix (``/doc/…{suffix}``), if pages offer it
    suffix: str | None = None
    #: names accepted in a ``format``/``output`` parameter
    short_names: tuple[str, ...] = ()
    #: the W3C format IRI (http://www.w3.org/ns/formats/…) a service description lists
    w3c: str | None = None


#: every format, in the server's order of preference within each kind
FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", ("solutions", "boolean"), None, ("json", "srj"), "SPARQL_Results_JSON"),
    Format("xml", "application/sparql-results+xml", ("solutions", "boolean"), None, ("xml", "srx"), "SPARQL_Results_XML"),
    Format("csv", "text/csv", ("solutions",), None, ("csv",), "SPARQL_Results_CSV"),
    Format("tsv", "text/tab-separated-values", ("solutions",), None, ("tsv",), "SPARQL_Results_TSV"),
    Format("json", "application/json", ("solutions", "boolean")),
    Format("xml", "application/xml", ("solutions", "boolean")),
    Format("html", "text/html", ("page",), ".html"),
    Format("turtle", "text/turtle", ("graph",), ".ttl", ("turtle", "ttl", "n3"), "Turtle"),
    Format("ntriples", "application/n-triples", ("graph",), ".nt", ("nt", "ntriples", "n-triples"), "N-Triples"),
    Format("jsonld", "application/ld+json", ("graph",), ".jsonld", ("jsonld", "json-ld", "json"), "JSON-LD"),
    Format("rdfxml", "application/rdf+xml", ("graph",), ".rdf", ("rdfxml", "rdf", "xml"), "RDF_XML"),
    Format("nquads", "application/n-quads", ("graph",), None, ("nq", "nquads"), "N-Quads"),
    Format("trig", "application/trig", ("graph",), None, ("trig",), "TriG"),
    Format("ntriples", "text/plain", ("graph",)),
)

#: the order in which pages, the catalogue and the service description offer RDF
PAGE_RDF = ("turtle", "jsonld", "rdfxml", "ntriples")


def offered(kind: str) -> list[Format]:
    """The formats that can carry an answer of ``kind``, in the server's order."""
    return [f for f in FORMATS if kind in f.kinds]


def by_name(name: str, kind: str | None = None) -> Format:
    """The main format of a name (the first listed, optionally of a kind)."""
    return next(f for f in FORMATS if f.name == name and (kind is None or kind in f.kinds))


def by_suffix(suffix: str) -> Format | None:
    return next((f for f in FORMATS if f.suffix == suffix), None)


def by_short_name(name: str, kind: str | None = None) -> Format | None:
    """The format a ``format``/``output`` parameter names, for an answer of ``kind`` (``xml`` is
    SPARQL XML results for a SELECT and RDF/XML for a CONSTRUCT, as SPARQLWrapper expects)."""
    return next((f for f in FORMATS if name in f.short_names and (kind is None or kind in f.kinds)), None)


def by_media_type(media_type: str) -> Format | None:
    return next((f for f in FORMATS if f.media_type == media_type), None)


def page_suffixes() -> list[str]:
    return [f.suffix for f in FORMATS if f.suffix]


def negotiate(accept: str | None, formats: list[Format]) -> Format | None:
    """The format the client prefers most among ``formats`` (ties go to the server's order);
    None when it accepts none of them. No Accept header accepts anything.

    Clients send the same few Accept headers over and over: the answer is remembered (parsing
    one took ~40 µs, a tenth of a one-entity query)."""
    if accept is not None and len(accept) <= 512:
        return _negotiate_cached(accept, tuple(formats))
    return _negotiate(accept, formats)


@lru_cache(maxsize=512)
def _negotiate_cached(accept: str, formats: tuple[Format, ...]) -> Format | None:
    return _negotiate(accept, list(formats))


def _negotiate(accept: str | None, formats: list[Format]) -> Format | None:
    if not formats:
        return None
    if not accept or not accept.strip():
        return formats[0]
    # a bare "*" is an old way of writing */*
    header = ",".join("*/*" if part.split(";")[0].strip() == "*" else part for part in accept.split(","))
    best = parse_accept_header(header, MIMEAccept).best_match([f.media_type for f in formats])
    return next((f for f in formats if f.media_type == best), None) if best else None


def with_charset(media_type: str) -> str:
    return media_type if "charset" in media_type else f"{media_type}; charset=utf-8"
