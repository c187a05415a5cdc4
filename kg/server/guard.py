"""What a query or update may be before the engine sees it (a public endpoint's first defence).

Measured on this machine with pyoxigraph 0.5 (``bench/README.md``, hardening): about 2,500
nested groups, parentheses, lists or blank-node brackets overflow the engine's 8 MiB thread
stack and kill the process, syntax error or not; ``SERVICE`` makes the server open a connection
to any URL, and ``LOAD`` fetch any document. So, from the text alone (SPARQL has no escapes
outside strings, so a keyword cannot be disguised):

* length, nesting depth and the number of triple patterns are limited (settings), and
* ``SERVICE`` and ``LOAD`` are refused unless their IRI is listed in ``KG_REMOTE_ALLOWED``.

Each refusal is a :class:`~kg.errors.QueryRefused` (400) that says which limit and how to fix it.

>>> g = Guard(max_length=1000, max_nesting=3, max_patterns=10, allowed=("http://ok.example/sparql",))
>>> g.check_query("SELECT * WHERE { ?s ?p ?o }")
>>> g.check_query("SELECT * WHERE { SERVICE <http://127.0.0.1:9999/> { ?s ?p ?o } }")
Traceback (most recent call last):
...
kg.errors.QueryRefused: SERVICE <http://127.0.0.1:9999/> is not allowed: only http://ok.example/sparql (KG_REMOTE_ALLOWED), written as a full IRI
>>> g.check_query("SELECT * WHERE { SERVICE <http://ok.example/sparql> { ?s ?p ?o } }")
>>> g.check_query("SELECT * WHERE {{{{ ?s ?p ?o }}}}")
Traceback (most recent call last):
...
kg.errors.QueryRefused: the query nests groups, parentheses or brackets 4 deep; at most 3 are allowed (KG_MAX_NESTING)
>>> g.check_query("SELECT * WHERE { ?s ex:SERVICE ?o . ?SERVICE ?p 'SERVICE' }  # SERVICE")
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import QueryRefused
from kg.server.sparql_text import one_subject

_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<word>[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\-\u00B7\u00C0-\uFFFF]*(?::[^\s{}()\[\],;]*)?|:[^\s{}()\[\],;]*)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<separator>[.;,])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class Guard:
    max_length: int
    max_nesting: int
    max_patterns: int
    allowed: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings) -> "Guard":
        allowed = tuple(i for i in re.split(r"[\s,]+", settings.remote_allowed or "") if i)
        return cls(settings.max_query_length, settings.max_nesting, settings.max_patterns, allowed)

    def check_query(self, text: str, *, one_subject_known: bool = False) -> None:
        """Refuse a query over the limits; ``one_subject_known``: the caller found it to be
        :func:`~kg.server.sparql_text.one_subject` already."""
        if "\x00" in text:
            raise QueryRefused("the query contains U+0000 (NUL), which this endpoint does not take "
                               "(an engine may read the text only up to it)")
        if len(text) <= self.max_length and self.max_nesting >= 2 and (one_subject_known or one_subject(text)):
            return  # one triple pattern in at most two groups, no SERVICE: within every other limit
        self._check(text, "query", remote=("SERVICE",))

    def check_update(self, text: str) -> None:
        if "\x00" in text:
            raise QueryRefused("the update contains U+0000 (NUL), which this endpoint does not take "
                               "(an engine may read the text only up to it)")
        self._check(text, "update", remote=("SERVICE", "LOAD"))

    def _check(self, text: str, what: str, *, remote: tuple[str, ...]) -> None:
        if len(text) > self.max_length:
            raise QueryRefused(f"the {what} is {len(text):,} characters long; at most {self.max_length:,} are "
                               f"allowed (KG_MAX_QUERY_LENGTH)")
        depth = deepest = 0
        patterns = 1
        pending: str | None = None   # SERVICE or LOAD, waiting for its IRI
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind in ("space", "comment"):
                continue
            if pending is not None:
                if kind == "word" and m.group().upper() in ("SILENT",):
                    continue
                self._remote(pending, m.group() if kind == "iri" else None, m.group())
                pending = None
            if kind == "open":
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > self.max_nesting:
                        raise QueryRefused(f"the {what} nests groups, parentheses or brackets {deepest} deep; at most "
                                           f"{self.max_nesting} are allowed (KG_MAX_NESTING)")
            elif kind == "close":
                depth = max(0, depth - 1)
            elif kind == "separator":
                patterns += 1
                if patterns > self.max_patterns:
                    raise QueryRefused(f"the {what} has more than {self.max_patterns} triple patterns or list items "
                                       f"(KG_MAX_PATTERNS)")
            elif kind == "word" and ":" not in m.group() and m.group().upper() in remote:
                pending = m.group().upper()
        if pending is not None:
            self._remote(pending, None, "")

    def _remote(self, keyword: str, iri: str | None, written: str) -> None:
        if iri is not None and iri[1:-1] in self.allowed:
            return
        target = f"{keyword} {written}".strip()
        if not self.allowed:
            raise QueryRefused(f"{target} is not allowed: this endpoint calls no other server "
                               f"(KG_REMOTE_ALLOWED lists the ones it may call)")
        raise QueryRefused(f"{target} is not allowed: only {', '.join(self.allowed)} (KG_REMOTE_ALLOWED), "
                           f"written as a full IRI")
