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

>>> d = GraphDigest("http://x/g")
>>> d.add_ntriples(b'<http://x/a> <http://x/p> "1" .\\n<http://x/b> <http://x/p> "2" .\\n')
>>> d.quads, d.hex == digest_lines([b'<http://x/b> <http://x/p> "2" <http://x/g> .\\n',
...                                 b'<http://x/a> <http://x/p> "1" <http://x/g> .\\n'])[0]
(2, True)
>>> d.remove_lines([b'<http://x/a> <http://x/p> "1" <http://x/g> .\\n'])
>>> d.quads, d.hex == digest_lines([b'<http://x/b> <http://x/p> "2" <http://x/g> .\\n'])[0]
(1, True)
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
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


def line_sum(lines: Iterable[bytes]) -> int:
    """Sum of the SHA-256 (big-endian integers) of ``lines`` (unreduced)."""
    return sum(map(int.from_bytes, map(_digest, map(sha256, lines))))


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

    @classmethod
    def resume(cls, graph: str, digest_hex: str | None, quads: int | None) -> "GraphDigest":
        """Continue from a recorded digest; an empty graph starts at zero."""
        if digest_hex is None or quads is None:
            return cls(graph, known=False)
        return cls(graph, int(digest_hex, 16), quads)

    @property
    def hex(self) -> str:
        return to_hex(self.total)

    def state(self) -> tuple[int, int, bool]:
        return self.total, self.quads, self.known

    def restore(self, state: tuple[int, int, bool]) -> None:
        self.total, self.quads, self.known = state

    def reset(self) -> None:
        """The graph was emptied."""
        self.restore((0, 0, True))

    def add_ntriples(self, chunk: bytes) -> None:
        """Whole N-Triples lines written to the graph (one replace makes them N-Quads lines:
        a literal's line breaks are escaped, so `` .\\n`` only ends lines)."""
        if not chunk:
            return
        # bytes.splitlines cuts at \n and \r only, and a literal's \r is escaped too
        lines = chunk.replace(b" .\n", b" <" + self.graph.encode() + b"> .\n").splitlines(keepends=True)
        self.total = (self.total + line_sum(lines)) % MODULUS
        self.quads += len(lines)

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

    def remove_quads(self, quads: Iterable) -> None:
        """Quads (``kg.store.interface.Quad``) removed from the graph; others' are ignored."""
        self.remove_lines(nquad(q.subject, q.predicate, q.object, q.graph).encode()
                          for q in quads if q.graph == self.graph)


class LineFeed:
    """Bytes read from a stream of N-Triples in arbitrary pieces, handed on in whole lines."""

    def __init__(self, digest: GraphDigest):
        self.digest = digest
        self.tail = b""

    def feed(self, data: bytes) -> None:
        if not data:
            return
        cut = data.rfind(b"\n")
        if cut < 0:
            self.tail += data
            return
        self.digest.add_ntriples(self.tail + data[:cut + 1])
        self.tail = data[cut + 1:]

    def close(self) -> None:
        """The stream ended; a last line without its newline still counts (as the store read it)."""
        if self.tail.strip():
            self.digest.add_ntriples(self.tail + b"\n")
        self.tail = b""


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
