"""The embedded implementation of :mod:`kg.store.interface` over a pyoxigraph store on disk.

Terms cross the boundary as :mod:`kg.rdf` terms; converting them costs about a microsecond each,
so solutions convert lazily (a row converts the variables it is asked for) and results are
serialised by pyoxigraph itself wherever the row cap allows (:mod:`kg.store.results`).

>>> store = OxStore(ox.Store())
>>> store.add(text='<http://x/s> <http://x/p> "v"@ja .\\n', fmt="ntriples", graph="http://x/g")
>>> [row["o"] for row in store.query("SELECT ?o WHERE { ?s ?p ?o }")]
[Literal(value='v', datatype=None, lang='ja')]
>>> store.count("http://x/g"), store.has(subject="http://x/s", graph="http://x/g")
(1, True)
"""

from __future__ import annotations

import io
import queue
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping

import pyoxigraph as ox

from kg.errors import QueryRejected
from kg.rdf import XSD, BNode, IRI, Literal, Term, Triple
from kg.rdf.iri import fragment_prefix
from kg.rdf.terms import whole_lines
from kg.store import results
from kg.store.interface import Quad
from kg.store.graph_names import Dataset, rename_graphs
from kg.store.syntax import explain, star_order

_XSD_STRING = str(XSD.string)
_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "ntriples": ox.RdfFormat.N_TRIPLES, "turtle": ox.RdfFormat.TURTLE,
            "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}


# ---- terms --------------------------------------------------------------------------------------

def to_ox(term: Term | str):
    """One of our terms as a pyoxigraph term."""
    if isinstance(term, Literal):
        if term.lang:
            return ox.Literal(term.value, language=term.lang)
        return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype or _XSD_STRING))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    return ox.NamedNode(str(term))


def from_ox(term) -> Term | None:
    """A pyoxigraph term as one of ours (None stays None)."""
    cls = term.__class__
    if cls is ox.NamedNode:
        return IRI(term.value)
    if cls is ox.Literal:
        if term.language:
            return Literal(term.value, None, term.language)
        datatype = term.datatype.value
        return Literal(term.value, None if datatype == _XSD_STRING else datatype, None)
    if cls is ox.BlankNode:
        return BNode(term.value)
    if term is None:
        return None
    if cls is ox.DefaultGraph:
        return None
    raise TypeError(f"unsupported term {term!r}")


def _names_its_dataset(sparql: str) -> bool:
    """Whether a query has FROM or FROM NAMED (SPARQL 1.1 §13.2): then they are its dataset.
    pyoxigraph 0.5 reads the union of every graph when asked to, FROM or not.

    >>> _names_its_dataset("SELECT * FROM <http://x/g> { ?s ?p ?o }"), _names_its_dataset("SELECT ?from { ?from ?p 'FROM' }")
    (True, False)
    """
    if "from" not in sparql.lower():
        return False
    dataset = Dataset()
    rename_graphs(sparql, {}, None, dataset)
    return dataset.from_clause


def _quad(q: ox.Quad) -> Quad:
    g = q.graph_name
    return Quad(from_ox(q.subject), q.predicate.value, from_ox(q.object), g.value if g.__class__ is ox.NamedNode else None)


def _node(value: str | None):
    return None if value is None else _checked(ox.NamedNode, value)


def _object(value: Term | None):
    return None if value is None else _checked(to_ox, value)


def _checked(make, value):
    try:
        return make(value)
    except ValueError as exc:  # e.g. "Invalid IRI code point": the client's input, not our bug
        raise QueryRejected(f"{value!r} is not a valid IRI or term: {exc}") from None


# ---- results ------------------------------------------------------------------------------------

class _Row:
    __slots__ = ("_solution",)

    def __init__(self, solution: ox.QuerySolution):
        self._solution = solution

    def __getitem__(self, variable: str) -> Term | None:
        return from_ox(self._solution[variable])


class OxSolutions:
    """SELECT solutions; re-runs the query when a capped serialisation must count the rows."""

    def __init__(self, solutions: ox.QuerySolutions, rerun, text: str = ""):
        self._solutions = solutions
        self._rerun = rerun
        self._native = [v.value for v in solutions.variables]
        self.variables = star_order(text, self._native)  # SELECT *: as written, not sorted

    def __iter__(self) -> Iterator[_Row]:
        return (_Row(s) for s in self._solutions)

    def serialize(self, fmt: str, *, max_rows: int, variables: list[str] | None = None) -> tuple[bytes, bool]:
        variables = variables or self.variables
        if variables == self._native:
            body = results.native_select(self._solutions, fmt, max_rows)
            if body is not None:
                return body, False
            self._solutions = self._rerun()  # too big to be sure: count the rows
        rows, truncated = results.capped(([s[v] for v in variables] for s in self._solutions), max_rows)
        return results.serialize_select(variables, rows, fmt), truncated


class OxTriples:
    def __init__(self, triples: ox.QueryTriples):
        self._triples = triples

    def __iter__(self) -> Iterator[Triple]:
        return ((from_ox(t.subject), t.predicate.value, from_ox(t.object)) for t in self._triples)

    def serialize(self, fmt: str, *, max_triples: int, prefixes: Mapping[str, str] | None = None) -> tuple[bytes, bool]:
        triples, truncated = results.capped(self._triples, max_triples)
        return results.serialize_triples(triples, fmt, prefixes), truncated


def serialize(triples: Iterable[Triple], fmt: str, prefixes: Mapping[str, str] | None = None) -> bytes:
    """Triples built outside a store (a service description, a catalogue) in an RDF format."""
    return results.serialize_triples([ox.Triple(to_ox(s), ox.NamedNode(p), to_ox(o)) for s, p, o in triples],
                                     fmt, prefixes)


def parse(data: bytes | str, fmt: str, *, base_iri: str | None = None) -> list[Quad]:
    """RDF text as quads of our terms (for small documents: catalogues, test answers)."""
    return [_quad(q) if isinstance(q, ox.Quad) else Quad(from_ox(q.subject), q.predicate.value, from_ox(q.object), None)
            for q in ox.parse(data, format=_FORMATS[fmt], base_iri=base_iri)]


_LINE_FORMATS = frozenset({"ntriples", "nquads"})


def _line_slices(*, path: Path | None, text: str | None, stream: IO[bytes] | None, size: int) -> Iterator[bytes]:
    """Whole lines of the input, about ``size`` bytes at a time."""
    if text is not None:
        stream = io.BytesIO(text.encode("utf-8"))
    fh = open(path, "rb") if path is not None else stream
    try:
        yield from whole_lines(fh, size)
    finally:
        if path is not None:
            fh.close()


def _side_by_side(load: Callable[[bytes], None], chunks: Iterator[bytes], parallel: int) -> None:
    """``load`` each chunk, ``parallel`` of them at once; the first failure stops the rest and is
    raised here (the chunks not started yet are not read, and a generator's reader is closed)."""
    try:
        if parallel <= 1:
            for chunk in chunks:
                load(chunk)
            return
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="kg-bulk-load") as pool:
            running: set[Future] = set()
            for chunk in chunks:
                if len(running) >= parallel:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for f in finished:
                        f.result()
                running.add(pool.submit(load, chunk))
            for f in running:
                f.result()
    finally:
        getattr(chunks, "close", lambda: None)()


def _read_ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The next slice read from a pipe while the engine loads this one: the process writing
    the pipe keeps running instead of waiting for each bulk load to finish."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def hand(item) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return
            except queue.Full:
                pass

    def read() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                hand(chunk)
            hand(done)
        except BaseException as exc:  # handed to the loading thread, which raises it
            hand(exc)

    reader = threading.Thread(target=read, daemon=True, name="kg-read-ahead")
    reader.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:  # the load failed or finished: the reader gives up instead of waiting on the queue
        stop.set()
        reader.join(timeout=1)


# ---- the store ----------------------------------------------------------------------------------

class OxStore:
    """A pyoxigraph store behind the project's store interface."""

    subjects_together = True
    subjects_per_read = 500
    loads_in_process = True  # see kg.store.interface.WriteStore

    def __init__(self, store: ox.Store, *, bulk_slice: int = 0, bulk_threads: int = 1):
        self._store = store
        self._bulk = (bulk_slice, bulk_threads)  # a bulk add's slices when the caller names none

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> "OxStore":
        return cls(ox.Store.read_only(str(path)) if read_only else ox.Store(str(path)))

    @classmethod
    def memory(cls) -> "OxStore":
        """An empty in-memory store (what a server answers from before anything is loaded)."""
        return cls(ox.Store())

    # -- reading --
    def query(self, sparql: str, *, prefixes: Mapping[str, str] | None = None, base_iri: str | None = None,
              default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = ()):
        kwargs: dict = {"prefixes": dict(prefixes or {}), "base_iri": base_iri}
        defaults, named = list(default_graphs), list(named_graphs)
        if defaults or named:
            kwargs["default_graph"] = [_node(g) for g in defaults]
            kwargs["named_graphs"] = [_node(g) for g in named]
        elif not _names_its_dataset(sparql):
            kwargs["use_default_graph_as_union"] = True
        try:
            result = self._store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QueryRejected(explain(sparql, str(exc), prefixes)) from None
        except ValueError as exc:
            raise QueryRejected(str(exc)) from None
        if isinstance(result, ox.QuerySolutions):
            return OxSolutions(result, lambda: self._store.query(sparql, **kwargs), sparql)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        return OxTriples(result)

    def quads(self, subject: str | None = None, predicate: str | None = None, object: Term | None = None,
              graph: str | None = None) -> Iterator[Quad]:
        for q in self._store.quads_for_pattern(_node(subject), _node(predicate), _object(object), _node(graph)):
            if graph is None and q.graph_name.__class__ is ox.DefaultGraph:
                continue  # the project keeps everything in named graphs
            yield _quad(q)

    def has(self, subject: str | None = None, predicate: str | None = None, object: Term | None = None,
            graph: str | None = None) -> bool:
        return next(self.quads(subject, predicate, object, graph), None) is not None

    def quads_of(self, subjects: Iterable[str], predicates: Iterable[str] | None = None,
                 graph: str | None = None) -> Iterator[Quad]:
        for subject in subjects:
            for predicate in (predicates if predicates is not None else (None,)):
                yield from self.quads(subject, predicate, None, graph)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def count(self, graph: str) -> int:
        result = self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(next(iter(result))["n"].value)

    def entity(self, iri: str, graph: str | None = None) -> list[Quad]:
        own = fragment_prefix(iri)
        g = _node(graph)
        out: list[Quad] = []
        seen = {iri}
        frontier = [_node(iri)]
        while frontier:
            for q in self._store.quads_for_pattern(frontier.pop(), None, None, g):
                if graph is None and q.graph_name.__class__ is ox.DefaultGraph:
                    continue
                out.append(_quad(q))
                o = q.object
                if o.__class__ is ox.NamedNode and o.value.startswith(own) and o.value not in seen:
                    seen.add(o.value)
                    frontier.append(o)
        return out

    def entities(self, iris: Iterable[str], graph: str | None = None) -> dict[str, list[Quad]]:
        return {iri: self.entity(iri, graph) for iri in dict.fromkeys(iris)}

    def dump(self, graph: str, path: Path) -> None:
        self._store.dump(str(path), ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))

    # -- writing --
    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        try:
            self._store.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise QueryRejected(explain(sparql, str(exc), update=True)) from None
        except ValueError as exc:
            raise QueryRejected(str(exc)) from None
        except RuntimeError as exc:  # e.g. "The graph <…> does not exist" (CLEAR/DROP without SILENT)
            raise QueryRejected(str(exc)) from None

    def add(self, *, path: Path | None = None, text: str | None = None, stream: IO[bytes] | None = None,
            fmt: str = "nquads", graph: str | None = None, base_iri: str | None = None, bulk: bool = False,
            slice_bytes: int | None = None, parallel: int | None = None) -> None:
        """Load RDF into the store (``bulk``: not transactional, for a build that is not served yet).

        A line-based format (N-Triples, N-Quads) is bulk-loaded ``slice_bytes`` at a time, cut at
        line ends: pyoxigraph's bulk loader holds about ten times its input in memory until the
        call returns, so one call over a 367k-row parcel file peaked at 1.8 GB. One call parses
        its input on one thread (and releases the GIL), so ``parallel`` slices are loaded at
        once; quads are a set, so the order they land in does not matter. Unnamed, both are the
        store's own (``KG_BULK_SLICE``, ``KG_BULK_THREADS`` for a build's store).
        """
        slice_bytes = self._bulk[0] if slice_bytes is None else slice_bytes
        parallel = self._bulk[1] if parallel is None else parallel
        kwargs: dict = {"format": _FORMATS[fmt]}
        if graph is not None:
            kwargs["to_graph"] = ox.NamedNode(graph)
        if base_iri is not None:
            kwargs["base_iri"] = base_iri
        if bulk and slice_bytes and fmt in _LINE_FORMATS:
            slices = _line_slices(path=path, text=text, stream=stream, size=slice_bytes)
            _side_by_side(lambda chunk: self._store.bulk_load(input=chunk, **kwargs),
                          _read_ahead(slices) if stream is not None else slices, parallel)
            return
        if path is not None:
            kwargs["path"] = str(path)
        else:
            kwargs["input"] = stream if stream is not None else text
        (self._store.bulk_load if bulk else self._store.load)(**kwargs)

    def remove(self, quads: Iterable[Quad]) -> None:
        """Delete quads in updates of bounded size (one DELETE DATA per 20,000)."""
        batch: list[str] = []
        for q in quads:
            triple = ox.Triple(to_ox(q.subject), ox.NamedNode(q.predicate), to_ox(q.object))
            batch.append(f"GRAPH <{q.graph}> {{ {triple} }}" if q.graph else str(triple))
            if len(batch) >= 20_000:
                self._store.update("DELETE DATA { " + " .\n".join(batch) + " }")
                batch = []
        if batch:
            self._store.update("DELETE DATA { " + " .\n".join(batch) + " }")

    def remove_graph(self, graph: str) -> None:
        self._store.remove_graph(ox.NamedNode(graph))

    def flush(self) -> None:
        self._store.flush()

    def close(self) -> None:
        """Let go of the engine (it closes when the last handle goes)."""
        self._store = None

    def backup(self, path: Path) -> None:
        self._store.backup(str(path))
