"""The one loading path every source shares.

file(s) → loader records → entities (triples) → compiled SHACL → valid: N-Triples scratch file,
rejected: report → bulk load into a new store generation → metadata → switch current.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
import multiprocessing as mp
import os
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import pyoxigraph as ox

from kg.hubs import count_hubs
from kg.iri import Minter
from kg.linking import LinkStats, ProgramLinkStats, link_programs, update_links
from kg.search import SearchIndex, index_dataset
from kg.summary import SummaryFile, SummaryWriter
from kg.loaders import get_loader
from kg.loaders.base import Entity, InputError, Problem, SourceFile, expand_inputs, sha256_of
from kg.provenance import LoadStats, SourceRecord, dataset_summary_quads, dataset_triples, load_triples, now, write_quads
from kg.rdf import PROV, VOID, BNode, Literal
from kg.report import Report
from kg.resources import code_list_files, graph_of, ontology_files, reference_graph, shape_files
from kg.settings import Settings
from kg.store import Generations
from kg.validation import Validator, compile_shapes


class LoadError(Exception):
    """A load that was refused or failed; the previously loaded data is untouched."""


class StrictFailure(LoadError):
    pass


@dataclass
class LoadResult:
    stats: LoadStats
    report_path: Path | None
    triples: int
    generation: str
    links: "LinkStats | None" = None
    #: seconds spent in each step (records, links, search index, metadata, hub counts, switch), for the CLI
    steps: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=16)
def validator_for(dataset: str, base: str) -> Validator:
    """The compiled shapes of a dataset (compiled once per process: they are immutable)."""
    return compile_shapes(graph_of(shape_files(dataset), base), reference_graph(base), base=base)


Progress = Callable[[int], None]
#: scratch N-Triples smaller than this (~2,000 triples) go in with Store.load, not bulk_load
SMALL_SOURCE = 256 * 1024
SMALL_FLUSH = 32 << 20


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
    try:
        sources = expand_inputs(paths, loader.suffixes)
    except InputError as exc:
        raise LoadError(str(exc)) from None
    if not sources:
        raise LoadError(f"no {'/'.join(loader.suffixes)} files in {', '.join(map(str, paths))}")
    validator = validator_for(dataset, settings.base)
    gens = Generations(settings.data_path)
    _check_base(gens, minter)
    graph = minter.graph(dataset)
    load_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    stats = LoadStats(load_id, dataset, "replace" if replace else "update", now())
    report = Report(settings.data_path / "reports" / f"{load_id}-{dataset}.csv")
    total = sum(s.size for s in sources)
    on_read = progress(total) if progress else None
    linked = dataset in LINKED
    links_stats = None
    incremental = dataset == "houjin"
    # program links are few: a --replace of programs keeps graph/links and _relink recomputes them
    excluded = [graph, minter.graph("links")] if linked and dataset != "programs" else [graph]
    steps: dict[str, float] = {}
    clock = time.monotonic()

    def step(name: str) -> None:
        nonlocal clock
        now_ = time.monotonic()
        steps[name] = now_ - clock
        clock = now_

    try:
        with gens.build(copy_all_except=excluded if replace else None) as build:
            store = build.store
            _refresh_reference_graphs(store, minter)
            g = ox.NamedNode(graph)
            was_empty = next(iter(store.quads_for_pattern(None, None, None, g)), None) is None
            if dataset in SUMMARISED:
                stats.summaries = SummaryWriter(build.tempfile(".tsv"), minter)
            if (linked or incremental) and not was_empty and not replace:
                stats.touched = []
            unflushed = 0
            for source in sources:
                # each file is bulk-loaded before the next is read, so a diff file in the same
                # load sees (and updates) what an earlier full file added
                empty = next(iter(store.quads_for_pattern(None, None, None, g)), None) is None
                stats.sources.append(_describe(source))
                if empty and getattr(loader, "streamable", False) and not strict:
                    _stream_source(loader, source, minter, validator, store, graph, report, stats,
                                   batch_size=settings.batch_size, on_read=on_read)
                    continue
                scratch = build.tempfile(".nt")
                try:
                    with open(scratch, "w", encoding="utf-8") as out:
                        _load_source(loader, source, minter, validator, store, graph, out, report, stats,
                                     batch_size=settings.batch_size, upsert=not empty, on_read=on_read)
                    if strict and stats.rejected:
                        report.close()
                        raise StrictFailure(f"--strict: {stats.rejected} record(s) rejected; nothing was loaded "
                                            f"(report: {report.path})")
                    size = scratch.stat().st_size
                    if size < SMALL_SOURCE:
                        # bulk_load costs tens of ms per call whatever the size: a zip of 10k small
                        # law files is loaded far faster by transactional loads of each; flushing
                        # now and then keeps the store's write buffers (and so RSS) from growing
                        store.load(path=str(scratch), format=ox.RdfFormat.N_TRIPLES, to_graph=g)
                        unflushed += size
                        if unflushed > SMALL_FLUSH:
                            store.flush()
                            unflushed = 0
                    else:
                        store.bulk_load(path=str(scratch), format=ox.RdfFormat.N_TRIPLES, to_graph=g)
                finally:
                    scratch.unlink(missing_ok=True)
            report.close()
            stats.ended = now()
            step("records")
            stats.report = report.path.name if report.written else None
            rows = None
            summary_path = None
            if stats.summaries is not None:
                stats.summaries.close()
                summary_path = stats.summaries.path
                rows = SummaryFile(summary_path, dedupe=len(sources) > 1)
                stats.summaries = None
            fresh = replace or was_empty
            # a fresh dataset's search index needs only the summaries: it is built in a forked
            # child while this process relinks and counts (each is single-threaded; two cores)
            indexer = _start_indexer(build.path, minter, dataset, rows) if rows is not None and fresh else None
            try:
                if linked:
                    links_stats = _relink(store, minter, dataset, stats, full=fresh, rows=rows)
                    step("links")
                if indexer is None:
                    _build_index(build.path, store, minter, dataset, touched=stats.touched, rows=rows, full=fresh)
                    step("search index")
                triples = _write_metadata(store, minter, loader.info, stats)
                step("metadata")
                if indexer is not None:
                    _finish_indexer(indexer)
                    step("search index (rest)")
                count_hubs(store, minter, build.path, find=fresh)
                step("hub counts")
            finally:
                if indexer is not None and indexer.is_alive():
                    indexer.kill()
                    indexer.join()
                if summary_path is not None:
                    summary_path.unlink(missing_ok=True)
            generation = build.path.name
        step("switch")
    except InputError as exc:
        report.close()
        raise LoadError(f"{exc}; nothing was loaded, the previous data is unchanged") from None
    finally:
        report.close()
    return LoadResult(stats, report.path if report.written else None, triples, generation, links_stats, steps)


def _check_base(gens: Generations, minter: Minter) -> None:
    store = gens.open_current()
    if store is None:
        return
    found = {q.object.value for q in store.quads_for_pattern(None, ox.NamedNode("http://rdfs.org/ns/void#uriSpace"), None)}
    if found and minter.id not in found:
        raise LoadError(f"the store in {gens.root} was loaded with IRIs under {sorted(found)[0]}, not {minter.id}; "
                        f"set KG_BASE_URI to the same base or use another KG_DATA_DIR")


def _describe(source: SourceFile) -> SourceRecord:
    return SourceRecord(source.name, source.size, sha256_of(source))


def _refresh_reference_graphs(store: ox.Store, m: Minter) -> None:
    """Ontology and code lists travel with the code: reload them into every generation."""
    for name, files in (("ontology", ontology_files()), ("codes", code_list_files())):
        g = ox.NamedNode(m.graph(name))
        store.remove_graph(g)
        for path in files:
            store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=m.base, to_graph=g)


def _load_source(loader, source: SourceFile, m: Minter, validator: Validator, store: ox.Store, graph: str,
                 out, report: Report, stats: LoadStats, *, batch_size: int, upsert: bool, on_read) -> None:
    batch: list[Entity] = []
    for item in loader.entities(loader.records(source, on_read), m):
        if isinstance(item, Problem):
            stats.read += 1
            stats.rejected += 1
            report.add(source=item.source, line=item.line, key=item.key, constraint=item.constraint, message=item.message)
            continue
        stats.read += item.records
        if item.parts:
            triples = [t for e in (item, *item.parts) for t in (*e.triples, *e.extra)]
        else:
            triples = item.triples + item.extra if item.extra else item.triples
        violations = validator.check(triples)
        if violations:
            stats.rejected += item.records
            for v in violations:
                report.add(source=item.source, line=item.line, key=item.key, focus=v.focus, path=v.path,
                           constraint=v.component.removesuffix("ConstraintComponent"), message=v.message, value=v.value)
            continue
        batch.append(item)
        # parts are written as entities of their own; the record is counted once, on `item`
        batch.extend(replace(p, records=0, parts=[]) for p in item.parts)
        if len(batch) >= batch_size:
            _write_batch(batch, store, graph, out, stats, upsert)
            batch = []
    if batch:
        _write_batch(batch, store, graph, out, stats, upsert)


#: datasets whose loads change the links graph
LINKED = ("houjin", "abr", "programs")


def _relink(store: ox.Store, m: Minter, dataset: str, stats: LoadStats, *, full: bool,
            rows=None) -> "LinkStats | ProgramLinkStats":
    """Keep graph/links in step with the load, in the same generation (so they switch together)."""
    if dataset == "programs":  # only the program links (authority, legal basis) change
        return link_programs(store, m)
    if dataset == "houjin" and rows is not None:
        # what the load wrote says where each corporation is; with `full` (an empty or replaced
        # dataset) that is every corporation there is
        return update_links(store, m, full=full, rows=rows)
    if full or dataset == "abr" or stats.touched is None:
        # towns may change anywhere, or every corporation is new: recompute all links
        return update_links(store, m, full=True)
    return update_links(store, m, corporations=stats.touched)


#: datasets whose loads record what they wrote (kg.summary) for relinking and indexing
SUMMARISED = ("houjin",)


def _stream_source(loader, source: SourceFile, m: Minter, validator: Validator, store: ox.Store, graph: str,
                   report: Report, stats: LoadStats, *, batch_size: int, on_read) -> None:
    """Map and validate in a forked child while this process bulk-loads what it writes.

    With nothing to delete (an empty dataset) the two halves of a load are independent, and on
    two cores they overlap: the child's Python (parse, map, validate, write N-Triples) and
    pyoxigraph's bulk_load run at the same time, joined by an OS pipe. If the child fails, the
    pipe closes, bulk_load ends, and the error aborts the whole generation.
    """
    ctx = mp.get_context("fork")
    read_fd, write_fd = os.pipe()
    receiver, sender = ctx.Pipe(duplex=False)
    summary_path = stats.summaries.path if stats.summaries is not None else None
    if stats.summaries is not None:
        stats.summaries.fh.flush()
    child = ctx.Process(target=_produce, args=(loader, source, m, validator, graph, write_fd, report.path, sender,
                                               batch_size, summary_path), daemon=True)
    child.start()
    os.close(write_fd)
    sender.close()
    outcome: list = []
    stream = _ProgressReader(os.fdopen(read_fd, "rb", buffering=1 << 20), receiver, on_read, outcome)
    try:
        store.bulk_load(input=stream, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    finally:
        stream.close()
        child.join()
    stream.drain()
    if not outcome:
        raise LoadError(f"{source.name}: the loading process died (exit code {child.exitcode}); nothing was loaded")
    kind, payload = outcome[0]
    if kind == "input":
        raise InputError(payload)
    if kind != "ok":
        raise LoadError(f"{source.name}: {payload}")
    stats.read += payload["read"]
    stats.loaded += payload["loaded"]
    stats.rejected += payload["rejected"]
    stats.entities += payload["entities"]
    report.count += payload["reported"]


class _ProgressReader:
    """The pipe bulk_load reads, also relaying the child's progress and final message."""

    def __init__(self, raw, conn, on_read, outcome: list):
        self.raw, self.conn, self.on_read, self.outcome = raw, conn, on_read, outcome

    def read(self, n: int = -1) -> bytes:
        self.drain()
        return self.raw.read(n)

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        try:
            while self.conn.poll():
                message = self.conn.recv()
                if message[0] == "progress":
                    if self.on_read:
                        self.on_read(message[1])
                else:
                    self.outcome.append(message)
        except (EOFError, OSError):
            pass

    def close(self) -> None:
        self.raw.close()


def _start_indexer(gen_dir: Path, m: Minter, dataset: str, rows: SummaryFile) -> "mp.process.BaseProcess":
    """Index a fresh dataset from its summaries in a forked child (it never touches the store)."""
    child = mp.get_context("fork").Process(target=_index_child, args=(gen_dir, m, dataset, rows), daemon=True)
    child.start()
    return child


def _index_child(gen_dir: Path, m: Minter, dataset: str, rows: SummaryFile) -> None:
    _build_index(gen_dir, None, m, dataset, rows=rows, full=True)


def _build_index(gen_dir: Path, store: ox.Store | None, m: Minter, dataset: str, **how) -> None:
    """(Re)index ``dataset`` in the generation's search index (``how``: see :func:`index_dataset`)."""
    index = SearchIndex.for_generation(gen_dir)
    try:
        index_dataset(store, m, index, dataset, **how)  # type: ignore[arg-type]
    finally:
        index.close()


def _finish_indexer(child: "mp.process.BaseProcess") -> None:
    child.join()
    if child.exitcode != 0:
        raise LoadError(f"building the search index failed (exit status {child.exitcode}); nothing was loaded, "
                        f"the previous data is unchanged")


def _produce(loader, source: SourceFile, m: Minter, validator: Validator, graph: str, write_fd: int,
             report_path: Path, conn, batch_size: int, summary_path: Path | None = None) -> None:
    """The child half of :func:`_stream_source` (never touches the store)."""
    report = Report(report_path)
    stats = LoadStats("child", "", "", now())
    if summary_path is not None:
        stats.summaries = SummaryWriter(summary_path, m)
    pending = [0]

    def progress(n: int) -> None:
        pending[0] += n
        if pending[0] >= 1 << 20:
            conn.send(("progress", pending[0]))
            pending[0] = 0

    try:
        with os.fdopen(write_fd, "w", encoding="utf-8", buffering=1 << 20) as out:
            _load_source(loader, source, m, validator, None, graph, out, report, stats,
                         batch_size=batch_size, upsert=False, on_read=progress)
        report.close()
        if stats.summaries is not None:
            stats.summaries.close()
        if pending[0]:
            conn.send(("progress", pending[0]))
        conn.send(("ok", {"read": stats.read, "loaded": stats.loaded, "rejected": stats.rejected,
                          "entities": stats.entities, "reported": report.count}))
    except InputError as exc:
        conn.send(("input", str(exc)))
    except BaseException as exc:  # reported by the parent, which aborts the generation
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _write_batch(batch: list[Entity], store: ox.Store, graph: str, out, stats: LoadStats, upsert: bool) -> None:
    batch = _settle_versions(store, graph, batch)
    if upsert:
        _remove_descriptions(store, graph, batch)
    lines = []
    summaries = stats.summaries
    for entity in batch:
        stats.loaded += entity.records
        stats.entities += 1
        if stats.touched is not None:
            stats.touched.append(entity.focus)
        if summaries is not None and entity.action != "append":
            summaries.write(entity.focus, entity.action, entity.triples)
        for triples in (entity.triples, entity.extra):
            for s, p, o in triples:
                # inlined kg.rdf.nquad: this line runs 25 times per corporation
                if o.__class__ is Literal:
                    lines.append(f"<{s}> <{p}> {o.nt()} .\n")
                elif o.__class__ is BNode:
                    lines.append(f"<{s}> <{p}> _:{o} .\n")
                else:
                    lines.append(f"<{s}> <{p}> <{o}> .\n")
    out.write("".join(lines))


def _settle_versions(store: ox.Store, graph: str, batch: list[Entity]) -> list[Entity]:
    """Versioned upserts (``Entity.version``) older than the store's or a later one in the batch
    become appends of their ``extra`` only: the newest description wins whatever the load order."""
    if not any(e.version for e in batch):
        return batch
    g = ox.NamedNode(graph)
    best: dict[tuple[str, str], tuple[str, int]] = {}
    for i, e in enumerate(batch):
        if e.version is None or e.action != "upsert":
            continue
        key = (e.focus, e.version[0])
        if key not in best:
            stored = [] if store is None else [  # None: streaming into an empty dataset
                q.object.value for q in store.quads_for_pattern(ox.NamedNode(e.focus), ox.NamedNode(e.version[0]), None, g)]
            best[key] = (max(stored), -1) if stored else ("", -1)
        if e.version[1] >= best[key][0]:
            best[key] = (e.version[1], i)  # equal versions: the later entity wins
    out = []
    for i, e in enumerate(batch):
        if e.version is not None and e.action == "upsert" and best[(e.focus, e.version[0])][1] != i:
            e = replace(e, action="append", triples=[])
        out.append(e)
    return out


def _remove_descriptions(store: ox.Store, graph: str, batch: list[Entity]) -> None:
    """Delete what the store says about the batch's entities (upsert) in one update."""
    g = ox.NamedNode(graph)
    doomed: list[ox.Quad] = []
    for entity in batch:
        if entity.action == "append":
            continue
        focus = ox.NamedNode(entity.focus)
        subjects = [focus]
        if entity.action == "delete":
            subjects += [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(PROV.specializationOf), focus, g)]
        keep = entity.keep if entity.action == "upsert" else frozenset()
        owned: list[ox.NamedNode] = []
        for subject in subjects:
            own = subject.value + ("-" if "#" in subject.value else "#")
            for q in store.quads_for_pattern(subject, None, None, g):
                if q.predicate.value in keep:
                    continue
                doomed.append(q)
                if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(own):
                    doomed.extend(store.quads_for_pattern(q.object, None, None, g))
                elif entity.owns and isinstance(q.object, ox.NamedNode) and q.object.value.startswith(entity.owns):
                    owned.append(q.object)
        seen = {s.value for s in subjects}
        while owned:  # nodes owned through `Entity.owns`, followed recursively (each once)
            node = owned.pop()
            if node.value in seen:
                continue
            seen.add(node.value)
            for q in store.quads_for_pattern(node, None, None, g):
                doomed.append(q)
                if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(entity.owns):
                    owned.append(q.object)
    if doomed:
        body = " .\n".join(dict.fromkeys(str(q.triple) for q in doomed))
        store.update(f"DELETE DATA {{ GRAPH <{graph}> {{\n{body} .\n}} }}")


def _write_metadata(store: ox.Store, m: Minter, info, stats: LoadStats) -> int:
    """Record the load and the dataset's new counts; returns the dataset's triple count."""
    meta = m.graph("meta")
    graph = m.graph(stats.dataset)
    old = dataset_summary_quads(store, graph, meta)
    if old:
        body = " .\n".join(str(q.triple) for q in old)
        store.update(f"DELETE DATA {{ GRAPH <{meta}> {{\n{body} .\n}} }}")
    text = write_quads(load_triples(stats, info, m), meta)
    store.load(input=text, format=ox.RdfFormat.N_QUADS)
    description = dataset_triples(info, m, store=store, last_load=stats.load_id, modified=stats.ended or now())
    store.load(input=write_quads(description, meta), format=ox.RdfFormat.N_QUADS)
    return next(int(o.value) for s, p, o in description if p == VOID.triples)
