"""A SPARQL parser message a person can act on: the engine's own says "expected CONSTRUCT" for
``SELEC`` and lists Unicode ranges for an undefined prefix.

>>> explain('SELEC ?s WHERE { ?s ?p ?o }', 'error at 1:10: expected CONSTRUCT')
"error at 1:1: a query starts with SELECT, CONSTRUCT, ASK or DESCRIBE (after PREFIX and BASE), not 'SELEC'"
>>> explain('SELECT * { ?s foo:bar ?o }', "error at 1:19: expected one of Prefix not found, ['%'] ...", {})
"error at 1:19: undefined prefix 'foo:' (declare it: PREFIX foo: <...>)"
>>> explain('SELECT * { ?s foo:bar ?o }', "Virtuoso 37000 Error SP030: SPARQL compiler, line 29: Undefined namespace prefix at 'foo'", {})
"error at 1:15: undefined prefix 'foo:' (declare it: PREFIX foo: <...>)"
"""

from __future__ import annotations

import re
from typing import Mapping

FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATES = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
_PROLOGUE = re.compile(r"\s*(?:#[^\n]*\n\s*|PREFIX\s+[\w.-]*:\s*<[^>]*>\s*|BASE\s*<[^>]*>\s*)*", re.IGNORECASE)
_WHERE = re.compile(r"^error at (\d+:\d+): ")
_PREFIXED = re.compile(r"(?<![\w<\"'?$:/#-])([A-Za-z][\w.-]*)?:(?=[\w%\\])")
LONGEST = 200


def explain(text: str, message: str, prefixes: Mapping[str, str] | None = None, *, update: bool = False) -> str:
    """The engine's ``message`` for ``text``, made plain where we know better, and never long."""
    where = _WHERE.match(message)
    at = where.group(1) if where else None
    if "Prefix not found" in message or re.search(r"undefined (namespace )?prefix", message, re.IGNORECASE):
        declared = {m.lower() for m in re.findall(r"PREFIX\s+([\w.-]*):", text, re.IGNORECASE)} | set(prefixes or {})
        for m in _PREFIXED.finditer(_strip_strings(text)):
            name = m.group(1) or ""
            if name not in declared and name.lower() not in {d.lower() for d in declared}:
                if at is None:  # the engine's own position counts the lines we put before the text
                    line = text.count("\n", 0, m.start()) + 1
                    at = f"{line}:{m.start() - (text.rfind(chr(10), 0, m.start()) + 1) + 1}"
                return f"error at {at}: undefined prefix '{name}:' (declare it: PREFIX {name}: <...>)"
    if not update:
        start = _PROLOGUE.match(text).end()
        word = re.match(r"[A-Za-z]*", text[start:]).group(0)
        if word.upper() not in FORMS:
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            found = f"'{word}'" if word else repr(text[start:start + 10]) if text[start:].strip() else "nothing"
            hint = " (an update goes in an update request)" if word.upper() in UPDATES else ""
            return (f"error at {line}:{column}: a query starts with SELECT, CONSTRUCT, ASK or DESCRIBE "
                    f"(after PREFIX and BASE), not {found}{hint}")
    message = " ".join(message.split())
    return message if len(message) <= LONGEST else message[:LONGEST] + "…"


def located(message: str, added_lines: int, text_lines: int | None = None) -> str:
    """An engine's parser message with its position in the text as the user wrote it: the
    project put ``added_lines`` lines (its PREFIX declarations) before it; a position past the
    text's ``text_lines`` (Virtuoso closes an unfinished text) is its last line. Virtuoso's
    ``SPARQL compiler, line N: …`` is written as Oxigraph's ``error at N: …``.

    >>> located('error at 3:7: expected "}"', 2)
    'error at 1:7: expected "}"'
    >>> located("Virtuoso 37000 Error SP030: SPARQL compiler, line 5: syntax error at '}'", 3, 1)
    "error at 1: syntax error at '}'"
    """
    def shift(line: str) -> int:
        return min(max(int(line) - added_lines, 1), text_lines or 1 << 30)

    m = re.search(r"error at (\d+):(\d+)", message)
    if m:
        return message[:m.start()] + f"error at {shift(m.group(1))}:{m.group(2)}" + message[m.end():]
    m = re.search(r"\bline (\d+): ", message)
    if m:
        return f"error at {shift(m.group(1))}: " + message[m.end():]
    return message


def query_form(text: str) -> str | None:
    """SELECT, CONSTRUCT, ASK or DESCRIBE: the form a query starts with after its prologue (None
    if it starts with none of them). A remote engine is asked for the answer of that form only:
    Virtuoso answers a CONSTRUCT as JSON solutions when they are acceptable at all.

    >>> query_form("PREFIX s: <http://schema.org/>\\n# a comment\\nconstruct { ?s ?p ?o } WHERE { ?s ?p ?o }")
    'CONSTRUCT'
    >>> query_form("INSERT DATA {}") is None
    True
    """
    start = _PROLOGUE.match(text).end()
    word = re.match(r"[A-Za-z]*", text[start:]).group(0).upper()
    return word if word in FORMS else None


def _strip_strings(text: str) -> str:
    """Blank out IRIs, string literals and comments, where a colon is no prefix."""
    return re.sub(r'<[^>\s]*>|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*', lambda m: " " * len(m.group(0)), text)


_STAR = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", re.IGNORECASE)


def star_order(text: str, variables: list[str]) -> list[str]:
    """The columns of ``SELECT *`` in the order the query first names them (the engine sorts
    them: ``?s ?p ?o`` came out as o, p, s); any other query's columns as they are.

    >>> star_order("SELECT * WHERE { ?s ?p ?o }", ["o", "p", "s"])
    ['s', 'p', 'o']
    >>> star_order("SELECT ?o ?s WHERE { ?s ?p ?o }", ["o", "s"])
    ['o', 's']
    """
    m = _STAR.search(text) if "*" in text else None  # the substring test spares most queries the regex
    if not m:
        return variables
    body = _strip_strings(text[m.end():])
    first = {}
    for found in re.finditer(r"[?$]([A-Za-z_0-9]+)", body):
        first.setdefault(found.group(1), found.start())
    return sorted(variables, key=lambda v: (first.get(v, len(body)), variables.index(v)))
