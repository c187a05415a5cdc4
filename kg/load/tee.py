"""The ``added`` patch of a graph that is new in a build, copied from what the load bulk-loads.

A graph the previous generation did not have (a first load into an empty dataset) is, when the
build ends, exactly its own ``added`` patch. Reading it back from the store costs the engine a
decode of every term (~7 µs a quad: minutes at tens of millions). The load already holds that
content as text: the N-Triples it hands the store (scratch files, the mapping child's pipe). So
while they are loaded, :class:`Tee` copies them into one gzip N-Quads file, the graph appended to
each line (a ``bytes.replace`` on whole slices, run in the store's read-ahead thread for a pipe);
the cost is gzip.

The copy is the patch only if nothing else changed the graph. The :class:`~kg.load.changes.Capture`
notes, per teed graph, the subjects written otherwise (``dirty``: quads removed by an upsert,
N-Quads lines added) and gives the graph up (``drop``) on anything it cannot follow (a blank node,
a line it does not read, a non-line format, ``remove_graph``, a SPARQL Update). At the end
(:func:`kg.load.changes.Capture.finish`) the copy is used as it is when no teed graph has a
dirty subject and each graph's line count equals its distinct quad count in the store (so every
line is a distinct quad of the graph); otherwise it is filtered (dirty subjects' lines dropped
and their quads read from the store, repeated lines of one entity dropped) and the counts
checked again, and if they still differ the graph is compared whole as before.
"""

from __future__ import annotations

import gzip
import re
import threading
from pathlib import Path
from typing import IO, Callable, Iterator

from kg.store.diff import COMPRESS_LEVEL


class Tee:
    """Copies of the N-Triples bulk-loaded into graphs new in a build, as one gzip N-Quads file."""

    def __init__(self, path: Path, entity_path: Path, entity_prefix: str):
        self.path, self.entity_path = path, entity_path
        self.file = gzip.open(path, "wb", compresslevel=COMPRESS_LEVEL)
        self._entities = open(entity_path, "wb")
        #: lines copied per graph (a dropped graph's lines stay in the file: see :meth:`lines_of`)
        self.lines: dict[str, int] = {}
        #: subjects of teed graphs written otherwise than through the tee
        self.dirty: dict[str, set[str]] = {}
        #: teed graphs given up (compared whole at the end)
        self.dropped: set[str] = set()
        self._lock = threading.Lock()
        # "\n<prefix": a literal the regex engine searches fast ("^" with re.M tries every byte)
        self._entity = re.compile(rb"\n<(" + re.escape(entity_prefix.encode()) + rb"[^>#]*)")
        self._first = re.compile(rb"<(" + re.escape(entity_prefix.encode()) + rb"[^>#]*)")

    def follows(self, graph: str) -> bool:
        return graph in self.lines and graph not in self.dropped

    def start(self, graph: str) -> None:
        self.lines.setdefault(graph, 0)

    def drop(self, graph: str) -> None:
        if graph in self.lines:
            self.dropped.add(graph)

    # --- copying -------------------------------------------------------------------------------
    def feed(self, graph: str, chunk: bytes) -> None:
        """Whole N-Triples lines loaded into ``graph``."""
        if not chunk or not self.follows(graph):
            return
        if b"_:" in chunk:  # a blank node: the engine's label may not be the text's; compare whole
            self.drop(graph)
            return
        if not chunk.endswith(b"\n"):
            chunk += b"\n"
        suffix = b" <" + graph.encode() + b"> .\n"
        n = chunk.count(b"\n")
        if chunk[:1] == b"<" and chunk.count(b" .\n") == n and b"\n#" not in chunk and b"\n\n" not in chunk:
            out = chunk.replace(b" .\n", suffix)  # a raw newline only ends a line in N-Triples
        else:  # comments, blank lines, CRLF, "." without a space: line by line
            lines = []
            for line in chunk.splitlines():
                line = line.strip()
                if not line or line[:1] == b"#":
                    continue
                if line[:1] != b"<" or not line.endswith(b"."):
                    self.drop(graph)
                    return
                lines.append(line[:-1].rstrip() + suffix)
            out, n = b"".join(lines), len(lines)
        entities = set(self._entity.findall(out))
        first = self._first.match(out)
        if first:
            entities.add(first.group(1))
        with self._lock:
            self.file.write(out)
            self.lines[graph] += n
            if entities:
                self._entities.write(b"\n".join(entities) + b"\n")

    def feed_file(self, graph: str, path: Path, size: int = 16 << 20) -> None:
        with open(path, "rb") as fh:
            while self.follows(graph):
                chunk = fh.read(size)
                if not chunk:
                    return
                if not chunk.endswith(b"\n"):
                    chunk += fh.readline()
                self.feed(graph, chunk)

    def reader(self, raw: IO[bytes], graph: str) -> "TeeReader":
        return TeeReader(raw, self, graph)

    # --- the end -------------------------------------------------------------------------------
    def close(self) -> None:
        if not self.file.closed:
            self.file.close()
        if not self._entities.closed:
            self._entities.close()

    def entities(self) -> Iterator[str]:
        """The entities (fragments cut, under the prefix) of every line copied, repeats possible."""
        if not self._entities.closed:
            self._entities.flush()
        with open(self.entity_path, "rb") as fh:
            for line in fh:
                yield line.rstrip(b"\n").decode("utf-8")

    def filtered(self, keep: dict[str, set[str]], on_subject: Callable[[str], None]) -> Iterator[tuple[str, bytes]]:
        """(graph, line) of the copied lines of the graphs in ``keep``, without the lines of the
        subjects ``keep[graph]`` names and without a line repeated within one entity's lines."""
        self.close()
        by_suffix = {b" <" + g.encode() + b"> .\n": g for g in keep}
        skip = {g: {s.encode() for s in subjects} for g, subjects in keep.items()}
        seen: set[bytes] = set()
        entity = b""
        last = b""
        with gzip.open(self.path, "rb") as fh:
            for line in fh:
                graph = by_suffix.get(line[line.rindex(b" <", 0, len(line) - 4):])
                if graph is None:
                    continue
                subject = line[1:line.index(b">")]
                if subject in skip[graph]:
                    continue
                head = subject.split(b"#", 1)[0]
                if head != entity:
                    entity = head
                    seen.clear()
                if line in seen:
                    continue
                seen.add(line)
                if subject != last:
                    last = subject
                    on_subject(subject.decode("utf-8"))
                yield graph, line


class TeeReader:
    """A pipe the store bulk-loads from, copying what it reads into a :class:`Tee` (whole lines)."""

    def __init__(self, raw: IO[bytes], tee: Tee, graph: str):
        self.raw, self.tee, self.graph = raw, tee, graph
        self._tail = b""

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self._copy(data)
        return data

    def readline(self) -> bytes:
        data = self.raw.readline()
        self._copy(data)
        return data

    def readable(self) -> bool:
        return True

    def _copy(self, data: bytes) -> None:
        if not data:  # the end
            if self._tail:
                self.tee.feed(self.graph, self._tail)
                self._tail = b""
            return
        cut = data.rfind(b"\n") + 1
        if not cut:
            self._tail += data
            return
        self.tee.feed(self.graph, self._tail + data[:cut] if self._tail else data[:cut])
        self._tail = data[cut:]
