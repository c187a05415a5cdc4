"""Query results written in every format the endpoint offers, with a row cap.

pyoxigraph's own serialiser writes SELECT results whenever the answer surely fits the cap
(:func:`native_select`); otherwise the rows are collected up to the cap and written here.
CONSTRUCT/DESCRIBE triples go through pyoxigraph's serialiser. Formats are named as in the
format registry (:mod:`kg.server.formats`).
"""

from __future__ import annotations

import json
from typing import Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.rdf import XSD

_XSD_STRING = str(XSD.string)

GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML, "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
}


def capped(items, limit: int) -> tuple[list, bool]:
    """At most ``limit`` items, and whether there were more."""
    out = []
    for item in items:
        if len(out) >= limit:
            return out, True
        out.append(item)
    return out, False


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate), "object": _json_term(term.object)}}
    raise TypeError(term)


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _csv_cell(term) -> str:
    if term is None:
        return ""
    text = term.value if isinstance(term, (ox.NamedNode, ox.Literal)) else f"_:{term.value}" if isinstance(term, ox.BlankNode) else str(term)
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


_NUMERIC = {str(XSD.integer), str(XSD.decimal), str(XSD.double), str(XSD.boolean)}


def _tsv_cell(term) -> str:
    """TSV cells are terms in Turtle syntax; numbers and booleans may be written bare."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal) and not term.language and term.datatype.value in _NUMERIC:
        return term.value
    return str(term).replace("\t", "\\t")


def serialize_select(variables: list[str], rows: list[list], fmt: str) -> bytes:
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row) if t is not None} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}, ensure_ascii=False).encode("utf-8")
    if fmt == "xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head><results>")
        for row in rows:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(variables, row) if t is not None]
            out.append("</result>")
        out.append("</results></sparql>\n")
        return "".join(out).encode("utf-8")
    if fmt == "csv":
        lines = [",".join(variables)] + [",".join(_csv_cell(t) for t in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)] + ["\t".join(_tsv_cell(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(fmt)


#: the fewest bytes one solution takes in pyoxigraph's serialisation of each format
#: (``{},`` in JSON, ``<result></result>`` in XML, an empty line in CSV and TSV)
_MIN_ROW_BYTES = {"json": 3, "xml": 17, "csv": 2, "tsv": 1}
_NATIVE_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                   "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


class _OverBudget(Exception):
    pass


class _BoundedBuffer:
    """A write target that gives up past ``limit`` bytes."""

    def __init__(self, limit: int):
        self.limit, self.size, self.parts = limit, 0, []

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _OverBudget
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def native_select(solutions: "ox.QuerySolutions", fmt: str, max_rows: int) -> bytes | None:
    r"""The solutions serialised by pyoxigraph itself, or None when they might exceed ``max_rows``.

    Iterating solutions in Python costs microseconds per row, pyoxigraph's serialiser a fraction of
    that, but it cannot stop at a row count. So it writes into a buffer of ``max_rows`` times the
    smallest size of a row: whatever fits in it has fewer than ``max_rows`` rows, and a larger
    answer (the solutions are then consumed) is left to the counting path.

    >>> store = ox.Store()
    >>> native_select(store.query("SELECT ?x WHERE { VALUES ?x { 1 2 } }"), "csv", 10)
    b'x\r\n1\r\n2\r\n'
    >>> native_select(store.query("SELECT ?x WHERE { VALUES ?x { 1 2 } }"), "csv", 1) is None
    True
    """
    buffer = _BoundedBuffer(max_rows * _MIN_ROW_BYTES[fmt])
    try:
        solutions.serialize(buffer, _NATIVE_FORMATS[fmt])
    except _OverBudget:
        return None
    return b"".join(buffer.parts)


def serialize_boolean(value: bool, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return (f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
                f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n").encode()
    if fmt in ("csv", "tsv"):
        return b"true\n" if value else b"false\n"
    raise ValueError(fmt)


def serialize_triples(triples: Iterable, fmt: str, prefixes: Mapping[str, str] | None = None) -> bytes:
    """pyoxigraph triples in an RDF format named as in :mod:`kg.server.formats`."""
    rdf_format = GRAPH_FORMATS[fmt]
    if rdf_format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        triples = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
    kwargs = {"prefixes": dict(prefixes)} if prefixes and rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
    return ox.serialize(triples, format=rdf_format, **kwargs)
