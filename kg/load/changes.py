"""What a build changes, captured while it writes: the source of the change feed (``/changes/``).

A build starts from generation N (a hard-linked checkpoint, or for ``--replace`` an empty store
with the other graphs copied) and writes in many places: scratch N-Triples bulk-loaded or added
in transactions, upserts that first remove old descriptions, relinking, the metadata graph, the
reference graphs reloaded on every load. Rather than trust each place to report exactly what it
changed -- a bulk load deduplicates, an upsert may write back what it removed, a later batch may
remove what an earlier one added -- the capture only notes *where* writes happen:

* the (graph, subject) of every quad added or removed through the store, cheaply: removed quads
  pass through :meth:`WriteStore.remove`, added ones are the first token of each line of the
  N-Triples / N-Quads text or file being added;
* graphs rewritten as a whole (``remove_graph``, a graph that is new or excluded from a
  ``--replace`` copy, a streamed bulk load, a format whose subjects are not read here).

A graph new in the build is not read back at the end: :mod:`kg.load.tee` copies the N-Triples
bulk-loaded into it as they are loaded, and that copy is its ``added`` patch when the counts say
it holds each of the graph's quads once (otherwise the subjects written otherwise are read back,
or the graph is compared whole).

When the build is done, :meth:`Capture.finish` compares those subjects' quads (and those whole
graphs) in generation N and in the new one (:mod:`kg.store.diff`): "added" is exactly what N+1
holds that N did not, "removed" what N held that N+1 does not, whatever happened in between.
The record goes to the change log (:mod:`kg.store.changelog`) before the generation is served.

Small API, for the pipeline and for other consumers of a load's difference:
``watch(build, home, settings, whole=…)`` → a :class:`Capture` (or None when the feed is off)
that has replaced ``build.store``; ``capture.finish(generation, kind=…, …)`` → the record; its generation's ``added.nq.gz`` and
``removed.nq.gz`` (``ChangeLog(data_dir).file(generation, …)``) hold the difference.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator

from kg.load.tee import CopyPlan, Tee
from kg.rdf import BNode
from kg.rdf.iri import Minter
from kg.settings import Settings
from kg.store.changelog import ChangeLog
from kg.store.diff import PatchWriter, graph_difference, graph_names, subject_difference
from kg.store.interface import Build, Home, Quad, ReadStore, WriteStore

_LINE_FORMATS = ("ntriples", "nquads")


class Capture:
    """The places one build writes, and the difference they make once it is done."""

    def __init__(self, inner: WriteStore, old: ReadStore | None, previous: str | None, minter: Minter,
                 scratch_dir: Path, *, whole: Iterable[str] = (), tee: Tee | None = None):
        self.inner, self.old, self.previous, self.minter = inner, old, previous, minter
        self.scratch_dir = scratch_dir
        self.old_graphs = graph_names(old)  # type: ignore[arg-type]
        #: graphs to compare whole; everything: compare every graph (an arbitrary update)
        self.whole: set[str] = set(whole)
        self.everything = False
        self.subjects: dict[str, set[str]] = {}
        #: copies of what is bulk-loaded into graphs new in this build (None: dump them at the end)
        self.tee = tee
        self.store = CapturingStore(inner, self)

    # --- noting where writes happen ---------------------------------------------------------
    def _tracked(self, graph: str) -> set[str] | None:
        """The subject set of a graph, or None when the graph is compared whole anyway.

        For a graph the tee copies, the subjects written otherwise than through the tee."""
        if self.tee is not None and self.tee.follows(graph):
            return self.tee.dirty.setdefault(graph, set())
        if self.everything or graph in self.whole:
            return None
        if graph not in self.old_graphs:  # new in this build: its whole content is the difference
            self.whole.add(graph)
            return None
        return self.subjects.setdefault(graph, set())

    def _whole(self, graph: str) -> None:
        self.whole.add(graph)
        if self.tee is not None:
            self.tee.drop(graph)

    def teed(self, *, stream, fmt: str, graph: str | None) -> bool:
        """Whether an N-Triples add goes to the tee: its graph is new in this build and was
        written only through the tee so far (then :meth:`added` is not called)."""
        if self.tee is None or fmt != "ntriples" or graph is None or self.everything:
            return False
        if self.tee.follows(graph):
            return True
        if graph in self.old_graphs or graph in self.whole or graph in self.tee.lines:
            return False
        self.tee.start(graph)  # empty until now: whatever is loaded into it is its content
        return True

    def removed(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        for q in quads:
            if q.graph is None:
                self.everything = True
            elif q.subject.__class__ is BNode:  # no pattern reaches a blank node alone
                self._whole(q.graph)
            else:
                tracked = self._tracked(q.graph)
                if tracked is not None:
                    tracked.add(str(q.subject))
            yield q

    def added(self, *, path: Path | None, text: str | None, stream, fmt: str, graph: str | None) -> None:
        if fmt not in _LINE_FORMATS or stream is not None or (fmt == "ntriples" and graph is None):
            if graph is None:
                self.everything = True
            else:
                self._whole(graph)
            return
        if fmt == "ntriples" and self._tracked(graph) is None:  # type: ignore[arg-type]
            return
        for line in _lines(path, text):
            if not line or line[0] == "#" or line.isspace():
                continue
            if line[0] != "<":  # a blank-node subject: no pattern reaches it alone
                self._whole(graph or _graph_of(line) or "")
                continue
            subject = line[1:line.index(">")]
            g = graph if fmt == "ntriples" else _graph_of(line)
            if g is None:
                self.everything = True
                return
            tracked = self._tracked(g)
            if tracked is not None:
                tracked.add(subject)

    # --- the difference ---------------------------------------------------------------------
    def finish(self, generation: str, *, kind: str, retention: int, dataset: str | None = None,
               load: str | None = None, mode: str | None = None, time: dt.datetime | None = None) -> dict:
        """Compare what was touched in the old and the new generation and record the difference
        (in ``KG_DATA_DIR/changes``, keeping ``retention`` generations); returns the record."""
        log = ChangeLog(self.scratch_dir)
        staging = log.stage()
        fd, entity_path = tempfile.mkstemp(prefix="tmp-entities-", suffix=".txt", dir=self.scratch_dir)
        prefix = self.minter.id
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as entity_file:
                def on_subject(iri: str) -> None:
                    if iri.startswith(prefix):
                        entity_file.write(iri.split("#", 1)[0] + "\n")

                new_graphs = graph_names(self.inner)  # type: ignore[arg-type]
                if self.everything:
                    self.whole |= self.old_graphs | new_graphs
                self.whole |= self.old_graphs ^ new_graphs  # a graph that appeared or went
                teed = self._teed(new_graphs)
                patch = self._patch(staging, on_subject, entity_file, teed)
                if patch is None:  # the copies do not add up to the new graphs: compare them whole
                    entity_file.seek(0)
                    entity_file.truncate()
                    teed = {}
                    patch = self._patch(staging, on_subject, entity_file, teed)
                try:
                    for graph in sorted(self.whole - teed.keys()):
                        graph_difference(self.old, self.inner, graph, patch, self.scratch_dir)  # type: ignore[arg-type]
                    for graph, subjects in sorted(self.subjects.items()):
                        if graph not in self.whole:
                            subject_difference(self.old, self.inner, graph, sorted(subjects), patch)  # type: ignore[arg-type]
                finally:
                    patch.close()
            counts = {g: c for g, c in sorted(patch.counts.items())}
            record = {
                "generation": generation, "previous": self.previous, "recorded": True, "kind": kind,
                "published": _iso(time), "dataset": dataset, "load": load, "mode": mode,
                "added": sum(c["added"] for c in counts.values()),
                "removed": sum(c["removed"] for c in counts.values()),
                "graphs": counts,
            }
            with open(entity_path, encoding="utf-8") as entities:
                log.commit(staging, record, (line.rstrip("\n") for line in entities))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            os.unlink(entity_path)
            if self.tee is not None:
                self.tee.close()
                self.tee.path.unlink(missing_ok=True)
                self.tee.entity_path.unlink(missing_ok=True)
            self.old = None  # let go of generation N's read-only handle
        log.prune(retention, generation)
        return log.record(generation, generation) or record

    def _teed(self, new_graphs: set[str]) -> dict[str, int]:
        """The graphs the tee copied and still follows, with their distinct quad counts."""
        if self.tee is None or self.everything:
            return {}
        return {g: self.store.count(g) for g in sorted(self.tee.lines) if self.tee.follows(g) and g in new_graphs}

    def _patch(self, staging: Path, on_subject, entity_file: IO[str], teed: dict[str, int]) -> PatchWriter | None:
        """A patch writer holding the added quads of the ``teed`` graphs (None: the tee's copies,
        even filtered, do not hold each quad of those graphs exactly once)."""
        tee = self.tee
        if not teed or tee is None:
            return PatchWriter(staging, on_subject)
        copied = sum(tee.lines.values())
        if copied == sum(teed.values()) and all(tee.lines[g] == n and not tee.dirty.get(g) for g, n in teed.items()):
            # every line copied is a distinct quad of a teed graph, and nothing else was written
            # into them: the copy is their added patch as it stands (the rest is appended to it)
            patch = PatchWriter(staging, on_subject, added=(tee.file, tee.path))
            for graph, n in teed.items():
                patch.counted(graph, "added", n)
            for entity in tee.entities():
                entity_file.write(entity + "\n")
            return patch
        patch = PatchWriter(staging, on_subject)
        dirty = {g: tee.dirty.get(g, set()) for g in teed}
        patch.write_lines(tee.filtered(dirty, on_subject))
        for graph, subjects in dirty.items():  # their quads as the build left them
            subject_difference(self.old, self.inner, graph, sorted(subjects), patch)  # type: ignore[arg-type]
        if all(patch.counts.get(g, {}).get("added", 0) == n for g, n in teed.items()):
            return patch
        patch.close()
        return None


class CapturingStore:
    """A build's store that tells its :class:`Capture` where each write goes (reads pass through).

    As it sees every write, it also remembers each graph's triple count until the graph is
    written again: a national graph is counted once per load (a scan of 134 million quads),
    not by the metadata and again by the change feed."""

    def __init__(self, inner: WriteStore, capture: Capture):
        self._inner = inner
        self._capture = capture
        self._counts: dict[str, int] = {}

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def known_count(self, graph: str, triples: int) -> None:
        """The count of ``graph`` as the load knows it (its lines were distinct and new), until it
        is written again: the change feed's check of its copies then needs no scan either."""
        self._counts[graph] = triples

    def count(self, graph: str) -> int:
        if graph not in self._counts:
            self._counts[graph] = self._inner.count(graph)
        return self._counts[graph]

    def _written(self, graph: str | None) -> None:
        """Forget the count of ``graph`` (None: a write that may reach any graph)."""
        if graph is None:
            self._counts.clear()
        else:
            self._counts.pop(graph, None)

    def add(self, *, path: Path | None = None, text: str | None = None, stream: IO[bytes] | None = None,
            fmt: str = "nquads", graph: str | None = None, **kwargs) -> None:
        if fmt != "nquads":  # triples go to ``graph`` (None: the default graph, counted in any)
            self._written(graph)
        elif text is not None:  # small (metadata, statistics): the graphs its lines name
            for name in {_graph_of(line) for line in text.splitlines() if line.strip()}:
                self._written(name)
        else:
            self._written(None)
        tee = self._capture.tee
        if not self._capture.teed(stream=stream, fmt=fmt, graph=graph):
            self._capture.added(path=path, text=text, stream=stream, fmt=fmt, graph=graph)
        elif stream is not None and graph in tee.elsewhere:  # type: ignore[union-attr]
            pass  # copied by the process writing the stream (plan_copy)
        elif stream is not None:  # copied as the store reads it (in its read-ahead thread)
            stream = tee.reader(stream, graph)  # type: ignore[union-attr, arg-type]
        elif text is not None:
            tee.feed(graph, text.encode("utf-8"))  # type: ignore[union-attr, arg-type]
        elif path is not None:
            tee.feed_file(graph, path)  # type: ignore[union-attr, arg-type]
        self._inner.add(path=path, text=text, stream=stream, fmt=fmt, graph=graph, **kwargs)

    def plan_copy(self, graph: str) -> CopyPlan | None:
        """Where a streamed load's writer copies the lines of its next stream into ``graph``
        (:class:`kg.load.tee.GraphCopy`), when the change feed copies that graph's content;
        then :meth:`adopt_copy` once the stream is loaded."""
        tee = self._capture.tee
        if tee is None or not self._capture.teed(stream=None, fmt="ntriples", graph=graph):
            return None
        return tee.plan_copy(graph)

    def adopt_copy(self, plan: CopyPlan, made: dict | None) -> None:
        """The copy :meth:`plan_copy` planned, as its writer's close said (None: not made)."""
        self._capture.tee.adopt(plan, made)  # type: ignore[union-attr]

    def remove(self, quads: Iterable[Quad]) -> None:
        def noted(quads: Iterable[Quad]) -> Iterator[Quad]:
            for q in quads:
                if self._counts:
                    self._written(q.graph)
                yield q
        self._inner.remove(self._capture.removed(noted(quads)))

    def remove_graph(self, graph: str) -> None:
        self._written(graph)
        self._capture._whole(graph)
        self._inner.remove_graph(graph)

    def update(self, sparql: str, **kwargs) -> None:
        self._counts.clear()
        self._capture.everything = True  # an update may touch any quad of any graph
        self._inner.update(sparql, **kwargs)

    def close(self) -> None:
        self._inner.close()


def watch(build: Build, home: Home, settings: Settings, *, whole: Iterable[str] = ()) -> Capture | None:
    """Start capturing a build's writes (``build.store`` is replaced by a capturing one).

    ``whole``: graphs the build starts without although generation N had them (``--replace``).
    None when the feed is off (``KG_CHANGES_RETENTION=0``).
    """
    if settings.changes_retention <= 0:
        return None
    minter = Minter(settings.base)
    tee = Tee(build.tempfile(".nq.gz"), build.tempfile(".entities"), minter.id) if settings.changes_tee else None
    capture = Capture(build.store, home.open_current(), home.current_name(), minter, Path(home.root),
                      whole=whole, tee=tee)
    build.store = capture.store  # type: ignore[assignment]
    return capture


def _iso(time: dt.datetime | None) -> str:
    value = (time or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    return value.isoformat().replace("+00:00", "Z")


def _lines(path: Path | None, text: str | None) -> Iterator[str]:
    if text is not None:
        yield from text.splitlines()
        return
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            yield from fh


def _graph_of(line: str) -> str | None:
    """The graph IRI of an N-Quads line (None: a triple of the default graph, or not a line we read)."""
    try:
        rest = line[line.index(">", line.index("<", line.index(">") + 1)) + 1:].lstrip()  # after s and p
        if rest[0] == "<":
            rest = rest[rest.index(">") + 1:]
        elif rest[0] == "_":
            rest = rest[rest.index(" "):]
        else:  # a literal: its closing quote is the first one not escaped
            i = 1
            while rest[i] != '"':
                i += 2 if rest[i] == "\\" else 1
            rest = rest[i + 1:]
            if rest.startswith("^^<"):
                rest = rest[rest.index(">") + 1:]
            elif rest.startswith("@"):
                rest = rest[rest.index(" "):]
        rest = rest.strip()
        return rest[1:rest.index(">")] if rest.startswith("<") else None
    except (ValueError, IndexError):
        return None
