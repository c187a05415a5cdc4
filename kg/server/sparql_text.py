"""Small lexical edits on SPARQL text that the protocol needs and pyoxigraph has no API for.

>>> add_using("INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", ["http://g"], [])
'INSERT { ?s ?p 1 } USING <http://g> WHERE { ?s ?p ?o }'
>>> add_using("INSERT DATA { <a:b> <a:c> 'WHERE' }", ["http://g"], [])
"INSERT DATA { <a:b> <a:c> 'WHERE' }"
>>> one_subject("SELECT ?p ?o WHERE { GRAPH ?g { <http://x/id/corporation/1> ?p ?o } }")
True
>>> one_subject("SELECT ?s WHERE { ?s ?p <http://x/id/municipality/131016> }")  # a hub's millions
False
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
    if "*" not in query or not _SELECT_STAR.search(query):
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


_IRI = r"<[^<>\"{}|^`\\\s]*>"
_PNAME = r"[A-Za-z][\w-]*:[\w-]*"  # not _: (a blank node is a variable)
_VAR = r"[?$]\w+"
_CONST = rf"(?:{_IRI}|{_PNAME})"
_ONE_SUBJECT = re.compile(rf"""\s*
    (?:(?:PREFIX\s+(?:[A-Za-z_][\w-]*)?:\s*{_IRI}|BASE\s+{_IRI})\s*)*
    SELECT\s+(?:DISTINCT\s+|REDUCED\s+)?(?:\*\s*|(?:{_VAR}\s*)+)
    (?:FROM\s+(?:NAMED\s+)?{_IRI}\s*)*
    (?:WHERE\s*)?\{{\s*
      (?:GRAPH\s+(?P<graph>{_VAR}|{_CONST})\s*\{{\s*)?
        {_CONST}\s+(?:{_VAR}|{_CONST}|a)\s+(?:{_VAR}|{_CONST})\s*\.?\s*
      (?(graph)\}}\s*)
    \}}\s*
    (?:(?:LIMIT|OFFSET)\s+\d+\s*)*""", re.IGNORECASE | re.VERBOSE)


def one_subject(query: str) -> bool:
    """Whether a query is one triple pattern about a constant subject (in one graph or any):
    what a system resolving an identifier asks. Its cost is bounded by what one entity says,
    so it is safe to answer without the process that guards against runaway queries.

    >>> one_subject("PREFIX corp: <http://x/id/corporation/> SELECT * { corp:7000012050002 ?p ?o } LIMIT 10")
    True
    >>> one_subject("SELECT ?o WHERE { <http://x/a> <http://x/p>+ ?o }")  # a path: unbounded
    False
    >>> one_subject("SELECT ?o WHERE { _:any ?p ?o }")  # a blank node matches every subject
    False
    >>> one_subject("SELECT ?o WHERE { <http://x/a> ?p ?o . ?o ?q ?r }")
    False
    >>> one_subject('SELECT ?o WHERE { <http://x/a> ?p ?o } # }')  # comments are not read
    False
    """
    if "#" in _strip_iris(query):  # a comment (or a string holding one): not the plain shape
        return False
    return _ONE_SUBJECT.fullmatch(query) is not None


def _strip_iris(query: str) -> str:
    return re.sub(_IRI, "<>", query)
