"""Small lexical edits on SPARQL text that the protocol needs and pyoxigraph has no API for.

>>> add_using("INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", ["http://g"], [])
'INSERT { ?s ?p 1 } USING <http://g> WHERE { ?s ?p ?o }'
>>> add_using("INSERT DATA { <a:b> <a:c> 'WHERE' }", ["http://g"], [])
"INSERT DATA { <a:b> <a:c> 'WHERE' }"
"""

from __future__ import annotations

import re

from kg.errors import DatasetConflict

_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<open>\{)
  | (?P<close>\})
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


def top_level_keywords(text: str):
    """(position, KEYWORD) of words outside braces, strings, IRIs and comments."""
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "word" and depth == 0:
            yield m.start(), m.group().upper()


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Apply protocol using-graph-uri / using-named-graph-uri as USING clauses of each operation."""
    keywords = list(top_level_keywords(update))
    if any(k in ("USING", "WITH") for _, k in keywords):
        raise DatasetConflict("using-graph-uri/using-named-graph-uri conflict with USING or WITH in the update")
    clause = "".join(f"USING <{g}> " for g in using) + "".join(f"USING NAMED <{g}> " for g in using_named)
    out, last = [], 0
    for pos, word in keywords:
        if word == "WHERE":
            out.append(update[last:pos])
            out.append(clause)
            last = pos
    out.append(update[last:])
    return "".join(out)


_SELECT_STAR = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", re.IGNORECASE)
_VARIABLE = re.compile(r"[?$]([A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)")


def appearance_order(query: str, variables: list[str]) -> list[str]:
    """For ``SELECT *``, the variables in order of first appearance (as the W3C tests expect).

    >>> appearance_order("SELECT * WHERE { ?s ?p ?o }", ["o", "p", "s"])
    ['s', 'p', 'o']
    """
    if not _SELECT_STAR.search(query):
        return variables
    seen: list[str] = []
    for m in _VARIABLE.finditer(_strip_literals(query)):
        if m.group(1) in variables and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen + [v for v in variables if v not in seen]


def _strip_literals(query: str) -> str:
    """The query with comments, strings and IRIs blanked out (so '?' inside them is not a variable)."""
    out = []
    for m in _TOKEN.finditer(query):
        out.append(" " if m.lastgroup in ("comment", "string", "iri") else m.group())
    return "".join(out)
