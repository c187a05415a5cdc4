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

A streamed load's lines are copied where they are written instead: its mapping child makes
them N-Quads lines for the content digest anyway, so it compresses that text as a
:class:`~kg.store.gzipped.Segment` (:class:`GraphCopy`, planned by :meth:`Tee.plan_copy`) and
this process joins it into the same gzip member (:meth:`Tee.adopt`). The process that feeds the
store's bulk load then only hands the pipe on.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator

from kg.store.gzipped import JoinedGzip, Segment, open_gzip


def quad_text(chunk: bytes, graph: str) -> tuple[bytes, int] | None:
    """Whole N-Triples lines as ``graph``'s N-Quads lines, and how many; None when a line is one
    the copy cannot follow (a blank node: the engine's label may not be the text's)."""
    if b"_:" in chunk:
        return None
    if not chunk.endswith(b"\n"):
        chunk += b"\n"
    suffix = b" <" + graph.encode() + b"> .\n"
    n = _plain_lines(chunk)
    if n:
        return chunk.replace(b" .\n", suffix), n  # a raw newline only ends a line in N-Triples
    lines = []  # comments, blank lines, CRLF, "." without a space: line by line
    for line in chunk.splitlines():
        line = line.strip()
        if not line or line[:1] == b"#":
            continue
        if line[:1] != b"<" or not line.endswith(b"."):
            return None
        lines.append(line[:-1].rstrip() + suffix)
    return b"".join(lines), len(lines)


def _plain_lines(chunk: bytes) -> int:
    """How many lines, when each is ``<...> .`` and a newline (0: some is not)."""
    n = chunk.count(b"\n")
    if chunk[:1] == b"<" and chunk.count(b" .\n") == n and b"\n#" not in chunk and b"\n\n" not in chunk:
        return n
    return 0


class Entities:
    """The entities (fragments cut, under a prefix) of the subjects of whole lines."""

    def __init__(self, prefix: str):
        p = re.escape(prefix.encode())
        # "\n<prefix" is a literal the regex engine searches fast ("^" with re.M tries every
        # byte); the back-reference takes the entity's following lines in the same match
        self._runs = re.compile(rb"\n<(" + p + rb"[^>#]*)[^\n]*(?:\n<\1[>#][^\n]*)*")
        self._first = re.compile(rb"<(" + p + rb"[^>#]*)")

    def of(self, chunk: bytes) -> set[bytes]:
        found = set(self._runs.findall(chunk))
        first = self._first.match(chunk)
        if first:
            found.add(first.group(1))
        return found


@dataclass
class CopyPlan:
    """Where the process that writes a streamed graph's lines puts their copy (see :class:`GraphCopy`)."""

    graph: str
    path: Path
    entity_path: Path
    entity_prefix: str


class GraphCopy:
    """The copy of one graph's lines, made by the process that writes them (a mapping child):
    a gzip segment of their N-Quads lines and the entities they describe, for :meth:`Tee.adopt`."""

    def __init__(self, plan: CopyPlan):
        self.plan = plan
        self._segment = Segment(plan.path)
        self._entity_file = open(plan.entity_path, "wb")
        self._entities = Entities(plan.entity_prefix)
        self.lines, self.ok = 0, True
        self._recent: set[bytes] = set()

    def feed(self, chunk: bytes, quads: bytes | None = None, *, entities: bytes | None = None) -> None:
        """Whole N-Triples lines written, and (when already made) the same as N-Quads lines.

        ``entities``: the writer knows the lines are plain (each ``<s> <p> <o> .``, no blank
        node) and describe these entities (IRIs under the prefix, one a line): they are not
        read from the lines (a mapped batch writes them pattern by pattern, not entity by entity)."""
        if not chunk or not self.ok:
            return
        trusted = quads is not None and (entities is not None or (b"_:" not in chunk and _plain_lines(chunk)))
        if trusted:
            n = chunk.count(b"\n")
        else:
            made = quad_text(chunk, self.plan.graph)
            if made is None:
                self.ok = False
                return
            quads, n = made
        self._segment.write(quads)
        self.lines += n
        if entities is None:
            found = self._entities.of(chunk) - self._recent
            if len(self._recent) > 100_000:  # lines of one entity come together: a window suffices
                self._recent.clear()
            self._recent |= found
            entities = b"\n".join(found) + b"\n" if found else b""
        if entities:
            self._entity_file.write(entities if entities.endswith(b"\n") else entities + b"\n")

    def close(self) -> dict:
        """What :meth:`Tee.adopt` needs (picklable)."""
        crc, size = self._segment.close()
        self._entity_file.close()
        return {"ok": self.ok, "lines": self.lines, "crc": crc, "size": size}


class Tee:
    """Copies of the N-Triples bulk-loaded into graphs new in a build, as one gzip N-Quads file."""

    def __init__(self, path: Path, entity_path: Path, entity_prefix: str):
        self.path, self.entity_path, self.entity_prefix = path, entity_path, entity_prefix
        self.file = JoinedGzip(path)
        self._entities = open(entity_path, "wb")
        #: lines copied per graph (a dropped graph's lines stay in the file: see :meth:`lines_of`)
        self.lines: dict[str, int] = {}
        #: subjects of teed graphs written otherwise than through the tee
        self.dirty: dict[str, set[str]] = {}
        #: teed graphs given up (compared whole at the end)
        self.dropped: set[str] = set()
        #: graphs whose stream is being copied by the process writing it (:meth:`plan_copy`)
        self.elsewhere: set[str] = set()
        self._lock = threading.Lock()
        self._find = Entities(entity_prefix)
        self._plans = 0

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
        made = quad_text(chunk, graph)
        if made is None:
            self.drop(graph)
            return
        out, n = made
        entities = self._find.of(chunk)
        with self._lock:
            self.file.write(out)
            self.lines[graph] += n
            if entities:
                self._entities.write(b"\n".join(entities) + b"\n")

    def plan_copy(self, graph: str) -> CopyPlan:
        """Files for a :class:`GraphCopy` of the next stream loaded into ``graph`` (which the
        store's reader then does not copy)."""
        self.start(graph)
        self.elsewhere.add(graph)
        self._plans += 1
        base = f"{self.path.name}.{self._plans}"
        return CopyPlan(graph, self.path.with_name(base + ".part"), self.path.with_name(base + ".entities"),
                        self.entity_prefix)

    def adopt(self, plan: CopyPlan, made: dict | None) -> None:
        """Join a :class:`GraphCopy` (``made``: what its close said; None: it was not finished)."""
        self.elsewhere.discard(plan.graph)
        try:
            if made is None or not made["ok"]:
                self.drop(plan.graph)
            elif self.follows(plan.graph):
                with self._lock:
                    self.file.join(plan.path, made["crc"], made["size"])
                    self.lines[plan.graph] += made["lines"]
                    with open(plan.entity_path, "rb") as entities:
                        while block := entities.read(1 << 20):
                            self._entities.write(block)
        finally:
            for path in (plan.path, plan.entity_path):
                if os.path.exists(path):
                    os.unlink(path)

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
        with open_gzip(self.path, "rb") as fh:
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
