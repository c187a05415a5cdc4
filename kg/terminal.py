"""Query results as text for the terminal (``kg query``, ``kg stats``)."""

from __future__ import annotations

import json

from kg.rdf import Literal
from kg.store.interface import Result
from kg.text.normalize import display_width

#: what ``kg query --format`` offers; anything but a table is the standard results format
FORMATS = ("table", "csv", "tsv", "json", "xml")


def _cell(term) -> str:
    if term is None:
        return ""
    if isinstance(term, Literal):
        return term.value
    return str(term)


def format_result(result: Result, fmt: str, *, variables: list[str] | None = None) -> str:
    """Text for the terminal: table, csv, tsv, json or xml (SPARQL results formats)."""
    if isinstance(result, bool):
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": result})
        return "true" if result else "false"
    if not hasattr(result, "variables"):
        body, _ = result.serialize("turtle" if fmt == "table" else "ntriples", max_triples=1 << 62)
        return body.decode("utf-8")
    variables = variables or result.variables
    if fmt != "table":
        body, _ = result.serialize(fmt, max_rows=1 << 62, variables=variables)
        return body.decode("utf-8")
    rows = [[_cell(row[v]) for v in variables] for row in result]
    return render_table(variables, rows)


def render_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells):
        return " | ".join(c + " " * (w - display_width(c)) for c, w in zip(cells, widths)).rstrip()

    out = [line(header), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
