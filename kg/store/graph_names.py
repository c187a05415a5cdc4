"""Graph names in SPARQL text: which IRIs stand where a graph is named, and renaming them.

On a remote engine the served version of ``{base}graph/houjin`` is stored under a generation's
own graph name (:mod:`kg.store.remote_generations`), so the text a user or the project sends must
name that graph instead, and only where a *graph* is named: after ``GRAPH``, ``FROM``,
``FROM NAMED``, ``WITH``, ``USING``, ``USING NAMED``, ``INTO``/``TO`` and the first operand of
``ADD``/``COPY``/``MOVE``, ``CLEAR``/``DROP``/``CREATE``. The same IRI as a subject or object
(the metadata graph's ``<…/graph/houjin> void:triples 42``) is data and stays as it is.

A tokenizer, not a parser: strings, comments and IRIs are skipped whole, prefixed names are
expanded with the text's own ``PREFIX`` declarations and the predeclared ones.

>>> rename_graphs('SELECT * { GRAPH g:a { ?s ?p ?o } <http://x/a> ?p ?o }', {"http://x/a": "http://x/a/gen-1"},
...               {"g": "http://x/"})
'SELECT * { GRAPH <http://x/a/gen-1> { ?s ?p ?o } <http://x/a> ?p ?o }'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
  | (?P<pname>(?:[A-Za-z\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*)?:(?:[\w\u00c0-\uffff:%\-]|\\.|\.(?=[\w\u00c0-\uffff:%\-]))*)
  | (?P<word>[A-Za-z_][\w\-]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

#: keywords after which the next IRI names a graph (NAMED, SILENT and GRAPH keep looking)
_INTRODUCE = frozenset({"GRAPH", "FROM", "WITH", "USING", "INTO", "TO", "ADD", "COPY", "MOVE", "CLEAR", "DROP",
                        "CREATE"})
_KEEP = frozenset({"NAMED", "SILENT", "GRAPH"})


@dataclass
class Dataset:
    """What a text says about its dataset: FROM/FROM NAMED (queries), WITH/USING (updates)."""

    from_clause: bool = False
    using_clause: bool = False
    #: ``GRAPH ?g``: any graph of the dataset may be read (or, in an update, written)
    variable_graph: bool = False
    graphs: set[str] = field(default_factory=set)


def rename_graphs(text: str, names: Mapping[str, str], prefixes: Mapping[str, str] | None = None,
                  dataset: Dataset | None = None) -> str:
    """``text`` with every graph-position IRI found in ``names`` replaced by its value.

    ``dataset`` (if given) learns whether the text has its own FROM/USING clauses and which graph
    IRIs it names in graph positions (renamed or not), so a writer knows what it will touch.
    """
    declared = dict(prefixes or {})
    out: list[str] = []
    expecting = False
    pending_prefix: str | None = None
    after_prefix_kw = False
    for m in _TOKEN.finditer(text):
        kind, token = m.lastgroup, m.group()
        if kind in ("ws", "comment"):
            out.append(token)
            continue
        if after_prefix_kw and kind == "pname" and token.endswith(":"):
            pending_prefix, after_prefix_kw = token[:-1], False
            out.append(token)
            continue
        if pending_prefix is not None and kind == "iri":
            declared[pending_prefix] = token[1:-1]
            pending_prefix = None
            out.append(token)
            continue
        after_prefix_kw = False
        pending_prefix = None
        if kind == "word":
            upper = token.upper()
            if upper == "PREFIX":
                after_prefix_kw = True
            if dataset is not None and upper == "FROM":
                dataset.from_clause = True
            if dataset is not None and upper in ("USING", "WITH"):
                dataset.using_clause = True
            if upper in _INTRODUCE:
                expecting = True
            elif upper not in _KEEP:
                expecting = False
            out.append(token)
            continue
        if expecting and kind == "var" and dataset is not None:
            dataset.variable_graph = True
        if expecting and kind in ("iri", "pname"):
            iri = token[1:-1] if kind == "iri" else _expand(token, declared)
            if iri is not None:
                if dataset is not None:
                    dataset.graphs.add(iri)
                if iri in names:
                    token = f"<{names[iri]}>"
        expecting = False
        out.append(token)
    return "".join(out)


def _expand(pname: str, declared: Mapping[str, str]) -> str | None:
    prefix, _, local = pname.partition(":")
    namespace = declared.get(prefix)
    if namespace is None:
        return None
    return namespace + re.sub(r"\\(.)", r"\1", local)


def every_graph_ops(text: str) -> tuple[str, bool]:
    """``text`` without its leading ``CLEAR``/``DROP`` ``ALL``/``NAMED`` operations, and whether
    it had any. On an engine these would empty every graph the engine holds (other generations,
    the pointer, other people's data); the caller empties the version's own graphs instead. Such
    an operation anywhere but before every other one is refused (its order would change).

    >>> every_graph_ops("PREFIX a: <http://a/> DROP SILENT ALL ; INSERT DATA { GRAPH <http://g> { a:s a:p 1 } }")
    ('PREFIX a: <http://a/>  INSERT DATA { GRAPH <http://g> { a:s a:p 1 } }', True)
    >>> every_graph_ops("INSERT DATA { <http://s> <http://p> 'DROP ALL' }")
    ("INSERT DATA { <http://s> <http://p> 'DROP ALL' }", False)
    >>> every_graph_ops("CLEAR ALL")
    ('', True)
    """
    tokens = [(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    significant = [t for t in tokens if t[0] not in ("ws", "comment")]
    cuts: list[tuple[int, int]] = []
    i, leading = 0, True
    while i < len(significant):
        kind, token, start, end = significant[i]
        word = token.upper() if kind == "word" else None
        if word in ("PREFIX", "BASE"):
            i += 3 if word == "PREFIX" else 2
            continue
        if word in ("CLEAR", "DROP"):
            j = i + 1
            if j < len(significant) and significant[j][1].upper() == "SILENT":
                j += 1
            if j < len(significant) and significant[j][1].upper() in ("ALL", "NAMED"):
                if not leading:
                    raise ValueError(f"{token} {significant[j][1]} must come before every other operation "
                                     "of its request on a remote engine")
                stop = significant[j][3]
                if j + 1 < len(significant) and significant[j + 1][1] == ";":
                    stop = significant[j + 1][3]
                    j += 1
                cuts.append((start, stop))
                i = j + 1
                continue
        if kind == "other" and token == ";":
            i += 1
            continue
        leading = False
        i += 1
    if cuts and leading:  # nothing else: no request is left to send
        return "", True
    for start, stop in reversed(cuts):
        text = text[:start] + text[stop:]
    return text, bool(cuts)
