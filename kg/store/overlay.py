"""A served graph read through a load's pending changes: (served ∖ deleted) ∪ added, in SPARQL.

A diff on a remote engine must not copy a national graph (:mod:`kg.store.remote_generations`):
its removals and additions go to two small engine graphs beside the served one, a :class:`Layer`,
and the switch applies them in the same Update request that rewrites the pointer. Until then the
load's own reads must see its writes: the store interface's pattern reads are written here as
SPARQL over the layer, and so is a query's ``GRAPH <g> { s p o }`` or ``GRAPH ?g { s p o }`` of
one triple pattern (a load's counts: classes per dataset, incoming links of a hub). Whatever else
a query or update asks of a layered graph (several patterns in one group, the default graph)
is answered after the layer is *materialised*: copied into a graph of the load's own, as a
graph-level copy-on-write would have done from the start.

>>> L = Layer("http://x/g/gen-1", "http://x/g/gen-2/add", "http://x/g/gen-2/del")
>>> text, left = rewrite("SELECT ?c (COUNT(*) AS ?n) WHERE { GRAPH <http://x/g> { ?s a ?c } } GROUP BY ?c",
...                      {"http://x/g": L})
>>> left, "gen-2/del" in text
(set(), True)
>>> rewrite("SELECT * WHERE { GRAPH <http://x/g> { ?s a ?c ; ?p ?o } }", {"http://x/g": L})[1]
{'http://x/g'}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from kg.store.graph_names import _TOKEN, _expand


@dataclass(frozen=True)
class Layer:
    served: str   # the engine graph readers follow (shared with the served generation)
    added: str    # triples the load added
    deleted: str  # triples the load removed

    @property
    def graphs(self) -> list[str]:
        return [self.served, self.added, self.deleted]


def group(layer: Layer, pattern: str) -> str:
    """A group pattern binding ``pattern``'s variables over the layer (duplicates possible)."""
    return (f"{{ {{ GRAPH <{layer.served}> {{ {pattern} }} FILTER NOT EXISTS {{ GRAPH <{layer.deleted}> {{ {pattern} }} }} }}"
            f" UNION {{ GRAPH <{layer.added}> {{ {pattern} }} }} }}")


def any_graph(pattern: str, plain: list[str], layers: Mapping[str, Layer], var: str = "?g") -> str:
    """``GRAPH ?g { pattern }`` over plain engine graphs and layers; ``?g`` is a served name."""
    branches = [f"{{ GRAPH <{g}> {{ {pattern} }} BIND(<{g}> AS {var}) }}" for g in plain]
    for layer in layers.values():
        branches.append(f"{{ {group(layer, pattern)} BIND(<{layer.served}> AS {var}) }}")
    return " UNION ".join(branches) if branches else "FILTER(false)"


_TERMS = ("iri", "pname", "var", "string")


def rewrite(text: str, layers: Mapping[str, Layer], prefixes: Mapping[str, str] | None = None,
            plain: list[str] | None = None) -> tuple[str, set[str]]:
    """``text`` with every one-pattern ``GRAPH`` group over a layered graph read through its layer;
    returns it and the layered (logical) graphs the text still reads some other way."""
    declared = dict(prefixes or {})
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
    out: list[str] = []
    left: set[str] = set()
    i = 0
    significant = [k for k, (kind, _) in enumerate(tokens) if kind not in ("ws", "comment")]
    pos = {k: n for n, k in enumerate(significant)}
    pending_prefix = None
    while i < len(tokens):
        kind, token = tokens[i]
        if kind == "pname" and token.endswith(":") and _previous_word(tokens, significant, pos, i) == "PREFIX":
            pending_prefix = token[:-1]
        elif kind == "iri" and pending_prefix is not None:
            declared[pending_prefix], pending_prefix = token[1:-1], None
        if kind == "word" and token.upper() == "GRAPH" and i in pos:
            n = pos[i]
            nxt = [tokens[k] for k in significant[n + 1:n + 7]]
            target = nxt[0] if nxt else None
            graph = None
            if target and target[0] in ("iri", "pname"):
                graph = target[1][1:-1] if target[0] == "iri" else _expand(target[1], declared)
            simple = (len(nxt) >= 6 and nxt[1][1] == "{" and _term(nxt[2]) and _term(nxt[3]) and _term(nxt[4])
                      and (nxt[5][1] == "}" or (nxt[5][1] == "." and len(significant) > n + 7
                                                 and tokens[significant[n + 7]][1] == "}")))
            if target and target[0] == "var" and layers:
                if simple:
                    pattern = " ".join(t for _, t in nxt[2:5])
                    out.append("{ SELECT DISTINCT * WHERE { "
                               + any_graph(pattern, list(plain or []), layers, target[1]) + " } }")
                    i = significant[n + (6 if nxt[5][1] == "}" else 7)] + 1
                    continue
                left.update(layers)
            elif graph in layers:
                if simple:
                    pattern = " ".join(t for _, t in nxt[2:5])
                    out.append("{ SELECT DISTINCT * WHERE " + group(layers[graph], pattern) + " }")
                    i = significant[n + (6 if nxt[5][1] == "}" else 7)] + 1
                    continue
                left.add(graph)
        if kind in ("word",) and token.upper() in ("FROM", "USING", "WITH"):
            left.update(layers)  # its own dataset: no overlay there
        out.append(token)
        i += 1
    rewritten = "".join(out)
    if layers and _reads_default_graph(rewritten):
        left.update(layers)
    return rewritten, left


def _previous_word(tokens, significant, pos, i) -> str | None:
    n = pos.get(i)
    if not n:
        return None
    kind, token = tokens[significant[n - 1]]
    return token.upper() if kind == "word" else None


def _term(tok: tuple[str, str]) -> bool:
    kind, token = tok
    return kind in _TERMS or (kind == "word" and token == "a")


def _reads_default_graph(text: str) -> bool:
    """Whether a triple pattern may stand outside every GRAPH group (conservative: a subquery's
    projection or a VALUES row counts as one)."""
    stack: list[str] = []
    parens = 0
    last: list[str] = []  # the last significant tokens, upper-cased words
    for m in _TOKEN.finditer(text):
        kind, token = m.lastgroup, m.group()
        if kind in ("ws", "comment"):
            continue
        if token == "(":
            parens += 1
        elif token == ")":
            parens = max(0, parens - 1)
        elif token == "{":
            if len(last) >= 2 and last[-2] == "GRAPH":
                stack.append("graph")
            elif "VALUES" in last[-3:]:
                stack.append("values")
            else:
                stack.append("group")
        elif token == "}":
            if stack:
                stack.pop()
        elif parens == 0 and stack and "graph" not in stack and "values" not in stack and _term((kind, token)):
            if not (last and last[-1] in ("GRAPH", "VALUES", "AS", "BY")):  # a graph's name, a variable's
                return True
        last = (last + [token.upper() if kind == "word" else token])[-3:]
    return False
