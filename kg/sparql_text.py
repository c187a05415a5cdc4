"""Small lexical edits on SPARQL text that the protocol needs and pyoxigraph has no API for.

>>> add_using("INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", ["http://g"], [])
'INSERT { ?s ?p 1 } USING <http://g> WHERE { ?s ?p ?o }'
>>> add_using("INSERT DATA { <a:b> <a:c> 'WHERE' }", ["http://g"], [])
"INSERT DATA { <a:b> <a:c> 'WHERE' }"
"""

from __future__ import annotations

import re

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


class DatasetConflict(ValueError):
    pass


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
