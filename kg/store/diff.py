"""The exact difference between two versions of a graph, as a pair of gzip N-Quads files.

A load builds generation N+1 from N (:mod:`kg.store.generations`); the change feed publishes
what N+1 holds that N did not (``added``) and what N held that N+1 does not (``removed``), so
that a copy of N plus the one file minus the other is N+1, quad for quad. Both generations are
on disk and immutable once the build ends, so the difference is taken by asking each store
about the other's quads, in the engine's own terms (no conversion to Python terms for the
quads that did not change):

* :func:`subject_difference`: only the quads of given subjects (what a load wrote or removed;
  cost proportional to what the load touched);
* :func:`graph_difference`: a whole graph (a ``--replace``, a rebuilt ``graph/links``, the
  reference graphs reloaded on every load). Both graphs are read once, in step (the engine lists
  a graph in the same order in every store), and only quads that differ are looked up: cost
  proportional to both graphs' size (reading a quad back costs the engine ~5 µs: it decodes each
  term), memory flat. A graph the old generation lacks is the new graph itself, written by the
  engine's dump.

On a remote engine (:class:`kg.store.remote.RemoteStore`) the same two functions ask the
store interface instead: a subject's quads come a batch of subjects per request
(``quads_of``), and a whole graph is compared as two dumps sorted on disk (``sort``, bytes
order) and merged line by line: memory flat, cost a read of both versions of the graph. Both
dumps are written the embedded store's way (``RemoteStore.dump``), so equal quads are equal
lines.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

import pyoxigraph as ox

from kg.store.gzipped import FAST, open_gzip
from kg.store.oxigraph import OxStore



class PatchWriter:
    """``added.nq.gz`` and ``removed.nq.gz`` in a directory, with counts per graph.

    ``on_subject(iri)`` is called with the subject of every quad written (consecutive repeats
    skipped): the caller turns subjects into the entities a change touched.
    """

    ADDED, REMOVED = "added.nq.gz", "removed.nq.gz"

    def __init__(self, directory: Path, on_subject: Callable[[str], None] | None = None, *,
                 added: tuple[IO[bytes], Path] | None = None):
        """``added``: an open gzip file (and its path) already holding added quads, to continue
        and move into place on :meth:`close` (the copy a load made while loading a new graph)."""
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._continued = added
        # the fastest level (patches are written by every load, and a first load's is its graph)
        self._files = {"added": added[0] if added else open_gzip(directory / self.ADDED, "wb", level=FAST),
                       "removed": open_gzip(directory / self.REMOVED, "wb", level=FAST)}
        self.counts: dict[str, dict[str, int]] = {}
        self._on_subject = on_subject
        self._last_subject = ""

    def write_lines(self, lines: Iterable[tuple[str, bytes]]) -> None:
        """Added N-Quads lines, as they are, with their graph (for the counts)."""
        out = self._files["added"]
        batch: list[bytes] = []
        counts: dict[str, int] = {}
        for graph, line in lines:
            batch.append(line)
            counts[graph] = counts.get(graph, 0) + 1
            if len(batch) >= 10_000:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
        for graph, n in counts.items():
            self._count(graph, "added", n)

    def counted(self, graph: str, kind: str, n: int) -> None:
        """Count quads written to the file by someone else (the load's copy of a new graph)."""
        self._count(graph, kind, n)

    def _count(self, graph: str, kind: str, n: int) -> None:
        entry = self.counts.setdefault(graph, {"added": 0, "removed": 0})
        entry[kind] += n

    def _subject(self, subject) -> None:
        if subject.__class__ is ox.NamedNode and self._on_subject is not None:
            value = subject.value
            if value != self._last_subject:
                self._last_subject = value
                self._on_subject(value)

    def write(self, kind: str, quads: Iterable[ox.Quad], graph: str) -> None:
        """Quads (all of ``graph``) that were added or removed."""
        lines = []
        n = 0
        for q in quads:
            lines.append(f"{q} .\n")
            self._subject(q.subject)
            n += 1
            if len(lines) >= 10_000:
                self._files[kind].write("".join(lines).encode("utf-8"))
                lines.clear()
        if lines:
            self._files[kind].write("".join(lines).encode("utf-8"))
        if n:
            self._count(graph, kind, n)

    def write_triple_lines(self, kind: str, lines: Iterable[bytes], graph: str) -> None:
        """N-Triples lines (each ``… .\n``, as a dump writes them) of ``graph`` that were added or
        removed, written as N-Quads."""
        suffix = f" <{graph}> .\n".encode()
        out, batch, n = self._files[kind], [], 0
        for line in lines:
            batch.append(line[:-3] + suffix)
            n += 1
            if self._on_subject is not None and line.startswith(b"<"):
                value = line[1:line.index(b">")].decode("utf-8")
                if value != self._last_subject:
                    self._last_subject = value
                    self._on_subject(value)
            if len(batch) >= 10_000:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
        if n:
            self._count(graph, kind, n)

    def write_dump(self, store: OxStore, graph: str, scratch_dir: Path) -> None:
        """Every quad of ``graph`` as added (a graph the old generation did not have).

        The engine writes N-Triples (fast, in Rust); the graph name is appended to each line.
        """
        fd, scratch = tempfile.mkstemp(prefix="tmp-diff-", suffix=".nt", dir=scratch_dir)
        os.close(fd)
        try:
            store.dump(graph, Path(scratch))
            with open(scratch, "rb") as src:
                while lines := src.readlines(1 << 20):
                    self.write_triple_lines("added", lines, graph)
        finally:
            os.unlink(scratch)

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        if self._continued is not None:
            os.replace(self._continued[1], self.directory / self.ADDED)
            self._continued = None


def _engine(store: OxStore | None) -> ox.Store | None:
    return None if store is None else store._store


def graph_difference(old: OxStore | None, new: OxStore, graph: str, patch: PatchWriter, scratch_dir: Path) -> None:
    """The whole difference of one graph between two stores (``old=None``: no previous generation)."""
    if not isinstance(new, OxStore):
        _sorted_difference(old, new, graph, patch, scratch_dir)
        return
    g = ox.NamedNode(graph)
    before, after = _engine(old), _engine(new)
    had = before is not None and next(iter(before.quads_for_pattern(None, None, None, g)), None) is not None
    if not had:
        patch.write_dump(new, graph, scratch_dir)
        return
    added: list[ox.Quad] = []
    removed: list[ox.Quad] = []
    for kind, q in _merge(before.quads_for_pattern(None, None, None, g), after.quads_for_pattern(None, None, None, g),
                          before, after):
        (added if kind else removed).append(q)
        _write_when_full(patch, graph, added, removed)
    _write_when_full(patch, graph, added, removed, full=0)


def _merge(olds: Iterator[ox.Quad], news: Iterator[ox.Quad], before: ox.Store, after: ox.Store
           ) -> Iterator[tuple[bool, ox.Quad]]:
    """(True, quad) for each quad only ``news`` has, (False, quad) for each only ``olds`` has.

    Both iterators walk the same index of the same graph, and the engine encodes a term the same
    way in every store, so the two sequences come in the same order: equal heads are skipped with
    no lookup, and only where they differ is one store asked about the other's quad (cost: one
    pass over each graph plus a lookup per difference). The lookups make it correct in any order:
    a quad is called removed only if the new store lacks it, added only if the old one does.
    """
    a, b = next(olds, None), next(news, None)
    while a is not None and b is not None:
        if a == b:
            a, b = next(olds, None), next(news, None)
        elif a not in after:
            yield False, a
            a = next(olds, None)
        elif b not in before:
            yield True, b
            b = next(news, None)
        else:  # both unchanged, met out of order: `a` was checked, its twin is checked when reached
            a = next(olds, None)
    while a is not None:
        if a not in after:
            yield False, a
        a = next(olds, None)
    while b is not None:
        if b not in before:
            yield True, b
        b = next(news, None)


def subject_difference(old: OxStore | None, new: OxStore, graph: str, subjects: Iterable[str],
                       patch: PatchWriter) -> None:
    """The difference of the quads of ``subjects`` in one graph between two stores."""
    if not isinstance(new, OxStore):
        _queried_difference(old, new, graph, subjects, patch)
        return
    g = ox.NamedNode(graph)
    before, after = _engine(old), _engine(new)
    added: list[ox.Quad] = []
    removed: list[ox.Quad] = []
    for subject in subjects:
        s = ox.NamedNode(subject)
        now = set(after.quads_for_pattern(s, None, None, g))
        was = set(before.quads_for_pattern(s, None, None, g)) if before is not None else set()
        if now != was:
            added.extend(now - was)
            removed.extend(was - now)
        _write_when_full(patch, graph, added, removed)
    _write_when_full(patch, graph, added, removed, full=0)


def _queried_difference(old, new, graph: str, subjects: Iterable[str], patch: PatchWriter,
                        batch: int = 2000) -> None:
    """:func:`subject_difference` through the store interface: ``batch`` subjects a request."""
    from kg.store.oxigraph import to_ox

    subjects = list(subjects)
    added: list[ox.Quad] = []
    removed: list[ox.Quad] = []
    g = ox.NamedNode(graph)
    for i in range(0, len(subjects), batch):
        part = subjects[i:i + batch]
        now = set(new.quads_of(part, graph=graph))
        was = set(old.quads_of(part, graph=graph)) if old is not None else set()
        # in subject order, as the embedded path writes them (the entity list skips repeats)
        for mine, out in ((now - was, added), (was - now, removed)):
            out.extend(ox.Quad(to_ox(q.subject), ox.NamedNode(q.predicate), to_ox(q.object), g)
                       for q in sorted(mine, key=lambda q: str(q.subject)))
        _write_when_full(patch, graph, added, removed)
    _write_when_full(patch, graph, added, removed, full=0)


def _sorted_difference(old, new, graph: str, patch: PatchWriter, scratch_dir: Path) -> None:
    """:func:`graph_difference` through the store interface: both versions dumped, sorted on
    disk and merged (memory flat whatever the graph's size)."""
    if old is None or not old.has(graph=graph):
        patch.write_dump(new, graph, scratch_dir)
        return
    was, now = _sorted_dump(old, graph, scratch_dir), None
    try:
        now = _sorted_dump(new, graph, scratch_dir)
        pending: dict[str, list[bytes]] = {"added": [], "removed": []}
        with open(was, "rb") as a, open(now, "rb") as b:
            for kind, line in _only_in_each(a, b):
                lines = pending[kind]
                lines.append(line)
                if len(lines) >= 10_000:
                    patch.write_triple_lines(kind, lines, graph)
                    lines.clear()
        for kind, lines in pending.items():
            patch.write_triple_lines(kind, lines, graph)
    finally:
        for path in (was, now):
            if path is not None:
                path.unlink(missing_ok=True)


def _sorted_dump(store, graph: str, scratch_dir: Path) -> Path:
    """``graph`` dumped as N-Triples and sorted by bytes (GNU/POSIX ``sort``, spilling to
    ``scratch_dir`` beyond its buffer), duplicates dropped."""
    fd, raw = tempfile.mkstemp(prefix="tmp-diff-", suffix=".nt", dir=scratch_dir)
    os.close(fd)
    out = Path(raw + ".sorted")
    try:
        store.dump(graph, Path(raw))
        subprocess.run(["sort", "-u", "-T", str(scratch_dir), "-o", str(out), raw], check=True,
                       env={**os.environ, "LC_ALL": "C"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except subprocess.CalledProcessError as exc:
        out.unlink(missing_ok=True)
        raise OSError(f"sort of {graph}'s dump failed: {exc.stderr.decode(errors='replace').strip()}") from None
    finally:
        os.unlink(raw)
    return out


def _only_in_each(a: IO[bytes], b: IO[bytes]) -> Iterator[tuple[str, bytes]]:
    """("removed", line) for each line only in ``a``, ("added", line) for each only in ``b``: two
    files sorted by bytes, read once each.

    >>> import io
    >>> list(_only_in_each(io.BytesIO(b"a\\nc\\nd\\n"), io.BytesIO(b"b\\nc\\ne\\n")))
    [('removed', b'a\\n'), ('added', b'b\\n'), ('removed', b'd\\n'), ('added', b'e\\n')]
    """
    x, y = a.readline(), b.readline()
    while x and y:
        if x == y:
            x, y = a.readline(), b.readline()
        elif x < y:
            yield "removed", x
            x = a.readline()
        else:
            yield "added", y
            y = b.readline()
    while x:
        yield "removed", x
        x = a.readline()
    while y:
        yield "added", y
        y = b.readline()


def _write_when_full(patch: PatchWriter, graph: str, added: list, removed: list, *, full: int = 50_000) -> None:
    """Write and empty the pending quads once there are ``full`` of them (0: whatever is left)."""
    if len(added) + len(removed) >= full:
        patch.write("added", added, graph)
        patch.write("removed", removed, graph)
        added.clear()
        removed.clear()


def graph_names(store: OxStore | None) -> set[str]:
    return set() if store is None else set(store.named_graphs())
