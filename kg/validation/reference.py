"""pySHACL, the reference for what the shapes mean (SHACL 1.0, W3C Recommendation).

The differential tests hold :mod:`kg.validation.compiler` to pySHACL's verdicts through these two
adapters; nothing on the load path uses them (pySHACL checks ~600 entities/s here).
"""

from __future__ import annotations

from typing import Iterable

import rdflib
from rdflib import SH as R_SH, URIRef, BNode as RBNode, Literal as RLiteral

from kg.rdf import BNode, Literal, Triple, XSD


def triples_to_rdflib(triples: Iterable[Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Our triples as an rdflib graph (for pySHACL, the reference implementation)."""
    graph = graph if graph is not None else rdflib.Graph()

    def conv(t):
        if isinstance(t, Literal):
            if t.lang:
                return RLiteral(t.value, lang=t.lang)
            return RLiteral(t.value, datatype=URIRef(t.datatype or XSD.string))
        if isinstance(t, BNode):
            return RBNode(str(t))
        return URIRef(str(t))

    for s, p, o in triples:
        graph.add((conv(s), URIRef(p), conv(o)))
    return graph


def pyshacl_violations(data: rdflib.Graph, shapes: rdflib.Graph, reference: rdflib.Graph | None = None) -> set[tuple[str, str | None, str]]:
    """(focus, path, component) of every violation pySHACL reports: the reference verdict."""
    import pyshacl

    data_graph = rdflib.Graph()
    for t in data:
        data_graph.add(t)
    if reference is not None:
        for t in reference:
            data_graph.add(t)
    conforms, report, _ = pyshacl.validate(data_graph, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False)
    out = set()
    # top-level results only: those nested under sh:detail explain an sh:node result
    for result in report.objects(None, R_SH.result):
        focus = report.value(result, R_SH.focusNode)
        path = report.value(result, R_SH.resultPath)
        component = report.value(result, R_SH.sourceConstraintComponent)
        out.add((str(focus), str(path) if path is not None else None, str(component).rsplit("#", 1)[-1].rsplit("/", 1)[-1]))
    return out
