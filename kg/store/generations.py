"""The store: on-disk pyoxigraph generations, switched atomically.

Layout of the data directory::

    CURRENT              name of the generation that is served ("gen-000007")
    gens/gen-000007/     a complete pyoxigraph store; never written after it became current
    .lock                held by the one process that builds a new generation

Why generations: a load must never write into files that readers have open (pyoxigraph read-only
handles beside a writer are undefined behaviour), and a killed load must leave the previous data
served. So a load builds a *new* store directory -- a hard-linked checkpoint of the current one
for small updates, or a fresh bulk load for replacements (deleting millions of quads in place
costs ~30 s and 1.4 GB per million here, a bulk copy ~10 s) -- and only an atomic rename of
``CURRENT`` makes it visible. Anything not named by ``CURRENT`` (or kept as the previous
generation for readers that have not yet reopened) is debris of a failed load and is removed by
the next writer or the next start.

Queries see the union of all named graphs as their default graph; every named graph of a served
generation is a current dataset, links, ontology, code list or metadata graph.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pyoxigraph as ox

from kg.errors import StoreBusy, StoreError
from kg.store.lock import writer_lock
from kg.store.pointer import remove_scratch, write_pointer
from kg.store.oxigraph import OxStore

_GEN = re.compile(r"^gen-(\d{6})$")


class Generations:
    """The data directory: which generation is current, and building the next one."""

    def __init__(self, data_dir: str | os.PathLike[str], *, create: bool = True, bulk_slice: int = 0,
                 bulk_threads: int = 1):
        self.root = Path(data_dir)
        #: how a build's store bulk-loads by default (KG_BULK_SLICE, KG_BULK_THREADS)
        self.bulk = {"bulk_slice": bulk_slice, "bulk_threads": bulk_threads}
        self.gens = self.root / "gens"
        if create:
            self.gens.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = None
        if create:
            self.recover()

    # --- reading -----------------------------------------------------------------------------
    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current_name(self) -> str | None:
        try:
            name = self.pointer.read_text().strip()
        except FileNotFoundError:
            return None
        return name if _GEN.match(name) and (self.gens / name).is_dir() else None

    def current_path(self) -> Path | None:
        name = self.current_name()
        return self.gens / name if name else None

    def open_current(self) -> OxStore | None:
        """A read-only handle on the served generation, or None when nothing is loaded."""
        path = self.current_path()
        if path is None:
            return None
        return OxStore.open(path, read_only=True)

    def served(self) -> "Served":
        """The served generation for a long-lived reader (a server worker)."""
        return Served(self)

    # --- writing -----------------------------------------------------------------------------
    def writer_lock(self, *, wait: float = 0) -> AbstractContextManager[None]:
        """The one writer's lock; ``wait`` seconds for another writer to finish (0: not at all)."""
        return writer_lock(self.root, wait=wait)

    def recover(self) -> list[str]:
        """Remove generations that are neither current nor the one before; returns what went.

        Only when no writer holds the lock: a running load's half-built generation is not debris.
        """
        try:
            with self.writer_lock():
                return self._sweep(keep_previous=True)
        except StoreBusy:
            return []

    def _sweep(self, *, keep_previous: bool) -> list[str]:
        current = self.current_name()
        names = sorted(p.name for p in self.gens.iterdir()) if self.gens.exists() else []
        keep = {current} if current else set()
        if keep_previous and current:
            older = [n for n in names if _GEN.match(n) and n < current]
            if older:
                keep.add(older[-1])
        removed = []
        for name in names:
            if name not in keep:
                shutil.rmtree(self.gens / name, ignore_errors=True)
                removed.append(name)
        remove_scratch(self.root)
        return removed

    def _next_name(self) -> str:
        numbers = [int(m.group(1)) for p in self.gens.iterdir() if (m := _GEN.match(p.name))]
        return f"gen-{(max(numbers) + 1 if numbers else 1):06d}"

    @contextmanager
    def build(self, *, copy_all_except: Iterable[str] | None = None, wait: float = 0) -> Iterator["Build"]:
        """Build the next generation; it becomes current only if the block exits normally.

        ``copy_all_except=None``: start from a hard-linked checkpoint of the current generation
        (cheap; for updates). Otherwise start empty and bulk-copy every current graph except the
        listed graph IRIs (for replacing a dataset without deleting it quad by quad).
        """
        with self.writer_lock(wait=wait):
            self._sweep(keep_previous=True)
            name = self._next_name()
            path = self.gens / name
            current = self.current_path()
            if copy_all_except is None and current is not None:
                primary = ox.Store(str(current))
                try:
                    primary.backup(str(path))
                finally:
                    del primary
                store = ox.Store(str(path))
            else:
                store = ox.Store(str(path))
                if current is not None:
                    _copy_graphs(ox.Store.read_only(str(current)), store, set(copy_all_except or ()), self.root)
            store = OxStore(store, **self.bulk)
            if current is not None:
                # sidecar files (the search index) start as the previous generation's
                for sidecar in current.glob("*.sqlite"):
                    shutil.copyfile(sidecar, path / sidecar.name)
            build = Build(store, path, self.root)
            store = None  # the Build holds the only handle, so closing it closes the database
            try:
                yield build
                # after a large bulk load RocksDB has level-0 compactions pending, and a flush waits
                # for them (9 s at 25M triples, 250 s at 134M). They are this build's debt: left
                # unpaid, the next build's first write waits for them instead (the 3,150-row
                # daily diff after 5.3M corporations: records 257 s of 276 s, bench/README.md
                # session 23), and pyoxigraph's bulk_load + flush, a load's floor, pays them too
                build.store.flush()
                build.close()
                self._switch(name)
            except BaseException:
                build.close()
                shutil.rmtree(path, ignore_errors=True)
                raise
            for hook in build.after_switch:  # still under the lock: the next writer comes after
                hook()
            self._sweep(keep_previous=True)

    def _switch(self, name: str) -> None:
        write_pointer(self.pointer, name)


class Served:
    """The served generation for a long-lived reader, reopened only when ``CURRENT`` names a new one.

    ``CURRENT`` is replaced by a rename, so a new inode (one ``stat`` per request) says when to
    look again; several threads may notice a switch at once, and open it once between them.
    """

    def __init__(self, home: Generations):
        self.home = home
        self._pointer = str(home.pointer)
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._current: tuple[str | None, OxStore] = (None, OxStore.memory())

    def due(self) -> bool:
        """Whether :meth:`get` would wait on another machine (never: the store is local)."""
        return False

    def get(self) -> tuple[str | None, OxStore]:
        """(generation name or None, its store: an empty one before anything is loaded)."""
        try:
            st = os.stat(self._pointer)
            stamp = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp is None or stamp != self._stamp:
            name = self.home.current_name()
            if name != self._current[0]:
                with self._lock:
                    if name != self._current[0]:
                        store = self.home.open_current() if name else None
                        self._current = (name, store if store is not None else OxStore.memory())
            self._stamp = stamp
        return self._current


class Build:
    """A generation under construction: a read-write store nobody else can see yet."""

    def __init__(self, store: OxStore, path: Path, root: Path):
        self.store = store
        self.path = path
        self.root = root
        #: called once the generation is served, before the writer's lock is released
        self.after_switch: list = []

    def tempfile(self, suffix: str = ".nt") -> Path:
        fd, name = tempfile.mkstemp(prefix="tmp-", suffix=suffix, dir=self.root)
        os.close(fd)
        return Path(name)

    def will_write(self, graphs: Iterable[str]) -> None:
        """Nothing to ready: an embedded build's graphs are all its own (a copy in a directory of
        its own), and no server holds its writes for minutes after a bulk load."""

    def close(self) -> None:
        # pyoxigraph closes the database when the last reference goes: drop ours even if an
        # exception's traceback still holds the OxStore
        if self.store is not None:
            self.store.close()
        self.store = None  # type: ignore[assignment]


def _copy_graphs(source: ox.Store, target: ox.Store, skip: set[str], scratch: Path) -> None:
    """Copy named graphs by dumping each to a scratch N-Triples file and bulk-loading it.

    (A FIFO between a dump thread and bulk_load deadlocks: pyoxigraph keeps the GIL while the
    dump blocks opening the pipe. A scratch file costs disk, not memory.)
    """
    for graph in list(source.named_graphs()):
        if not isinstance(graph, ox.NamedNode) or graph.value in skip:
            continue
        fd, name = tempfile.mkstemp(prefix="tmp-copy-", suffix=".nt", dir=scratch)
        os.close(fd)
        try:
            source.dump(name, ox.RdfFormat.N_TRIPLES, from_graph=graph)
            target.bulk_load(path=name, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        except OSError as exc:
            raise StoreError(f"copying graph {graph.value} failed: {exc}") from exc
        finally:
            os.unlink(name)
