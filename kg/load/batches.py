"""From a loader's entities to written batches: validate each entity, report what fails, write
the rest as N-Triples, and apply upserts (remove the old description first) and versions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Iterator

from kg.load.contract import Entity, Problem
from kg.load.provenance import LoadStats
from kg.load.report import Report
from kg.load.sources import SourceFile
from kg.rdf import BNode, IRI, Literal, PROV, RDF
from kg.rdf.iri import Minter, fragment_prefix
from kg.store.interface import Quad, WriteStore
from kg.validation.compiler import Validator


class OutOfOrder(Exception):
    """A streamed source's entities stopped ascending: the rest must be loaded with upserts,
    after skipping the ``done`` items already streamed (see :func:`kg.load.stream.stream_source`)."""

    def __init__(self, done: int):
        super().__init__(done)
        self.done = done


def load_source(loader, source: SourceFile, m: Minter, validator: Validator, store: WriteStore | None, graph: str,
                 sink, report: Report, stats: LoadStats, *, batch_size: int, upsert: bool, on_read,
                 skip: int = 0, pending_max: int = 200_000, records=None) -> None:
    """Map, validate and write one source into ``sink`` (``.write(text)``; ``.commit()`` loads
    what was written into ``store`` so later upserts see it).

    A focus seen again in the same source (the same corporation twice in one file, a
    concatenation of two diffs) must update what the first one wrote, never add to it. So the
    foci written but not committed are remembered (at most ``pending_max``, then the sink is
    committed, so memory stays flat); one seen again commits the sink first, and from then on
    entities are upserts. Foci that ascend (sorted NTA files) cannot repeat, so only a focus
    below an earlier one switches an insert-only load to upserts. Without a store
    (``store=None``: streamed into an empty dataset) foci must ascend; one that does not raises
    :class:`OutOfOrder` once what came before it is written. ``records``: the source's records,
    when the caller reads them (the rows left by a column mapping, :mod:`kg.load.stream`).
    """
    batch: list[Entity] = []
    pending: set[str] = set()
    last = ""

    def commit() -> None:
        write_batch(batch, store, graph, sink, stats, upsert)
        batch.clear()
        sink.commit()
        pending.clear()
        references.written()

    items = loader.entities(loader.records(source, on_read) if records is None else records, m)
    references = References(store)
    for done, item in enumerate(references.ahead(items)):
        if done < skip:
            continue
        if isinstance(item, Problem):
            stats.read += 1
            stats.rejected += 1
            report.add(source=item.source, line=item.line, key=item.key, constraint=item.constraint, message=item.message)
            continue
        ascending = item.focus > last
        last = max(last, item.focus)
        if store is None:
            if not ascending:
                write_batch(batch, store, graph, sink, stats, upsert)
                raise OutOfOrder(done)
        elif item.focus in pending:  # seen again: commit what the first one wrote, then upsert
            commit()
            upsert = stats.repeats = True
        elif not ascending:  # may repeat one committed earlier: from now on upsert
            upsert = stats.repeats = True
        if len(pending) >= pending_max:
            commit()
        stats.read += item.records
        if item.parts:
            triples = [t for e in (item, *item.parts) for t in (*e.triples, *e.extra)]
        else:
            triples = item.triples + item.extra if item.extra else item.triples
        # a graph holds a triple once: a row given twice (two diffs of a day concatenated) is one
        # past state, not two values of each of its properties
        violations = validator.check(list(dict.fromkeys(triples)))
        if violations:
            stats.rejected += item.records
            for v in violations:
                report.add(source=item.source, line=item.line, key=item.key, focus=v.focus, path=v.path,
                           constraint=v.component.removesuffix("ConstraintComponent"), message=v.message, value=v.value)
            continue
        missing = references.missing(item.requires)
        if missing:
            stats.rejected += item.records
            for iri in missing:
                report.add(source=item.source, line=item.line, key=item.key, focus=item.focus, constraint="reference",
                           message=f"refers to {iri}, which no loaded file describes (load that file first); "
                                   f"not loaded", value=iri)
            continue
        if store is not None:
            pending.add(item.focus)
        batch.append(item)
        # parts are written as entities of their own; the record is counted once, on `item`
        batch.extend(replace(p, records=0, parts=[]) for p in item.parts)
        if len(batch) >= batch_size:
            write_batch(batch, store, graph, sink, stats, upsert)
            batch.clear()
            references.written()
    if batch:
        write_batch(batch, store, graph, sink, stats, upsert)


class References:
    """Which IRIs that entities refer to (``Entity.requires``) the store describes (has an
    ``rdf:type`` for), asked for the store's ``subjects_per_read`` entities at a time (one engine
    request: KG_SPARQL_SUBJECTS) before they are checked.

    Asked one entity at a time, a remote engine spent 30 s of a 35 s load of the real ABR files
    answering ASKs (Virtuoso, ~1.5 ms each). An IRI found stays found (a load only adds what it
    refers to). One not found is asked again, all such at once, when a batch was written since
    (it may have described them). Without a store (a stream into an empty dataset) nothing is.
    """

    def __init__(self, store: WriteStore | None):
        self._store = store
        self._ahead = store.subjects_per_read if store is not None else 0
        self._found: set[str] = set()
        self._absent: set[str] = set()
        self._stale = False

    def ahead(self, items: Iterable) -> Iterator:
        """``items`` unchanged, having asked about the references of the next ones first."""
        if self._store is None:
            yield from items
            return
        chunk: list = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= self._ahead:
                self._learn({iri for item in chunk for iri in getattr(item, "requires", ())})
                yield from chunk
                chunk.clear()
        self._learn({iri for item in chunk for iri in getattr(item, "requires", ())})
        yield from chunk

    def written(self) -> None:
        """The store was written: an IRI absent before may be described now."""
        self._stale = True

    def _learn(self, iris: set[str]) -> None:
        """Ask about the next entities' references; what the last ones lacked is forgotten."""
        wanted = iris - self._found
        self._absent = wanted - self._ask(wanted) if wanted else set()
        self._stale = False

    def _ask(self, iris: set[str]) -> set[str]:
        found = {q.subject.value for q in self._store.quads_of(iris, [str(RDF.type)])} if iris else set()
        self._found |= found
        return found

    def missing(self, requires: Iterable[str]) -> list[str]:
        """The IRIs of ``requires`` that the store does not describe now."""
        if self._store is None:
            return list(requires)
        missing = []
        for iri in requires:
            if iri in self._found:
                continue
            if self._stale:  # once per write: every IRI found absent since, in one request
                self._absent -= self._ask(self._absent)
                self._stale = False
            if iri not in self._found and iri not in self._absent:  # not asked ahead
                if not self._ask({iri}):
                    self._absent.add(iri)
            if iri not in self._found:
                missing.append(iri)
        return missing


def write_batch(batch: list[Entity], store: WriteStore, graph: str, out, stats: LoadStats, upsert: bool) -> None:
    batch = settle_versions(store, graph, batch)
    tally = stats.tally
    lines = []
    summaries = stats.summaries
    for entity in batch:
        stats.loaded += entity.records
        if entity.records:  # a part (a law's revision, a corporation's past state) is not counted apart
            stats.entities += 1
        if stats.touched is not None:
            stats.touched.append(entity.focus)
        if summaries is not None and entity.action != "append":
            summaries.write(entity.focus, entity.action, entity.triples)
        if tally is not None and entity.action != "append":
            tally.add_entity(entity.focus, entity.triples)
        for triples in (entity.triples, entity.extra):
            for s, p, o in triples:
                # inlined kg.rdf.nquad: this line runs 25 times per corporation
                if o.__class__ is Literal:
                    lines.append(f"<{s}> <{p}> {o.nt()} .\n")
                elif o.__class__ is BNode:
                    lines.append(f"<{s}> <{p}> _:{o} .\n")
                else:
                    lines.append(f"<{s}> <{p}> <{o}> .\n")
    if upsert:
        kept = remove_descriptions(store, graph, batch, getattr(stats, "digest", None), tally, rewritten=lines)
        if kept:
            lines = [line for line in lines if line not in kept]
    out.write("".join(lines))


def settle_versions(store: WriteStore, graph: str, batch: list[Entity]) -> list[Entity]:
    """Versioned upserts (``Entity.version``) older than the store's or a later one in the batch
    become appends of their ``extra`` only: the newest description wins whatever the load order."""
    if not any(e.version for e in batch):
        return batch
    best: dict[tuple[str, str], tuple[str, int]] = {}
    stored: dict[tuple[str, str], list[str]] = {}
    if store is not None:  # None: streaming into an empty dataset; else one question for the batch
        versioned = [e for e in batch if e.version is not None and e.action == "upsert"]
        for q in store.quads_of([e.focus for e in versioned], sorted({e.version[0] for e in versioned}), graph):
            stored.setdefault((str(q.subject), q.predicate), []).append(q.object.value)
    for i, e in enumerate(batch):
        if e.version is None or e.action != "upsert":
            continue
        key = (e.focus, e.version[0])
        if key not in best:
            found = stored.get(key)
            best[key] = (max(found), -1) if found else ("", -1)
        if e.version[1] >= best[key][0]:
            best[key] = (e.version[1], i)  # equal versions: the later entity wins
    out = []
    for i, e in enumerate(batch):
        if e.version is not None and e.action == "upsert" and best[(e.focus, e.version[0])][1] != i:
            e = replace(e, action="append", triples=[])
        out.append(e)
    return out


def _by_subject(quads) -> dict[str, list[Quad]]:
    out: dict[str, list[Quad]] = {}
    for q in quads:
        out.setdefault(str(q.subject), []).append(q)
    return out


def remove_descriptions(store: WriteStore, graph: str, batch: list[Entity], digest=None, tally=None, *,
                        rewritten: Iterable[str] = ()) -> set[str]:
    """Delete what the store says about the batch's entities (upsert) in one update.

    An entity is its subject and fragment nodes (:meth:`~kg.store.interface.ReadStore.entity`);
    a deletion also removes the past records that specialise it, and ``Entity.owns`` extends an
    entity to the nodes under its prefixes that it links to (a law's articles), recursively.

    Only the net change is written: a stored triple that the batch writes again (its N-Triples
    line is in ``rewritten``) stays, and the returned lines are the ones not to write. A renamed
    corporation changes 2 of its ~26 triples; removing and writing back the other 24 made a
    national engine's daily diff write ~10x what changed (``tally`` still sees the whole old
    description go: the batch's entities are counted whole as they are written).
    """
    doomed: list[Quad] = []
    wanted: list[tuple[Entity, list[str]]] = []
    for entity in batch:
        if entity.action == "append":
            continue
        subjects = [entity.focus]
        if entity.action == "delete":
            subjects += [str(q.subject) for q in store.quads(None, str(PROV.specializationOf), IRI(entity.focus), graph)]
        wanted.append((entity, subjects))
    # the batch's subjects in one question, then their fragment nodes a level at a time
    # (:meth:`entity` of each, for the whole batch at once)
    stored = _by_subject(store.quads_of([s for _, subjects in wanted for s in subjects], None, graph))
    fragments: list[str] = []
    for entity, subjects in wanted:
        keep = entity.keep if entity.action == "upsert" else frozenset()
        owned: list[str] = []
        for subject in subjects:
            own = fragment_prefix(subject)
            for q in stored.get(subject, ()):
                if q.predicate in keep:
                    continue  # and so are the fragment nodes it links to (a town's point)
                doomed.append(q)
                if isinstance(q.object, IRI) and q.object.startswith(own):
                    fragments.append(str(q.object))
                elif entity.owns and isinstance(q.object, IRI) and q.object.startswith(entity.owns):
                    owned.append(str(q.object))
        seen = set(subjects)
        while owned:  # nodes owned through `Entity.owns`, followed recursively (each once)
            node = owned.pop()
            if node in seen:
                continue
            seen.add(node)
            for q in store.quads(node, None, None, graph):
                doomed.append(q)
                if isinstance(q.object, IRI) and q.object.startswith(entity.owns):
                    owned.append(str(q.object))
    seen_fragments = set(fragments)
    while fragments:
        found = _by_subject(store.quads_of(fragments, None, graph))
        deeper = []
        for node in fragments:
            own = fragment_prefix(node)
            for q in found.get(node, ()):
                doomed.append(q)
                if isinstance(q.object, IRI) and q.object.startswith(own) and q.object not in seen_fragments:
                    seen_fragments.add(str(q.object))
                    deeper.append(str(q.object))
        fragments = deeper
    kept: set[str] = set()
    if doomed:
        doomed = list(dict.fromkeys(doomed))
        if tally is not None:  # kg.load.statistics.Tally: the old descriptions leave their cells
            tally.remove_quads(doomed)
        again = set(rewritten)
        if again:
            removed = []
            for q in doomed:
                line = triple_line(q)
                if line in again:
                    kept.add(line)
                else:
                    removed.append(q)
            doomed = removed
        if doomed:
            store.remove(doomed)
            if digest is not None:  # kg.load.digest.GraphDigest: the removed quads were all there
                digest.remove_quads(doomed)
    return kept


def triple_line(q: Quad) -> str:
    """``q`` as the N-Triples line :func:`write_batch` writes for it (blank nodes never match:
    a stored one is not the batch's)."""
    o = q.object
    if o.__class__ is BNode or q.subject.__class__ is BNode:
        return ""
    if o.__class__ is Literal:
        return f"<{q.subject}> <{q.predicate}> {o.nt()} .\n"
    return f"<{q.subject}> <{q.predicate}> <{o}> .\n"
