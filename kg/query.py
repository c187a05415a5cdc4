"""Running SPARQL against the served generation, with our prefixes and the union default graph."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from kg.iri import Minter


def prefix_block(m: Minter) -> str:
    return "".join(f"PREFIX {k}: <{v}>\n" for k, v in m.prefixes().items())


def run_query(store: ox.Store, sparql: str, m: Minter, **kwargs: Any):
    """Execute with every named graph as the default graph (the union of current datasets)."""
    return store.query(sparql, prefixes=m.prefixes(), use_default_graph_as_union=True, **kwargs)


def _cell(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


def format_result(result, fmt: str) -> str:
    """Text for the terminal: table, csv, tsv or json (SPARQL JSON results)."""
    if isinstance(result, bool) or isinstance(result, ox.QueryBoolean):
        value = bool(result)
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": value})
        return "true" if value else "false"
    if isinstance(result, ox.QueryTriples):
        return result.serialize(format=ox.RdfFormat.TURTLE if fmt == "table" else ox.RdfFormat.N_TRIPLES).decode()
    if fmt in ("csv", "tsv", "json", "xml"):
        f = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
             "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}[fmt]
        return result.serialize(format=f).decode("utf-8")
    variables = [v.value for v in result.variables]
    rows = [[_cell(sol[v]) for v in variables] for sol in result]
    return render_table(variables, rows)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells):
        return " | ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)).rstrip()

    out = [line(header), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
