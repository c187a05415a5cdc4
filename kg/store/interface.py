"""The store interface: what the rest of the project may ask of a store, in our own RDF terms.

Everything outside :mod:`kg.store` talks to these protocols and never to an engine. Terms are
those of :mod:`kg.rdf` (``IRI``, ``Literal``, ``BNode``); graphs are IRIs as ``str``. Results
are serialised by the store itself (an engine writes its own results far faster than Python),
named by the format names of :mod:`kg.server.formats` (``json``, ``xml``, ``csv``, ``tsv`` for
solutions; ``turtle``, ``ntriples``, ``nquads``, ``trig``, ``jsonld``, ``rdfxml`` for graphs).

Two implementations are meant to fit: the embedded one (:mod:`kg.store.oxigraph`, immutable
generations on disk switched by a rename) and one over a remote SPARQL 1.1 server (Query,
Update, Graph Store Protocol), where ``query`` and ``update`` are requests and ``add`` is a
Graph Store POST. Nothing here assumes the data is in this process.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Iterable, Iterator, Mapping, NamedTuple, Protocol, Union

from kg.rdf import Term, Triple


class Quad(NamedTuple):
    subject: Term
    predicate: str
    object: Term
    graph: str | None


class Row(Protocol):
    """One solution: ``row["var"]`` is the bound term or None."""

    def __getitem__(self, variable: str) -> Term | None: ...


class Solutions(Protocol):
    """The answer of a SELECT, consumed once."""

    variables: list[str]

    def __iter__(self) -> Iterator[Row]: ...

    def serialize(self, fmt: str, *, max_rows: int, variables: list[str] | None = None) -> tuple[bytes, bool]:
        """The solutions in a results format, cut at ``max_rows``; (body, truncated)."""


class Triples(Protocol):
    """The answer of a CONSTRUCT or DESCRIBE, consumed once."""

    def __iter__(self) -> Iterator[Triple]: ...

    def serialize(self, fmt: str, *, max_triples: int, prefixes: Mapping[str, str] | None = None) -> tuple[bytes, bool]:
        """The triples in an RDF format, cut at ``max_triples``; (body, truncated)."""


Result = Union[Solutions, Triples, bool]


class ReadStore(Protocol):
    """A read-only view of one version of the data (a served generation, say)."""

    #: whether a query's solutions over one graph (``?s a C . ?s ?p ?o``) come with the rows of
    #: one subject together: the embedded store walks its indexes in order; an engine need not
    #: (Virtuoso does not), so a reader that streams by subject sorts a remote answer first
    subjects_together: bool
    #: subjects a caller hands :meth:`quads_of` / :meth:`entities` at once: an engine answers
    #: that many in one request (KG_SPARQL_SUBJECTS); the embedded store reads each alone anyway
    subjects_per_read: int

    def query(self, sparql: str, *, prefixes: Mapping[str, str] | None = None, base_iri: str | None = None,
              default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = ()) -> Result:
        """Run SPARQL; the default graph is the union of every named graph unless
        ``default_graphs``/``named_graphs`` (the protocol's dataset) are given. A malformed
        query raises :class:`kg.errors.QueryRejected`."""

    def quads(self, subject: str | None = None, predicate: str | None = None, object: Term | None = None,
              graph: str | None = None) -> Iterator[Quad]:
        """The quads matching a pattern (None matches anything; ``graph=None`` every named graph)."""

    def has(self, subject: str | None = None, predicate: str | None = None, object: Term | None = None,
            graph: str | None = None) -> bool: ...

    def quads_of(self, subjects: Iterable[str], predicates: Iterable[str] | None = None,
                 graph: str | None = None) -> Iterator[Quad]:
        """The quads of many subjects (with one of ``predicates``, if given) at once: a remote
        engine answers a batch of a load's entities in one request instead of one each."""

    def named_graphs(self) -> list[str]: ...

    def count(self, graph: str) -> int:
        """Triples in a graph, counted inside the engine."""

    def entity(self, iri: str, graph: str | None = None) -> list[Quad]:
        """An entity as the project defines it: its own quads plus those of its fragment nodes
        (``iri#…``, followed recursively). One definition for validation, pages and upserts."""

    def entities(self, iris: Iterable[str], graph: str | None = None) -> dict[str, list[Quad]]:
        """:meth:`entity` of each IRI, at once: a remote engine answers 500 entities a request
        per level of fragments, where one each would cost a national ``kg validate`` days."""

    def dump(self, graph: str, path: Path) -> None:
        """Write a graph as N-Triples to ``path``."""


class WriteStore(ReadStore, Protocol):
    """A version being built: writes are seen by its own reads, by nobody else until switched."""

    #: the engine's bulk load runs on this process's cores (embedded): other work started while
    #: it loads competes with it. A 1M-corporation load whose search indexer started at the end of
    #: the mapping rather than at the store's answer took 332.8 s instead of 306.8; into Oxigraph
    #: server (200k), whose loader finishes on one core for ~10 s after the last byte, 57.5 s
    #: instead of 63.3 (bench/README.md, session 12)
    loads_in_process: bool

    def update(self, sparql: str, *, base_iri: str | None = None) -> None: ...

    def add(self, *, path: Path | None = None, text: str | None = None, stream: IO[bytes] | None = None,
            fmt: str = "nquads", graph: str | None = None, base_iri: str | None = None, bulk: bool = False,
            slice_bytes: int | None = None, parallel: int | None = None) -> None:
        """Add RDF from a file, a string or a byte stream (``fmt``: nquads, ntriples, turtle);
        triples go to ``graph``. ``bulk``: the engine's fastest path, for millions of triples,
        taken ``slice_bytes`` of a line-based format at a time where the engine's memory grows with
        the size of one call, up to ``parallel`` slices at once where the engine loads a call on
        one core (unnamed: the store's own settings)."""

    def remove(self, quads: Iterable[Quad]) -> None: ...

    def remove_graph(self, graph: str) -> None: ...

    def flush(self) -> None: ...


class Build(Protocol):
    """A new generation under construction (see :meth:`Home.build`)."""

    store: WriteStore
    path: Path
    #: callables run once the generation is served, before the next writer may start (the
    #: load journal's entry)
    after_switch: list

    def tempfile(self, suffix: str = ".nt") -> Path: ...

    def will_write(self, graphs: Iterable[str]) -> None:
        """Graphs the build will write after its bulk load: an engine may hold other requests
        than bulk loads for minutes after one, so the build readies them before it."""


class ServedVersion(Protocol):
    def get(self) -> tuple[str | None, ReadStore]:
        """(generation name or None, its store: an empty one before anything is loaded)."""


class Home(Protocol):
    """Where the data lives: the served version, and building the next one atomically."""

    root: Path

    def current_name(self) -> str | None: ...

    def current_path(self) -> Path | None:
        """Directory of the served version's local files (search index, hub counts)."""

    def open_current(self) -> ReadStore | None: ...

    def served(self) -> "ServedVersion":
        """What a long-lived reader asks, per request, for the served version."""

    def build(self, *, copy_all_except: Iterable[str] | None = None, wait: float = 0) -> AbstractContextManager[Build]:
        """The next version; it is served only if the block exits normally. ``wait``: seconds to
        wait for another writer (else :class:`~kg.errors.StoreBusy` at once)."""
