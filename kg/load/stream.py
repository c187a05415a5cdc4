"""Loading an empty dataset in two processes: a forked child maps and validates while this one
bulk-loads what it writes (see :func:`stream_source`)."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

from kg.errors import InputError, LoadError
from kg.load.batches import OutOfOrder, load_source
from kg.load.contract import Mapped, Record
from kg.load.digest import GraphDigest, type_objects
from kg.load.provenance import LoadStats, now
from kg.load.statistics import Tally
from kg.load.tee import CopyPlan, GraphCopy
from kg.load.report import Report
from kg.load.sources import SourceFile
from kg.load.written import SummaryWriter
from kg.rdf.iri import Minter
from kg.store.interface import WriteStore
from kg.validation.compiler import Validator


def stream_source(loader, source: SourceFile, m: Minter, validator: Validator, store: WriteStore, graph: str,
                   report: Report, stats: LoadStats, *, batch_size: int, on_read, column_batch: int = 0,
                   on_written: Callable[[], None] | None = None,
                   on_started: Callable[[], None] | None = None) -> int | None:
    """Map and validate in a forked child while this process bulk-loads what it writes.

    Returns None when the whole source was loaded, or how many of its items were when its
    entities stopped ascending (:class:`~kg.load.batches.OutOfOrder`): the caller loads the rest
    with upserts, as a focus may repeat one already loaded.

    With nothing to delete (an empty dataset) the two halves of a load are independent, and on
    two cores they overlap: the child's Python (parse, map, validate, write N-Triples) and
    pyoxigraph's bulk_load run at the same time, joined by an OS pipe. If the child fails, the
    pipe closes, bulk_load ends, and the error aborts the whole generation.

    A loader with ``column_records`` (houjin) maps the rows it can as column batches of
    ``column_batch`` bytes (0: none), and hands the others to the per-row mapping.

    ``on_written`` is called once the child has written the whole source and closed its files
    (the summaries), while the store may still be loading its last lines: a remote engine's bulk
    load goes on for seconds after the last byte (10 s at 200k, on one core), time in which the
    steps that need only the summaries can start. It runs in the thread that reads the pipe.
    ``on_started`` is called once the child is forked: a thread that follows the summaries
    (:class:`kg.link.addresses.LinksAlongside`) is started there, after the fork.
    """
    # the change feed's copy of the lines, made by the child (it makes them N-Quads for the
    # digest anyway) rather than by the thread that feeds the pipe to the store
    plan_copy = getattr(store, "plan_copy", None)
    plan = plan_copy(graph) if plan_copy is not None else None
    ctx = mp.get_context("fork")
    read_fd, write_fd = os.pipe()
    receiver, sender = ctx.Pipe(duplex=False)
    summary_path = stats.summaries.path if stats.summaries is not None else None
    if stats.summaries is not None:
        stats.summaries.fh.flush()
    child = ctx.Process(target=_produce, args=(loader, source, m, validator, graph, (read_fd, write_fd), report.path, sender,
                                               batch_size, summary_path, stats.tally is not None, column_batch,
                                               stats.digest is not None, plan),
                        daemon=True)
    child.start()
    if on_started is not None:  # threads of this process may start now: the child is forked
        on_started()
    os.close(write_fd)
    sender.close()
    outcome: list = []
    stream = _ProgressReader(os.fdopen(read_fd, "rb", buffering=1 << 20), receiver, on_read, outcome,
                             child=child, on_written=on_written)
    try:
        store.add(stream=stream, fmt="ntriples", graph=graph, bulk=True)  # in the store's own slices
    finally:
        stream.close()
        stream.wait(child)  # its last message may be larger than the pipe holds: read it before joining
        child.join()
    if plan is not None:
        store.adopt_copy(plan, outcome[0][1].get("copy") if outcome and outcome[0][0] in ("ok", "resume") else None)
    if not outcome:
        raise LoadError(f"{source.name}: the loading process died (exit code {child.exitcode}); nothing was loaded")
    kind, payload = outcome[0]
    if kind == "input":
        raise InputError(payload)
    if kind not in ("ok", "resume"):
        raise LoadError(f"{source.name}: {payload}")
    stats.read += payload["read"]
    stats.loaded += payload["loaded"]
    stats.rejected += payload["rejected"]
    stats.entities += payload["entities"]
    report.count += payload["reported"]
    if stats.tally is not None:
        stats.tally.merge(payload["tally"])
    if stats.digest is not None:  # the lines are distinct (a streamable loader's): counts stay exact
        total, quads, types = payload["digest"]
        stats.digest.add_digested(total, quads, types)
    return payload["done"] if kind == "resume" else None


class _ProgressReader:
    """The pipe bulk_load reads, also relaying the child's progress and final message."""

    def __init__(self, raw, conn, on_read, outcome: list, *, child=None, on_written: Callable[[], None] | None = None):
        self.raw, self.conn, self.on_read, self.outcome = raw, conn, on_read, outcome
        self.child, self.on_written = child, on_written

    def read(self, n: int = -1) -> bytes:
        self.drain()
        data = self.raw.read(n)
        if not data and self.on_written is not None and n != 0:
            written, self.on_written = self.on_written, None
            self.wait(self.child)  # the end of the lines: the child's files are closed by its last message
            if self.outcome and self.outcome[0][0] == "ok":
                written()
        return data

    def readline(self) -> bytes:
        return self.raw.readline()

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

    def wait(self, child) -> None:
        """Read the child's messages until its final one, or until it is gone."""
        while not self.outcome:
            alive = child.is_alive()  # asked first: what it sent before it ended is read below
            self.drain()
            if self.outcome or not alive:
                return
            child.join(0.1)

    def close(self) -> None:
        self.raw.close()


def _produce(loader, source: SourceFile, m: Minter, validator: Validator, graph: str, fds: tuple[int, int],
             report_path: Path, conn, batch_size: int, summary_path: Path | None = None,
             tallied: bool = False, column_batch: int = 0, digested: bool = False,
             plan: CopyPlan | None = None) -> None:
    """The child half of :func:`_stream_source` (never touches the store).

    It also digests what it writes (:mod:`kg.load.digest`): the parent's reading thread, which
    hands the pipe to the bulk-load threads, is a serial stage of the load, and SHA-256 of each
    line was a third of its Python (200k corporations: 17 s). For the same reason it makes the
    change feed's copy of them (``plan``: :class:`kg.load.tee.GraphCopy`).
    """
    read_fd, write_fd = fds
    os.close(read_fd)  # forked with the pipe's read end: held here, a write would wait for ever
    # once the parent stopped reading (the store failed); without it, the write fails instead
    report = Report(report_path)
    stats = LoadStats("child", "", "", now())
    if tallied:
        stats.tally = Tally(m, {})
    if summary_path is not None:
        stats.summaries = SummaryWriter(summary_path, m)
    pending = [0]

    def progress(n: int) -> None:
        pending[0] += n
        if pending[0] >= 1 << 20:
            conn.send(("progress", pending[0]))
            pending[0] = 0

    outcome = "ok"
    done = None
    try:
        copy = GraphCopy(plan) if plan is not None else None
        with _Sink(os.fdopen(write_fd, "wb", buffering=1 << 20), GraphDigest(graph) if digested else None,
                   copy) as out:
            records = None
            if column_batch and hasattr(loader, "column_records"):
                mapped = loader.column_records(source, m, validator, progress, batch_bytes=column_batch)
                records = None if mapped is None else _write_mapped(mapped, out, stats)
            try:
                load_source(loader, source, m, validator, None, graph, out, report, stats,
                            batch_size=batch_size, upsert=False, on_read=progress, records=records)
            except OutOfOrder as stop:
                if records is not None:  # column_records reads only files whose numbers ascend
                    raise LoadError(f"{source.name}: rows out of order after the column check") from None
                outcome, done = "resume", stop.done
        report.close()
        if stats.summaries is not None:
            stats.summaries.close()
        if pending[0]:
            conn.send(("progress", pending[0]))
        conn.send((outcome, {"read": stats.read, "loaded": stats.loaded, "rejected": stats.rejected,
                             "entities": stats.entities, "reported": report.count, "done": done,
                             "tally": stats.tally.state() if tallied else None,
                             "digest": (out.digest.total, out.digest.quads,
                                        {c.decode(): n for c, n in out.types.items()}) if digested else None,
                             "copy": copy.close() if copy is not None else None}))
    except InputError as exc:
        conn.send(("input", str(exc)))
    except BaseException as exc:  # reported by the parent, which aborts the generation
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _write_mapped(items: Iterator[Mapped | Record], out, stats: LoadStats) -> Iterator[Record]:
    """Writes the mapped batches (N-Triples, summaries, statistics) and passes the other records on."""
    for item in items:
        if isinstance(item, Mapped):
            entities = item.entities
            for piece in item.ntriples:
                out.write_lines(piece, entities=entities)
                entities = b""  # listed with the first piece
            stats.read += item.rows
            stats.loaded += item.rows
            stats.entities += item.rows
            if stats.summaries is not None:
                stats.summaries.write_text(item.summaries)
            if stats.tally is not None:
                stats.tally.add_cells(item.cells)
        else:
            yield item


class _Sink:
    """The pipe to the bulk load, digesting the whole lines written to it, counting their
    ``rdf:type`` lines per class (with distinct lines, the graph's entities per class) and
    copying them for the change feed."""

    def __init__(self, raw, digest: GraphDigest | None, copy: GraphCopy | None = None):
        self.raw, self.digest, self.copy = raw, digest, copy
        self.types: Counter = Counter()

    def write(self, text: str) -> None:
        self.write_lines(text.encode("utf-8"))

    def write_lines(self, data, *, entities: bytes | None = None) -> None:
        """Whole N-Triples lines; ``entities``: when the writer knows them (a mapped batch), the
        IRIs of the entities they describe, one a line, and the lines are plain (``Mapped``)."""
        if self.digest is not None or self.copy is not None:
            data = bytes(data)
            quads = None
            if self.digest is not None:
                quads = self.digest.quad_text(data)
                self.digest.add_quad_text(quads)
                self.types.update(type_objects(data))
            if self.copy is not None:
                self.copy.feed(data, quads, entities=entities)
        self.raw.write(data)

    def __enter__(self) -> "_Sink":
        return self

    def __exit__(self, *_) -> None:
        self.raw.close()
