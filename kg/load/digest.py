"""The content digest of a dataset graph: what it held, recomputable by anyone from a dump.

The digest is the sum, modulo 2**256, of the SHA-256 of every quad's N-Quads line as a dump
writes it (``<s> <p> <o> <g> .`` and a newline; literals in the store's canonical form,
:mod:`kg.rdf.canonical`). A sum does not depend on the order of the lines, so a dump, the
store and a load that writes millions of lines in any order agree; and a load keeps it up to
date in proportion to what it changes: it adds the hashes of the lines it writes and subtracts
those of the quads it removes, never reading the rest of a national dataset again.

The store holds a set: a line written twice is stored once, a quad removed must have been
there. A load counts the lines it added and removed as well; when the count disagrees with the
graph's triple count after the load, some line was a duplicate, and the digest is computed
afresh from the store (:func:`digest_lines` over its dump). So the digest is always that of the
set the graph holds.

Counting the graph is a scan of it (30 s at a million corporations), which a daily diff of a few
thousand rows must not pay. So an update's lines are *checked* instead (:meth:`GraphDigest.add_new`):
the lines already in the store, or twice in the batch, are dropped before they are counted, and
the digest keeps the graph's entities per class (``rdf:type`` quads) as well. While every add was
checked (``checked``), ``quads`` and ``types`` are the graph's own counts, carried forward from
the last load's without reading the rest of the graph.

>>> d = GraphDigest("http://x/g")
>>> d.add_ntriples(b'<http://x/a> <http://x/p> "1" .\\n<http://x/b> <http://x/p> "2" .\\n')
>>> d.quads, d.hex == digest_lines([b'<http://x/b> <http://x/p> "2" <http://x/g> .\\n',
...                                 b'<http://x/a> <http://x/p> "1" <http://x/g> .\\n'])[0]
(2, True)
>>> d.remove_lines([b'<http://x/a> <http://x/p> "1" <http://x/g> .\\n'])
>>> d.quads, d.hex == digest_lines([b'<http://x/b> <http://x/p> "2" <http://x/g> .\\n'])[0]
(1, True)
>>> d.checked, d.types, d.refs   # an unchecked add: the store must be counted
(False, None, None)
>>> d = GraphDigest.resume("http://x/g", d.hex, 1, {})
>>> d.add_new([b'<http://x/c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://x/C> <http://x/g> .\\n'])
>>> d.quads, d.checked, d.types
(2, True, {'http://x/C': 1})
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import dataclass, field
from hashlib import sha256
from operator import methodcaller
from pathlib import Path
from typing import Iterable

from kg.rdf import nquad
from kg.rdf.terms import whole_lines

ALGORITHM = "sum of SHA-256 of N-Quads lines mod 2^256"
MODULUS = 1 << 256
_digest = methodcaller("digest")
_CHUNK = 8 << 20
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_TYPE_LINE = re.compile(rb"> <" + re.escape(_RDF_TYPE.encode()) + rb"> <([^>]*)> \.\n")


def line_sum(lines: Iterable[bytes]) -> int:
    """Sum of the SHA-256 (big-endian integers) of ``lines`` (unreduced)."""
    return sum(map(int.from_bytes, map(_digest, map(sha256, lines))))


def type_objects(chunk: bytes) -> list[bytes]:
    """The class of each ``rdf:type`` line of whole N-Triples lines (a regex: no line split)."""
    return _TYPE_LINE.findall(chunk)


def to_hex(total: int) -> str:
    return f"{total % MODULUS:064x}"


@dataclass
class GraphDigest:
    """The running digest of one graph during a load (``total`` mod 2**256, ``quads`` counted)."""

    graph: str
    total: int = 0
    quads: int = 0
    #: False when the start was unknown (a store loaded before digests were kept)
    known: bool = True
    #: True while every line added was checked against the store (:meth:`add_new`), so that
    #: ``quads`` is the graph's triple count, not an upper bound
    checked: bool = True
    #: entities per class when the load started (the recorded class partition); None if unknown
    classes_before: dict[str, int] | None = field(default_factory=dict)
    #: references (predicate, object IRI) added minus removed by the load, while checked (else
    #: None): every ``rdf:type`` and every link to one of ``hubs``, by which the hub counts of
    #: :mod:`kg.store.hubs` move
    refs: Counter | None = field(default_factory=Counter)
    hubs: frozenset[str] = frozenset()

    @classmethod
    def resume(cls, graph: str, digest_hex: str | None, quads: int | None,
               types: dict[str, int] | None = None, *, hubs: Iterable[str] = ()) -> "GraphDigest":
        """Continue from a recorded digest (and entities per class, if recorded); an empty graph
        starts at zero."""
        hubs = frozenset(hubs)
        if digest_hex is None or quads is None:
            return cls(graph, known=False, classes_before=None, hubs=hubs)
        return cls(graph, int(digest_hex, 16), quads, classes_before=None if types is None else dict(types),
                   hubs=hubs)

    @property
    def hex(self) -> str:
        return to_hex(self.total)

    @property
    def types(self) -> dict[str, int] | None:
        """Entities per class (``rdf:type`` quads by object) now, while checked and known."""
        if self.classes_before is None or self.refs is None:
            return None
        out = dict(self.classes_before)
        for (p, o), n in self.refs.items():
            if p == _RDF_TYPE and n:
                out[o] = out.get(o, 0) + n
        return {c: n for c, n in out.items() if n}

    def state(self) -> tuple:
        return (self.total, self.quads, self.known, self.checked,
                None if self.classes_before is None else dict(self.classes_before),
                None if self.refs is None else Counter(self.refs))

    def restore(self, state: tuple) -> None:
        self.total, self.quads, self.known, self.checked, before, refs = state
        self.classes_before = None if before is None else dict(before)
        self.refs = None if refs is None else Counter(refs)

    def recomputed(self, digest_hex: str, quads: int) -> None:
        """The graph was digested afresh from the store (its classes are counted there too)."""
        self.restore((int(digest_hex, 16), quads, True, True, None, None))

    def add_ntriples(self, chunk: bytes) -> None:
        """Whole N-Triples lines written to the graph (one replace makes them N-Quads lines:
        a literal's line breaks are escaped, so `` .\\n`` only ends lines)."""
        if chunk:
            self.add_quad_text(self.quad_text(chunk))

    def add_quad_text(self, text: bytes) -> None:
        """Whole N-Quads lines of this graph written to it (:meth:`quad_text` of N-Triples)."""
        if not text:
            return
        lines = text.splitlines(keepends=True)
        self.total = (self.total + line_sum(lines)) % MODULUS
        self.quads += len(lines)
        self.checked, self.refs = False, None  # some may have been there: count the store

    def add_digested(self, total: int, quads: int, types: dict[str, int] | None = None) -> None:
        """Lines digested elsewhere (by the mapping child of a streamed load). With ``types``
        (their ``rdf:type`` lines per class) they are known to be distinct and new to the graph,
        so the counts stay exact (as :meth:`add_new`); without, as :meth:`add_ntriples`."""
        if not quads:
            return
        self.total = (self.total + total) % MODULUS
        self.quads += quads
        if types is None or self.refs is None or self.hubs:
            self.checked, self.refs = False, None
        else:
            for cls, n in types.items():
                self.refs[(_RDF_TYPE, cls)] += n

    def quad_text(self, chunk: bytes) -> bytes:
        """Whole N-Triples lines as this graph's N-Quads lines (what a dump of it writes)."""
        return chunk.replace(b" .\n", b" <" + self.graph.encode() + b"> .\n")

    def quad_lines(self, chunk: bytes) -> list[bytes]:
        # bytes.splitlines cuts at \n and \r only, and a literal's \r is escaped too
        return self.quad_text(chunk).splitlines(keepends=True)

    def add_new(self, lines: Iterable[bytes]) -> None:
        """N-Quads lines added to the graph that it did not hold before, each once."""
        lines = list(lines)
        self.total = (self.total + line_sum(lines)) % MODULUS
        self.quads += len(lines)
        self._tally(lines, 1)

    def _tally(self, lines: list[bytes], sign: int) -> None:
        refs = self.refs
        if refs is None:
            return
        hubs = self.hubs
        for line in lines:
            # <s> <p> <o> <g> .: IRIs and blank node labels hold no space
            parts = line.split(b" ", 3)
            if len(parts) == 4 and parts[2][:1] == b"<":
                p, o = parts[1][1:-1].decode(), parts[2][1:-1].decode()
                if p == _RDF_TYPE or o in hubs:
                    refs[(p, o)] += sign

    def add_file(self, path: Path) -> None:
        """An N-Triples file about to be added to the graph."""
        with open(path, "rb") as fh:
            for chunk in whole_lines(fh, _CHUNK):
                self.add_ntriples(chunk)

    def remove_lines(self, lines: Iterable[bytes]) -> None:
        """N-Quads lines of quads removed from the graph (each one present before)."""
        lines = list(lines)
        self.total = (self.total - line_sum(lines)) % MODULUS
        self.quads -= len(lines)
        self._tally(lines, -1)

    def remove_quads(self, quads: Iterable) -> None:
        """Quads (``kg.store.interface.Quad``) removed from the graph; others' are ignored."""
        self.remove_lines(nquad(q.subject, q.predicate, q.object, q.graph).encode()
                          for q in quads if q.graph == self.graph)


def digest_lines(lines: Iterable[bytes]) -> tuple[str, int]:
    """(digest, quads) of N-Quads lines, each with its newline (a dump's lines)."""
    total = quads = 0
    batch: list[bytes] = []
    for line in lines:
        if not line.strip():
            continue
        batch.append(line if line.endswith(b"\n") else line + b"\n")
        if len(batch) >= 100_000:
            total, quads = total + line_sum(batch), quads + len(batch)
            batch.clear()
    return to_hex(total + line_sum(batch)), quads + len(batch)


def digest_ntriples_file(path: Path, graph: str) -> tuple[str, int]:
    """(digest, quads) of a graph dumped as N-Triples to ``path`` (what the store gives back)."""
    d = GraphDigest(graph)
    d.add_file(path)
    return d.hex, d.quads


def digest_dump(path: Path) -> dict[str, tuple[str, int]]:
    """Graph → (digest, quads) of a gzip N-Quads dump (``kg dump`` writes one graph per file)."""
    per_graph: dict[str, list[int]] = {}
    with gzip.open(path, "rb") as fh:
        for chunk in whole_lines(fh, _CHUNK):
            lines = [line + b"\n" for line in chunk.split(b"\n") if line.strip()]
            for line in lines:
                graph = line[line.rindex(b"<", 0, line.rindex(b">")) + 1:line.rindex(b">")].decode()
                entry = per_graph.setdefault(graph, [0, 0])
                entry[0] += int.from_bytes(sha256(line).digest())
                entry[1] += 1
    return {g: (to_hex(total), n) for g, (total, n) in per_graph.items()}
