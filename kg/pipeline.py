"""The one loading path every source shares.

file(s) → loader records → entities (triples) → compiled SHACL → valid: N-Triples scratch file,
rejected: report → bulk load into a new store generation → metadata → switch current.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pyoxigraph as ox

from kg.iri import Minter
from kg.loaders import get_loader
from kg.loaders.base import Entity, InputError, Problem, SourceFile, expand_inputs, sha256_of
from kg.provenance import LoadStats, SourceRecord, dataset_summary_quads, dataset_triples, load_triples, now, write_quads
from kg.rdf import PROV, nquad
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


def validator_for(dataset: str, base: str) -> Validator:
    return compile_shapes(graph_of(shape_files(dataset), base), reference_graph(base), base=base)


Progress = Callable[[int], None]


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
    try:
        with gens.build(copy_all_except=[graph] if replace else None) as build:
            store = build.store
            _refresh_reference_graphs(store, minter)
            g = ox.NamedNode(graph)
            for source in sources:
                # each file is bulk-loaded before the next is read, so a diff file in the same
                # load sees (and updates) what an earlier full file added
                empty = next(iter(store.quads_for_pattern(None, None, None, g)), None) is None
                stats.sources.append(_describe(source))
                scratch = build.tempfile(".nt")
                try:
                    with open(scratch, "w", encoding="utf-8") as out:
                        _load_source(loader, source, minter, validator, store, graph, out, report, stats,
                                     batch_size=settings.batch_size, upsert=not empty, on_read=on_read)
                    if strict and stats.rejected:
                        report.close()
                        raise StrictFailure(f"--strict: {stats.rejected} record(s) rejected; nothing was loaded "
                                            f"(report: {report.path})")
                    store.bulk_load(path=str(scratch), format=ox.RdfFormat.N_TRIPLES, to_graph=g)
                finally:
                    scratch.unlink(missing_ok=True)
            report.close()
            stats.ended = now()
            stats.report = report.path.name if report.written else None
            _write_metadata(store, minter, loader.info, stats)
            triples = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
            generation = build.path.name
    except InputError as exc:
        report.close()
        raise LoadError(f"{exc}; nothing was loaded, the previous data is unchanged") from None
    finally:
        report.close()
    return LoadResult(stats, report.path if report.written else None, triples, generation)


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
        violations = validator.check(item.triples + item.extra if item.extra else item.triples)
        if violations:
            stats.rejected += item.records
            for v in violations:
                report.add(source=item.source, line=item.line, key=item.key, focus=v.focus, path=v.path,
                           constraint=v.component.removesuffix("ConstraintComponent"), message=v.message, value=v.value)
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            _write_batch(batch, store, graph, out, stats, upsert)
            batch = []
    if batch:
        _write_batch(batch, store, graph, out, stats, upsert)


def _write_batch(batch: list[Entity], store: ox.Store, graph: str, out, stats: LoadStats, upsert: bool) -> None:
    if upsert:
        _remove_descriptions(store, graph, batch)
    lines = []
    for entity in batch:
        stats.loaded += entity.records
        stats.entities += 1
        for s, p, o in entity.triples:
            lines.append(nquad(s, p, o))
        for s, p, o in entity.extra:
            lines.append(nquad(s, p, o))
    out.write("".join(lines))


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
        for subject in subjects:
            own = subject.value + ("-" if "#" in subject.value else "#")
            for q in store.quads_for_pattern(subject, None, None, g):
                if q.predicate.value in keep:
                    continue
                doomed.append(q)
                if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(own):
                    doomed.extend(store.quads_for_pattern(q.object, None, None, g))
    if doomed:
        body = " .\n".join(str(q.triple) for q in doomed)
        store.update(f"DELETE DATA {{ GRAPH <{graph}> {{\n{body} .\n}} }}")


def _write_metadata(store: ox.Store, m: Minter, info, stats: LoadStats) -> None:
    meta = m.graph("meta")
    graph = m.graph(stats.dataset)
    old = dataset_summary_quads(store, graph, meta)
    if old:
        body = " .\n".join(str(q.triple) for q in old)
        store.update(f"DELETE DATA {{ GRAPH <{meta}> {{\n{body} .\n}} }}")
    text = write_quads(load_triples(stats, info, m), meta)
    store.load(input=text, format=ox.RdfFormat.N_QUADS)
    text = write_quads(dataset_triples(info, m, store=store, last_load=stats.load_id, modified=stats.ended or now()), meta)
    store.load(input=text, format=ox.RdfFormat.N_QUADS)
