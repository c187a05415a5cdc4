"""The one loading path every source shares, as a sequence of steps.

file(s) → loader records → entities (triples) → compiled SHACL → valid: N-Triples scratch file,
rejected: report → bulk load into a new store generation → links → search index → metadata →
hub counts → switch current. What differs per source is declared by its loader (``relinks``,
``summarised``, ``streamable``), never by testing the dataset's name here.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from kg.errors import InputError, KGError, LoadError, StrictFailure
from kg.link import LinkStats, LinksAlongside, relink
from kg.load import changes
from kg.load.batches import load_source
from kg.load.digest import GraphDigest, digest_ntriples_file
from kg.load.provenance import (LoadStats, SourceRecord, dataset_summary_quads, dataset_triples, load_triples, now,
                                recorded_classes, recorded_digests, write_quads)
from kg.load.report import Report
from kg.load.signatures import check_policy, check_source
from kg.load.sources import SourceFile, expand_inputs
from kg.load import statistics
from kg.load.stream import stream_source
from kg.load.written import SummaryFile, SummaryWriter, TouchedFile
from kg.loaders import get_loader
from kg.rdf import VOID, nquad
from kg.rdf.iri import Minter
from kg.resources import code_list_files, ontology_files
from kg.settings import Settings
from kg.store import open_home
from kg.store.hubs import count_hubs, listed_hubs
from kg.store.interface import Build, Home, WriteStore
from kg.store.search import SearchIndex, index_dataset
from kg.trust.journal import record_load
from kg.trust.publish import publish_key, sign_journal
from kg.validation.shapes import validator_for

__all__ = ["LoadError", "LoadResult", "StrictFailure", "run_load"]


@dataclass
class LoadResult:
    stats: LoadStats
    report_path: Path | None
    triples: int
    generation: str
    links: "LinkStats | None" = None
    #: seconds spent in each step (records, links, search index, metadata, hub counts, switch), for the CLI
    steps: dict[str, float] = field(default_factory=dict)


Progress = Callable[[int], None]


class _Clock:
    """Seconds per step, for ``kg load``'s ``steps:`` line."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._last = time.monotonic()

    def step(self, name: str) -> None:
        now_ = time.monotonic()
        self.steps[name] = now_ - self._last
        self._last = now_


def run_load(settings: Settings, dataset: str, paths: Sequence[str | Path], *, replace: bool = False,
             strict: bool = False, progress: Callable[[int], Progress] | None = None) -> LoadResult:
    """Load ``paths`` into ``dataset``; upsert by entity unless ``replace``.

    ``progress(total_bytes)`` may return a callback that receives bytes read.
    """
    try:
        loader = get_loader(dataset)
    except KeyError:
        raise LoadError(f"unknown source {dataset!r}") from None
    minter = Minter(settings.base)
    check_policy(settings.signature_policy, settings.nta_keyring)
    if settings.signing_key:  # an unusable key is said before the load, not after its switch
        publish_key(settings)
    try:
        sources = expand_inputs(paths, loader.suffixes)
    except InputError as exc:
        raise LoadError(str(exc)) from None
    order = getattr(loader, "order", None)   # files that refer to each other (abr): base files first
    if order is not None:
        sources = order(sources)
    if not sources:
        raise LoadError(f"no {'/'.join(loader.suffixes)} files in {', '.join(map(str, paths))}")
    home = open_home(settings)
    _check_base(home, minter)
    graph = minter.graph(dataset)
    load_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    stats = LoadStats(load_id, dataset, "replace" if replace else "update", now())
    report = Report(settings.data_path / "reports" / f"{load_id}-{dataset}.csv")
    on_read = progress(sum(s.size for s in sources)) if progress else None
    # a --replace starts empty and copies the other graphs; links that this dataset's entities
    # carry are recomputed from nothing, so they are not copied either (program links are few:
    # a --replace of programs keeps graph/links and relinking recomputes them)
    excluded = [graph, minter.graph("links")] if loader.relinks in ("corporations", "towns") else [graph]
    clock = _Clock()
    try:
        with home.build(copy_all_except=excluded if replace else None) as build:
            # the change feed: note where this build writes (a --replace starts without `excluded`)
            capture = changes.watch(build, home, settings, whole=excluded if replace else ())
            generation = build.path.name

            def record_changes() -> None:
                capture.finish(generation, kind="load", dataset=graph,  # type: ignore[union-attr]
                               load=minter.load(load_id), mode=stats.mode, time=stats.ended,
                               retention=settings.changes_retention)
                clock.step("changes")

            triples, links = _build(build, loader, sources, settings, minter, graph, stats, report, clock,
                                    replace=replace, strict=strict, on_read=on_read, previous=home.current_name(),
                                    written=record_changes if capture is not None else None)
            # the journal entry is written once this generation is served, before the next
            # writer may start (the hook runs under the writer's lock)
            build.after_switch.append(lambda: _journal(settings, stats, generation, triples))
        clock.step("switch")
    except InputError as exc:
        raise LoadError(f"{exc}; nothing was loaded, the previous data is unchanged") from None
    finally:
        report.close()
    return LoadResult(stats, report.path if report.written else None, triples, generation, links, clock.steps)


def _journal(settings: Settings, stats: LoadStats, generation: str, triples: int) -> None:
    """The load's manifest in the journal (存在証明), signed when a signing key is set."""
    try:
        record_load(settings, stats, generation, triples, stats.state)
        if settings.signing_key:
            sign_journal(settings)
    except (OSError, KGError) as exc:
        raise LoadError(f"the load is served ({generation}), but its journal entry could not be written or signed "
                        f"({exc}); `kg verify` will find the store ahead of the journal") from None


def _build(build: Build, loader, sources: list[SourceFile], settings: Settings, minter: Minter, graph: str,
           stats: LoadStats, report: Report, clock: _Clock, *, replace: bool, strict: bool, on_read,
           previous: str | None = None, written: Callable[[], None] | None = None) -> tuple:
    """The steps inside the new generation; returns (dataset triples, link statistics).

    ``written`` runs once the store holds everything the build writes (the change feed's record),
    while the search indexer may still be at work: at 5.3M corporations its last ~70 s kept one
    core, and the change feed's ~25 s the other.
    """
    store = build.store
    _refresh_reference_graphs(store, minter)
    was_empty = not store.has(graph=graph)
    stats.digest = _resume_digest(store, minter, graph, build.path, empty=was_empty)
    if loader.summarised:
        stats.summaries = SummaryWriter(build.tempfile(".tsv"), minter)
    stats.tally = _resume_tally(store, minter, loader, fresh=was_empty or replace)
    # what the build rewrites once its records are in (the dataset's summary, the statistics) is
    # removed before them, and the graphs it writes then are readied before them: after a
    # national bulk load an engine's first transactional write waits for its compaction to
    # catch up (8-17 s at 1M corporations; 369-499 s on Oxigraph server at 5.3M), a bulk load
    # does not (bench/README.md, session 21); so every write after the records is a bulk load
    if stats.tally is not None:
        statistics.clear(store, minter)
    if replace or was_empty:
        build.will_write([minter.graph("meta")] + [minter.graph(g) for g in _rewritten_after_records(loader, stats)])
    store.remove(dataset_summary_quads(store, graph, minter.graph("meta")))
    if loader.relinks and not loader.summarised and not was_empty and not replace:
        # an upsert re-indexes what it wrote; a summarised load's summaries already say that
        stats.touched = TouchedFile(build.tempfile(".touched"))
    fresh = replace or was_empty
    # a fresh dataset's search index needs only the summaries: it is built in a forked child
    # while this process relinks and counts hubs (each is single-threaded; two cores). Into an
    # engine, the child starts with the records and indexes their summaries as they are written,
    # so that its ~130 s of one core at 5.3M corporations do not come after them (they did for
    # 43-72 s). On one 2-core machine shared with Virtuoso that is no faster (930.9 s and 934.2 s:
    # the records took what the tail gave back); with the engine on cores of its own it is the
    # whole difference. Not beside an embedded load, which keeps both cores (loads_in_process).
    summaries = stats.summaries
    follow = (mp.get_context("fork").Event() if fresh and summaries is not None and len(sources) == 1
              and not store.loads_in_process else None)
    indexer = alongside = None
    if follow is not None:
        indexer = _start_indexer(build.path, minter, loader.dataset,
                                 SummaryFile(summaries.path, dedupe=False, until=follow),
                                 memory=settings.search_build_memory)
        if loader.relinks == "corporations":
            # and the address links are written while the records are (LinksAlongside says why)
            alongside = LinksAlongside(store, minter, summaries.path, tally=stats.tally)

    def records_written() -> None:
        follow.set()
        if alongside is not None:
            alongside.written.set()

    try:
        _load_records(build, loader, sources, settings, minter, graph, stats, report, strict=strict, on_read=on_read,
                      checked=not fresh, on_written=records_written if follow is not None else None,
                      on_started=alongside.start if alongside is not None else None)
    except BaseException:
        _stop(indexer)
        if alongside is not None:
            alongside.abandon()
        raise
    report.close()
    stats.ended = now()
    clock.step("records")
    stats.report = report.path.name if report.written else None
    rows = summary_path = None
    if stats.summaries is not None:
        stats.summaries.close()  # what this process wrote of them is in the file: the child may end
        summary_path = stats.summaries.path
        rows = SummaryFile(summary_path, dedupe=len(sources) > 1 or stats.repeats)
        stats.summaries = None
    if follow is not None:
        follow.set()  # also when the rows stopped ascending: then the child ends with those before,
        if stats.repeats:  # and the dataset is indexed again from the deduplicated summaries
            _finish_indexer(indexer)
            indexer = None
    if alongside is not None and (stats.repeats or not alongside.started):
        alongside.abandon()  # relinked in full below, from the deduplicated summaries
        alongside = None
    links = None
    if indexer is None and rows is not None and fresh:
        indexer = _start_indexer(build.path, minter, loader.dataset, rows, memory=settings.search_build_memory)
    try:
        if alongside is not None:
            links = alongside.finish()
            clock.step("links")
        elif loader.relinks:
            links = relink(store, minter, loader.relinks, full=fresh, touched=stats.touched, rows=rows,
                           tally=stats.tally)
            clock.step("links")
        if indexer is None:
            _build_index(build.path, store, minter, loader.dataset, memory=settings.search_build_memory,
                         touched=stats.touched, rows=rows, full=fresh)
            clock.step("search index")
        triples = _write_metadata(store, build, minter, loader.info, stats)
        if stats.tally is not None:
            statistics.save(store, minter, stats.tally)
        clock.step("metadata")
        # the hub counts are the store's work (queries), the index the child's: side by side
        _count_hubs(store, build, minter, loader, stats, links, settings, fresh=fresh, previous=previous)
        clock.step("hub counts")
        if written is not None:
            written()
        if indexer is not None:
            _finish_indexer(indexer)
            clock.step("search index (rest)")
    finally:
        _stop(indexer)
        if alongside is not None:
            alongside.abandon()
        if summary_path is not None:
            summary_path.unlink(missing_ok=True)
        if stats.touched is not None:
            stats.touched.close()
    return triples, links


def _rewritten_after_records(loader, stats: LoadStats) -> list[str]:
    """The graphs (by name) a fresh load writes whole after its records, beside graph/meta:
    the links it recomputes from nothing, and the statistics."""
    names = ["links"] if loader.relinks in ("corporations", "towns") else []
    return names + (["statistics"] if stats.tally is not None else [])


def _load_records(build: Build, loader, sources: list[SourceFile], settings: Settings, minter: Minter, graph: str,
                  stats: LoadStats, report: Report, *, strict: bool, on_read, checked: bool = False,
                  on_written=None, on_started=None) -> None:
    """Map, validate and write every source, one after the other.

    Each file is loaded before the next is read, so a diff file in the same load sees (and
    updates) what an earlier full file added.
    """
    store = build.store
    validator = validator_for(loader.dataset, minter.base)
    refused: list[str] = []
    with Scratch(build, store, graph, settings, stats.digest, checked=checked) as scratch:
        for source in sources:
            empty = not store.has(graph=graph)
            before = _Checkpoint(stats, scratch)
            try:
                # proof of issuer, before anything of the file is parsed
                sha256, verdict = check_source(source, policy=settings.signature_policy,
                                               keyring=settings.nta_keyring, signed=getattr(loader, "signed", False))
                stats.sources.append(SourceRecord(source.name, source.size, sha256, signature=verdict))
                _load_source(loader, source, settings, minter, validator, store, graph, scratch, stats, report,
                             empty=empty, strict=strict, on_read=on_read, on_written=on_written,
                             on_started=on_started)
            except InputError as exc:
                # one file that is not what it claims to be, among several: like a bad row, it is
                # reported and the others load (--strict: the whole load stops)
                if strict or len(sources) == 1 or not before.undo(stats, scratch, store, graph, emptied=empty):
                    raise
                refused.append(str(exc))
                report.add(source=source.name, line=0, key="", constraint="file",
                           message=f"{exc}; this file was not loaded, the others were")
                continue
            if strict and stats.rejected:
                report.close()
                raise StrictFailure(f"--strict: {stats.rejected} record(s) rejected; nothing was loaded "
                                    f"(report: {report.path})")
            scratch.commit()
    if refused and len(refused) == len(sources):
        raise InputError(f"no file could be loaded: {refused[0]}")
    stats.refused = refused


def _load_source(loader, source: SourceFile, settings: Settings, minter: Minter, validator, store: WriteStore,
                 graph: str, scratch: "Scratch", stats: LoadStats, report: Report, *, empty: bool, strict: bool,
                 on_read, on_written=None, on_started=None) -> None:
    skip = 0
    if empty and loader.streamable and not strict:
        skip = stream_source(loader, source, minter, validator, store, graph, report, stats,
                             batch_size=settings.batch_size, on_read=on_read, column_batch=settings.column_batch,
                             on_written=on_written, on_started=on_started)
        if skip is None:
            return
        empty = False  # its entities stopped ascending: the rest is loaded with upserts
        stats.repeats = True
    load_source(loader, source, minter, validator, store, graph, scratch, report, stats,
                batch_size=settings.batch_size, upsert=not empty, on_read=None if skip else on_read,
                skip=skip, pending_max=settings.pending_entities)


class _Checkpoint:
    """What a load had done before a source, so that a refused source can be taken back."""

    def __init__(self, stats: LoadStats, scratch: "Scratch") -> None:
        self.counts = (stats.read, stats.loaded, stats.rejected, stats.entities, len(stats.sources))
        self.touched = None if stats.touched is None else stats.touched.tell()
        self.summaries = stats.summaries.tell() if stats.summaries is not None else None
        self.commits = scratch.commits
        self.digest = stats.digest.state() if stats.digest is not None else None
        self.tally = stats.tally.state() if stats.tally is not None else None

    def undo(self, stats: LoadStats, scratch: "Scratch", store: WriteStore, graph: str, *, emptied: bool) -> bool:
        """Take the source back; False if it cannot be (part of it is in a non-empty dataset)."""
        if scratch.commits != self.commits and not emptied:
            return False
        if emptied:  # the dataset was empty before this source: whatever reached the store is its
            store.remove_graph(graph)
        scratch.discard()
        if self.digest is not None:
            stats.digest.restore(self.digest)
        if stats.tally is not None:
            stats.tally.restore(self.tally)
        stats.read, stats.loaded, stats.rejected, stats.entities, sources = self.counts
        del stats.sources[sources:]
        if self.touched is not None:
            stats.touched.truncate(self.touched)
        if self.summaries is not None:
            stats.summaries.truncate(self.summaries)
        return True


class Scratch:
    """The N-Triples of one source on their way into the store; :meth:`commit` loads what was
    written so far, so that later upserts of the same source see it."""

    def __init__(self, build: Build, store: WriteStore, graph: str, settings: Settings,
                 digest: GraphDigest | None = None, *, checked: bool = False) -> None:
        self.build, self.store, self.graph, self.settings = build, store, graph, settings
        self.digest = digest
        #: an update of a non-empty dataset: lines are checked against the store (:meth:`_digest`)
        self.checked = checked
        self.unflushed = 0
        self.commits = 0
        self._open()

    def _open(self) -> None:
        self.path = self.build.tempfile(".nt")
        self.fh = open(self.path, "w", encoding="utf-8")

    def write(self, text: str) -> None:
        self.fh.write(text)

    def commit(self) -> None:
        self.fh.close()
        try:
            size = self.path.stat().st_size
            # bulk loading costs tens of ms per call whatever the size: a zip of 10k small law
            # files loads far faster by transactional loads of each; flushing now and then keeps
            # the store's write buffers (and so RSS) from growing
            small = size < self.settings.small_source
            if size:
                if self.digest is not None:
                    self._digest(size)
                self.store.add(path=self.path, fmt="ntriples", graph=self.graph, bulk=not small)
            if small:
                self.unflushed += size
                if self.unflushed > self.settings.small_flush:
                    self.store.flush()
                    self.unflushed = 0
        finally:
            self.path.unlink(missing_ok=True)
        self.commits += 1
        self._open()

    def _digest(self, size: int) -> None:
        """Add what is about to be loaded to the digest: checked line by line against the store
        in an update of a moderate size (the counts carry forward), else as it is (the graph
        is counted at the end)."""
        if not (self.checked and self.digest.checked and size <= self.settings.checked_batch):
            self.digest.add_file(self.path)
            return
        lines = list(dict.fromkeys(line for line in self.digest.quad_lines(self.path.read_bytes()) if line.strip()))
        if any(not line.startswith(b"<") for line in lines):  # a blank node subject: not checkable
            self.digest.add_file(self.path)
            return
        subjects = dict.fromkeys(line[1:line.index(b"> ")].decode() for line in lines)
        held = {nquad(q.subject, q.predicate, q.object, q.graph).encode()
                for q in self.store.quads_of(subjects, None, self.graph)}
        self.digest.add_new(line for line in lines if line not in held)

    def discard(self) -> None:
        """Forget what was written since the last commit."""
        self.fh.close()
        self.path.unlink(missing_ok=True)
        self._open()

    def __enter__(self) -> "Scratch":
        return self

    def __exit__(self, *_) -> None:
        self.fh.close()
        self.path.unlink(missing_ok=True)


def _check_base(home: Home, minter: Minter) -> None:
    store = home.open_current()
    if store is None:
        return
    found = {q.object.value for q in store.quads(None, str(VOID.uriSpace), None)}
    if found and minter.id not in found:
        raise LoadError(f"the store in {home.root} was loaded with IRIs under {sorted(found)[0]}, not {minter.id}; "
                        f"set KG_BASE_URI to the same base or use another KG_DATA_DIR")


def _refresh_reference_graphs(store: WriteStore, m: Minter) -> None:
    """Ontology and code lists travel with the code: reload them into every generation."""
    for name, files in (("ontology", ontology_files()), ("codes", code_list_files())):
        graph = m.graph(name)
        store.remove_graph(graph)
        for path in files:
            store.add(path=path, fmt="turtle", base_iri=m.base, graph=graph)


def _start_indexer(gen_dir: Path, m: Minter, dataset: str, rows: SummaryFile, *,
                   memory: int) -> "mp.process.BaseProcess":
    """Index a fresh dataset from its summaries in a forked child (it never touches the store)."""
    child = mp.get_context("fork").Process(target=_build_index, args=(gen_dir, None, m, dataset),
                                           kwargs={"rows": rows, "full": True, "memory": memory}, daemon=True)
    child.start()
    return child


def _stop(child: "mp.process.BaseProcess | None") -> None:
    """Kill the indexer of a build that stopped before it finished."""
    if child is not None and child.is_alive():
        child.kill()
        child.join()


def _build_index(gen_dir: Path, store: WriteStore | None, m: Minter, dataset: str, *, memory: int, **how) -> None:
    """(Re)index ``dataset`` in the generation's search index (``how``: see :func:`index_dataset`)."""
    index = SearchIndex.for_generation(gen_dir, memory=memory)
    try:
        index_dataset(store, m, index, dataset, **how)
    finally:
        index.close()


def _finish_indexer(child: "mp.process.BaseProcess") -> None:
    child.join()
    if child.exitcode != 0:
        raise LoadError(f"building the search index failed (exit status {child.exitcode}); nothing was loaded, "
                        f"the previous data is unchanged")


def _write_metadata(store: WriteStore, build: Build, m: Minter, info, stats: LoadStats) -> int:
    """Record the load, the dataset's new counts and content digest; returns its triple count."""
    meta = m.graph("meta")
    graph = m.graph(stats.dataset)
    digest = stats.digest
    carried = digest.known and digest.checked and digest.types is not None
    if carried:  # every line was checked (or distinct and new): the counts are the graph's
        triples, classes = digest.quads, digest.types
        stats.counts_carried = True
        if hasattr(store, "known_count"):  # a build's capturing store (kg.load.changes)
            store.known_count(graph, triples)
    else:
        triples, classes = store.count(graph), None
        if not digest.known or digest.quads != triples:
            # a line the store already held (or a start that was not recorded): count afresh
            scratch = build.tempfile(".nt")
            try:
                store.dump(graph, scratch)
                digest.recomputed(*digest_ntriples_file(scratch, graph))
            finally:
                scratch.unlink(missing_ok=True)
            stats.digest_recomputed = True
    description = dataset_triples(info, m, store=store, last_load=stats.load_id, modified=stats.ended or now(),
                                  triples=triples, digest=(digest.hex, digest.quads), classes=classes)
    # bulk (the build is not served, and its summary was removed before the records: see _build)
    store.add(text=write_quads(load_triples(stats, info, m), meta) + write_quads(description, meta), fmt="nquads",
              bulk=True)
    stats.state = recorded_digests(store, m)
    return triples


def _count_hubs(store: WriteStore, build: Build, m: Minter, loader, stats: LoadStats, links, settings: Settings, *,
                fresh: bool, previous: str | None) -> None:
    """The hub counts of the new generation: found and counted afresh for a fresh dataset; else
    carried forward by the references this load added and removed in its dataset graph (and in
    graph/links, when it relinked some corporations), the small graphs every load rewrites
    counted again, the others as they were."""
    carried: dict = {}
    if not fresh and stats.digest is not None and stats.digest.refs is not None:
        carried[m.graph(stats.dataset)] = stats.digest.refs
    if getattr(links, "refs", None) is not None:
        carried[m.graph("links")] = links.refs
    written = {m.graph(stats.dataset), m.graph("meta"), m.graph("ontology"), m.graph("codes")}
    if loader.relinks:
        written.add(m.graph("links"))
    if stats.tally is not None:
        written.add(m.graph("statistics"))
    count_hubs(store, m, build.path, find=fresh, hub_min=settings.hub_min, previous=previous,
               carried=carried, rewritten=written - carried.keys())


def _resume_tally(store: WriteStore, m: Minter, loader, *, fresh: bool) -> "statistics.Tally | None":
    """The load-time statistics this load keeps up to date, as the last load left them; None
    when it changes nothing they count."""
    if not (loader.tallied or loader.relinks in ("corporations", "towns")):
        return None
    tally = statistics.resume(store, m)
    if fresh and loader.tallied:  # the dataset starts empty
        tally.reset(statistics.ENTITY_CUBES)
    return tally


def _resume_digest(store: WriteStore, m: Minter, graph: str, gen_dir: Path, *, empty: bool) -> GraphDigest:
    """The digest this load starts from: zero for an empty graph, else the one recorded."""
    if empty:
        return GraphDigest(graph)
    recorded = recorded_digests(store, m).get(graph)
    # the links to the hubs the previous generation counted move their counts (kg.store.hubs)
    return GraphDigest.resume(graph, *(recorded or (None, None)), recorded_classes(store, m, graph),
                              hubs=listed_hubs(gen_dir))
