"""Generations on a remote SPARQL engine: fresh graphs per load, made current by one request.

On the engine::

    {base}graph/houjin/gen-000007     the houjin graph as generation 7 left it (never written after)
    {base}graph/links/gen-000009      ... each dataset graph under the name of the load that wrote it
    {base}graph/generations           the pointer graph: ``kg:currentGeneration`` (the highest of
                                      them) and ``kg:previousGeneration`` of the pointer, and per
                                      generation the engine graphs it is made of

A load (a :class:`RemoteBuild`) starts from the current generation's graphs, *shared*. A graph
it replaces (``--replace``, a first load, the reference graphs every load refreshes) is written
under a fresh name of its own; a served graph it changes (a diff) is not copied: its removals and
additions wait in two small graphs beside it, a :class:`~kg.store.overlay.Layer` that the load
reads through. When the load has finished and validated, one Update request applies the layers
to the graphs they change and rewrites the pointer: readers see the old version or the new one;
engines apply an Update request atomically (SPARQL 1.1 Update, 2.2; Oxigraph and Fuseki do). So
a daily diff costs what it changes, never a copy of the national houjin graph.

A load with no layers (a fresh or replaced dataset) switches by one Graph Store POST instead,
which adds its generation to the pointer: the highest-numbered current generation is the served
one, and the next sweep with work forgets the older facts. With the graphs such a load writes
after its records readied before them (:meth:`RemoteBuild.will_write`), no Update follows its
bulk load: after a national one Oxigraph server holds Updates for minutes while it compacts, not
POSTs.

A failed load drops its graphs; a killed one leaves them, and the next start (or load) drops
them. The pointer graph is also the journal of what exists: a build names each engine graph
there (``kg:buildGraph``) before its first write to it, so finding debris never asks the engine
to list its graphs (a scan of every quad on Virtuoso: 12-55 s for a few hundred thousand).

Readers (:class:`RemoteServed`) see logical graph names only: :class:`kg.store.remote.RemoteStore`
renames graph names in their text and answers. The search index and hub counts stay local, in
``KG_DATA_DIR/gens/gen-NNNNNN/`` beside ``KG_DATA_DIR/CURRENT`` as embedded; so loads run on the
machine that serves (or the index is copied with the data directory).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from kg.errors import StoreBusy, StoreError
from kg.store.lock import writer_lock
from kg.store.pointer import remove_scratch, write_pointer
from kg.rdf.iri import Minter
from kg.store.overlay import Layer
from kg.store.remote import RemoteStore, SparqlClient
from kg.store.dialect import dropped, whole_graph
from kg.store.virtuoso_loader import VirtuosoLoader, isql_binary

_GEN = re.compile(r"^gen-(\d{6})$")


def _number(name: str) -> int:
    """A generation's number (-1 for a name that is none): the newest is the highest."""
    found = _GEN.match(name)
    return int(found.group(1)) if found else -1


def client_from(settings) -> SparqlClient:
    """The engine's endpoints from ``KG_SPARQL_*`` (an unset one is a clear error)."""
    missing = [f"KG_SPARQL_{n.upper()}" for n in ("query", "update", "store")
               if not getattr(settings, f"sparql_{n}")]
    if missing:
        raise StoreError(f"KG_STORE=sparql needs {', '.join(missing)} (the engine's SPARQL endpoints)")
    bulk = None
    if settings.virtuoso_sql:
        if not settings.virtuoso_load_dir:
            raise StoreError("KG_VIRTUOSO_SQL needs KG_VIRTUOSO_LOAD_DIR (a directory Virtuoso may read: DirsAllowed)")
        bulk = VirtuosoLoader(sql=settings.virtuoso_sql, user=settings.virtuoso_user,
                              password=settings.virtuoso_password, directory=Path(settings.virtuoso_load_dir),
                              isql=isql_binary(settings.virtuoso_isql), file_bytes=settings.virtuoso_file_bytes,
                              timeout=settings.sparql_write_timeout)
    return SparqlClient(settings.sparql_query, settings.sparql_update, settings.sparql_store,
                        user=settings.sparql_user, password=settings.sparql_password,
                        timeout=max(settings.update_timeout, settings.query_timeout) + 30,
                        opaque_wkt=settings.sparql_wkt == "opaque", retries=settings.sparql_retries,
                        update_quads=settings.sparql_update_quads, post_bytes=settings.sparql_post_bytes,
                        write_timeout=settings.sparql_write_timeout, loop_connections=settings.query_threads,
                        bulk=bulk, results=settings.sparql_results, subjects=settings.sparql_subjects)


class RemoteGenerations:
    """The remote engine's served generation, and building the next one (see the module)."""

    def __init__(self, settings, *, create: bool = True):
        self.root = settings.data_path
        self.gens = self.root / "gens"
        self.client = client_from(settings)
        self.m = Minter(settings.base)
        self.pointer_graph = str(self.m.generations_graph())
        self._debris = re.compile("^" + re.escape(settings.base + "graph/") + r".+/gen-\d{6}(?:/add|/del)?$")
        if create:
            self.gens.mkdir(parents=True, exist_ok=True)
            self.recover()

    # --- the pointer ------------------------------------------------------------------------------
    def state(self) -> tuple[str | None, str | None, dict[str, dict[str, str]]]:
        """(current name, previous name, {generation name: {logical graph: engine graph}})."""
        current, previous, views, _ = self._read_pointer()
        return current, previous, views

    def _read_pointer(self) -> tuple[str | None, str | None, dict[str, dict[str, str]], set[str]]:
        """The pointer graph as :meth:`state` says it, and every generation it names.

        The pointer may name several current generations: a switch that applies no pending
        changes adds its generation by a Graph Store POST and leaves the older facts for the next
        sweep (see :meth:`_switch`). The highest-numbered is current; the next one is previous."""
        cur, prev = self.m.term("currentGeneration"), self.m.term("previousGeneration")
        holds, version_of = self.m.term("generationGraph"), self.m.term("versionOf")
        ptr = self.pointer_graph
        text = f"""SELECT ?role ?gen ?p ?g WHERE {{ GRAPH <{ptr}> {{
            <{ptr}> ?role ?gen FILTER(?role IN (<{cur}>, <{prev}>))
            OPTIONAL {{ ?gen <{holds}> ?p . ?p <{version_of}> ?g }} }} }}"""
        import json

        _, body = self.client.query(text, named_graphs=[ptr], default_graphs=[ptr],
                                    accept="application/sparql-results+json")
        currents: set[str] = set()
        named: set[str] = set()
        views: dict[str, dict[str, str]] = {}
        for row in json.loads(body)["results"]["bindings"]:
            name = row["gen"]["value"].rsplit("#", 1)[-1]
            named.add(name)
            if row["role"]["value"] == cur:
                currents.add(name)
            view = views.setdefault(name, {})
            if "p" in row and "g" in row:
                view[row["g"]["value"]] = row["p"]["value"]
        current = max(currents, key=_number, default=None)
        previous = max((n for n in named if n != current and _number(n) < _number(current or "")),
                       key=_number, default=None)
        return current, previous, views, named

    def current_name(self) -> str | None:
        return self.state()[0]

    def current_path(self) -> Path | None:
        """The local directory of the served generation's search index and hub counts."""
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return self.gens / name if _GEN.match(name) and (self.gens / name).is_dir() else None

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def open_current(self) -> RemoteStore | None:
        current, _, views = self.state()
        if current is None:
            return None
        return RemoteStore(self.client, views.get(current, {}))

    def served(self) -> "RemoteServed":
        return RemoteServed(self)

    # --- writing ----------------------------------------------------------------------------------
    def writer_lock(self, *, wait: float = 0) -> AbstractContextManager[None]:
        """This machine's one writer (the sidecar files are local; one machine loads)."""
        return writer_lock(self.root, wait=wait)

    def recover(self) -> list[str]:
        """Drop what failed or killed loads left (engine graphs, local directories); returns the
        engine graphs dropped. Only when no writer holds the lock."""
        try:
            with self.writer_lock():
                return self._sweep()
        except StoreBusy:
            return []

    def journal(self) -> tuple[dict[str, list[str]], list[str]]:
        """What the pointer graph says exists: ({generation: its engine graphs}, graphs of builds
        that never switched)."""
        import json

        ptr, holds, building = self.pointer_graph, self.m.term("generationGraph"), self.m.term("buildGraph")
        _, body = self.client.query(
            f"SELECT ?gen ?p ?b WHERE {{ GRAPH <{ptr}> {{ {{ ?gen <{holds}> ?p }} UNION {{ <{ptr}> <{building}> ?b }} }} }}",
            named_graphs=[ptr], default_graphs=[ptr], accept="application/sparql-results+json")
        gens: dict[str, list[str]] = {}
        builds: list[str] = []
        for row in json.loads(body)["results"]["bindings"]:
            if "b" in row:
                builds.append(row["b"]["value"])
            elif "gen" in row and "p" in row:
                gens.setdefault(row["gen"]["value"].rsplit("#", 1)[-1], []).append(row["p"]["value"])
        return gens, builds

    def record_build_graphs(self, graphs: Iterable[str]) -> None:
        """Journal engine graphs a build is about to write (before it writes them)."""
        ptr, building = self.pointer_graph, self.m.term("buildGraph")
        facts = " ".join(f"<{ptr}> <{building}> <{g}> ." for g in graphs)
        if facts:
            self.client.update(f"INSERT DATA {{ GRAPH <{ptr}> {{ {facts} }} }}")

    def _sweep(self) -> list[str]:
        # a killed bulk load's files; the engine may still be ending its last statement
        stopped = self.client.bulk is not None and self.client.bulk.sweep()
        current, previous, views, named = self._read_pointer()
        keep_gens = [g for g in (current, previous) if g]
        keep = {p for g in keep_gens for p in views.get(g, {}).values()}
        gens, builds = self.journal()
        known = {p for graphs in gens.values() for p in graphs} | set(builds)
        doomed = sorted(g for g in known if g not in keep and self._debris.match(g))
        # no request at all when nothing is to be dropped or forgotten: after a national bulk load
        # Oxigraph server holds every Update for minutes while it compacts, and a reader's start
        # (recover) must not wait on that. A switched build's own journal entries (its graphs are
        # kept) are forgotten with the next sweep that has work.
        if not doomed and (named | set(gens)) <= set(keep_gens):
            self._follow(current, keep_gens)
            return doomed
        if stopped and doomed:
            self._wait_until_still(doomed)
        ptr, m = self.pointer_graph, self.m
        kept_gens = " ".join(f"<{m.generation(g)}>" for g in keep_gens)
        kept_nodes = kept_gens + " " + " ".join(f"<{p}>" for p in sorted(keep))
        for graph in doomed:  # each alone: among other operations Virtuoso drops slowly (kg.store.dialect)
            self.client.update(f"DROP SILENT GRAPH <{graph}>")
        roles = f"<{m.term('currentGeneration')}>, <{m.term('previousGeneration')}>"
        ops = [f"DELETE {{ GRAPH <{ptr}> {{ ?s ?x ?y }} }} WHERE {{ GRAPH <{ptr}> {{ ?s ?x ?y }} "
               f"FILTER(?s != <{ptr}> && ?s NOT IN ({', '.join(kept_nodes.split()) or '<urn:x-kg:none>'})) }}",
               f"DELETE {{ GRAPH <{ptr}> {{ <{ptr}> ?r ?g }} }} WHERE {{ GRAPH <{ptr}> {{ <{ptr}> ?r ?g }} "
               f"FILTER(?r IN ({roles}) && ?g NOT IN ({', '.join(kept_gens.split()) or '<urn:x-kg:none>'})) }}",
               f"DELETE WHERE {{ GRAPH <{ptr}> {{ <{ptr}> <{m.term('buildGraph')}> ?b }} }}"]
        self.client.update(" ;\n".join(ops))
        self._follow(current, keep_gens)
        return doomed

    def _follow(self, current: str | None, keep_gens: list[str]) -> None:
        """This machine's files follow the engine."""
        if current:
            self._write_current(current)
        for d in (self.gens.iterdir() if self.gens.exists() else []):
            if d.name not in keep_gens:
                shutil.rmtree(d, ignore_errors=True)
        remove_scratch(self.root)

    def _wait_until_still(self, graphs: list[str]) -> None:
        """Until the triples in ``graphs`` stay the same for a second: a graph dropped while the
        engine still writes to it would keep what comes after, under a name a later load reuses."""
        import json

        values = " ".join(f"<{g}>" for g in graphs)
        text = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        deadline, last = time.monotonic() + self.client.write_timeout, None
        while True:
            _, body = self.client.query(text, named_graphs=graphs, accept="application/sparql-results+json")
            now = json.loads(body)["results"]["bindings"][0]["n"]["value"]
            if now == last:
                return
            if time.monotonic() > deadline:
                raise StoreError(f"the SPARQL engine still writes to a stopped load's graphs after "
                                 f"{self.client.write_timeout:g} s (KG_SPARQL_WRITE_TIMEOUT)")
            last = now
            time.sleep(1)

    def _next_name(self, current: str | None, views: dict) -> str:
        numbers = [int(m.group(1)) for p in self.gens.iterdir() if (m := _GEN.match(p.name))]
        numbers += [int(m.group(1)) for n in views if (m := _GEN.match(n))]
        gens, builds = self.journal()
        numbers += [int(m.group(1)) for n in gens if (m := _GEN.match(n))]
        numbers += [int(m.group(1)) for g in builds if (m := re.search(r"/gen-(\d{6})", g))]
        return f"gen-{(max(numbers) + 1 if numbers else 1):06d}"

    @contextmanager
    def build(self, *, copy_all_except: Iterable[str] | None = None, wait: float = 0) -> Iterator["RemoteBuild"]:
        """The next generation; current only if the block exits normally (then one Update)."""
        with self.writer_lock(wait=wait):
            self._sweep()
            current, _, views = self.state()
            base = dict(views.get(current, {})) if current else {}
            for graph in copy_all_except or ():
                base.pop(graph, None)
            name = self._next_name(current, views)
            path = self.gens / name
            path.mkdir(parents=True)
            old = self.gens / current if current else None
            if old is not None and old.is_dir():
                for sidecar in old.iterdir():  # search index, hub counts: start as the served ones
                    if sidecar.is_file():
                        shutil.copyfile(sidecar, path / sidecar.name)
            build = RemoteBuild(self, name, path, base)
            try:
                yield build
                self._switch(current, name, build.store.view, build.store.layers)
            except BaseException:
                build.abandon()
                shutil.rmtree(path, ignore_errors=True)
                raise
            for hook in build.after_switch:  # still under the lock: the next writer comes after
                hook()
            self._sweep()

    def _switch(self, previous: str | None, name: str, view: dict[str, str], layers: dict[str, Layer]) -> None:
        """One request: the layers' changes applied to the graphs they change, and the pointer
        naming ``name`` and the graphs it is made of (an Update; a POST when no layer)."""
        m, ptr = self.m, self.pointer_graph
        cur, prev = m.term("currentGeneration"), m.term("previousGeneration")
        gen = m.generation(name)
        facts = [f"<{ptr}> <{cur}> <{gen}> ."]
        for logical, physical in sorted(view.items()):
            facts.append(f"<{gen}> <{m.term('generationGraph')}> <{physical}> .")
            facts.append(f"<{physical}> <{m.term('versionOf')}> <{logical}> .")
        if not layers:
            # nothing to apply: the new facts alone, by a Graph Store POST, one small request
            # that engines apply whole (Oxigraph's bulk loader ingests one batch's files in one
            # RocksDB call). Oxigraph server takes it at once after a national bulk load, where
            # an Update waits minutes for its compaction (bench/README.md, session 21)
            self.client.post_graph(ptr, "".join(f"{fact}\n" for fact in facts).encode())
            self._write_current(name)
            return
        previous_fact = [f"<{ptr}> <{prev}> <{m.generation(previous)}> ."] if previous else []
        virtuoso = self.client.virtuoso
        changes = "".join(_applied(layer, layer.served, virtuoso=virtuoso) for layer in layers.values())
        self.client.update(
            changes +
            f"DELETE WHERE {{ GRAPH <{ptr}> {{ <{ptr}> <{cur}> ?c }} }} ;\n"
            f"DELETE WHERE {{ GRAPH <{ptr}> {{ <{ptr}> <{prev}> ?p }} }} ;\n"
            f"DELETE WHERE {{ GRAPH <{ptr}> {{ <{ptr}> <{m.term('buildGraph')}> ?b }} }} ;\n"
            f"INSERT DATA {{ GRAPH <{ptr}> {{ {' '.join(facts + previous_fact)} }} }}")
        self._write_current(name)

    def _write_current(self, name: str) -> None:
        write_pointer(self.pointer, name)


class RemoteBuild:
    """A generation under construction on the engine: graphs nobody reads until the switch."""

    def __init__(self, home: RemoteGenerations, name: str, path: Path, base: dict[str, str]):
        self.home = home
        self.name = name
        self.path = path
        self.root = home.root
        self._base = dict(base)      # served graphs a first write copies
        self._owned: set[str] = set()  # engine graphs this build created
        self._journaled: set[str] = set()  # engine graphs named in the pointer graph's journal
        #: called once the generation is served, before the writer's lock is released
        self.after_switch: list = []
        self.store = RemoteStore(home.client, base, writable=self._writable, dropped=self._dropped,
                                 materialise=self._materialise)

    def _writable(self, graph: str) -> "str | Layer":
        """Where a write to ``graph`` goes: a graph of this build's own (new, replaced, or
        materialised), or, for a served graph, a layer of pending changes beside it."""
        physical = str(self.home.m.engine_graph(graph, self.name))
        if physical in self._owned:
            return physical
        source = self._base.get(graph)
        if source is None or source == physical:
            self._own(physical)
            return physical
        layer = Layer(source, physical + "/add", physical + "/del")
        self._own(layer.added, layer.deleted)
        return layer

    def _own(self, *graphs: str) -> None:
        """Journal graphs before the build first writes them (a killed build's are found there)."""
        self._journal(graphs)
        self._owned.update(graphs)

    def _journal(self, graphs: Iterable[str]) -> None:
        graphs = list(graphs)
        self.home.record_build_graphs([g for g in graphs if g not in self._journaled])
        self._journaled.update(graphs)

    def will_write(self, graphs: Iterable[str]) -> None:
        """Ready graphs the build writes after its bulk load, before that load: each is journaled
        now, and a served one is copied now into a graph of the build's own rather than changed
        through a layer. So no Update follows the bulk load, and the switch is a Graph Store POST:
        Oxigraph server holds every Update for minutes while it compacts a national bulk load,
        not a POST (bench/README.md, sessions 20-21). Meant for small graphs: a served one is
        copied whole."""
        fresh: list[str] = []
        copies: list[tuple[str, str, str]] = []
        for graph in dict.fromkeys(graphs):
            physical = str(self.home.m.engine_graph(graph, self.name))
            if physical in self._owned or graph in self.store.layers:
                continue
            source = self._base.get(graph)
            if source is not None and source != physical:
                copies.append((graph, source, physical))
                self._owned.add(physical)
            fresh.append(physical)
        self._journal(fresh)
        if copies:
            self.home.client.update(" ;\n".join(f"COPY SILENT <{source}> TO <{physical}>"
                                                 for _, source, physical in copies))
            for graph, _, physical in copies:
                self.store.view[graph] = physical

    def _materialise(self, graph: str) -> str:
        """A layer copied into a graph of the build's own (the fallback: as costly as a copy)."""
        layer = self.store.layers[graph]
        physical = str(self.home.m.engine_graph(graph, self.name))
        self._own(physical)
        virtuoso = self.home.client.virtuoso
        self.home.client.update(
            f"COPY SILENT <{layer.served}> TO <{physical}> ;\n"
            f"DELETE {{ GRAPH <{physical}> {{ ?s ?p ?o }} }} WHERE {{ {whole_graph(layer.deleted, virtuoso=virtuoso)} }} ;\n"
            f"INSERT {{ GRAPH <{physical}> {{ ?s ?p ?o }} }} WHERE {{ {whole_graph(layer.added, virtuoso=virtuoso)} }} ;\n"
            f"{dropped(layer.added, virtuoso=virtuoso)} ;\n{dropped(layer.deleted, virtuoso=virtuoso)}")
        self._owned.difference_update((layer.added, layer.deleted))
        return physical

    def _dropped(self, graph: str, physical: str) -> None:
        self._base.pop(graph, None)  # a later write to it starts empty
        if physical in self._owned:
            self._owned.discard(physical)
            self.home.client.update(f"DROP SILENT GRAPH <{physical}>")

    def tempfile(self, suffix: str = ".nt") -> Path:
        fd, name = tempfile.mkstemp(prefix="tmp-", suffix=suffix, dir=self.root)
        os.close(fd)
        return Path(name)

    def abandon(self) -> None:
        """Drop the graphs this build wrote (best effort: the next start sweeps what is left)."""
        if self._owned:
            try:
                self.home.client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in sorted(self._owned)))
            except StoreError:
                pass


class RemoteServed:
    """The served generation for a long-lived reader: the pointer is read again when this
    machine's ``CURRENT`` changes (a local load switched) or ``ttl`` seconds have passed."""

    def __init__(self, home: RemoteGenerations, ttl: float = 1.0):
        self.home = home
        self.ttl = ttl
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stamp: tuple[int, int] | None = None
        self._current: tuple[str | None, RemoteStore] = (None, RemoteStore(home.client, {}))

    def _stamp_now(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.home.pointer)
            return st.st_ino, st.st_mtime_ns
        except FileNotFoundError:
            return None

    def due(self) -> bool:
        """Whether :meth:`get` would read the engine's pointer (a round trip to the engine, which
        an event loop must not wait on: it calls get() from a thread then)."""
        return self._stamp_now() != self._stamp or time.monotonic() - self._checked > self.ttl

    def get(self) -> tuple[str | None, RemoteStore]:
        stamp = self._stamp_now()
        now = time.monotonic()
        if stamp != self._stamp or now - self._checked > self.ttl:
            with self._lock:
                current, _, views = self.home.state()
                if current != self._current[0]:
                    self._current = (current, RemoteStore(self.home.client, views.get(current, {}) if current else {}))
                self._stamp, self._checked = stamp, now
        return self._current


def _applied(layer: Layer, target: str, *, virtuoso: bool = False) -> str:
    """Update operations that apply a layer to ``target`` and drop it.

    Only the net change is written: an upsert removes an entity's quads and writes its new
    description, most of which is the old one again (a rename changes 2 of ~26 quads), so a quad
    both removed and added stays, and one added that ``target`` holds is not written again. The
    engine's writes are what a switch costs (Oxigraph server: 23 s at 200k corporations for the
    ~160,000 quads of a 3,150-row diff applied as removed, then added; bench/README.md). Each
    layer is read whole, as Virtuoso must be told to (:func:`~kg.store.dialect.whole_graph`)."""
    return (f"DELETE {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ {whole_graph(layer.deleted, virtuoso=virtuoso)} "
            f"FILTER NOT EXISTS {{ GRAPH <{layer.added}> {{ ?s ?p ?o }} }} }} ;\n"
            f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ {whole_graph(layer.added, virtuoso=virtuoso)} "
            f"FILTER NOT EXISTS {{ GRAPH <{target}> {{ ?s ?p ?o }} }} }} ;\n"
            f"{dropped(layer.added, virtuoso=virtuoso)} ;\n{dropped(layer.deleted, virtuoso=virtuoso)} ;\n")
