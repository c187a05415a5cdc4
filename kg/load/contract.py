"""What a loader is: the parts that differ per source (records, entities, dataset info).

Everything else is the pipeline's. Loaders in ``loaders/`` implement :class:`Loader` and import
these types; :mod:`kg` reaches the loaders only through the registry in ``kg.loaders``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from kg.load.sources import SourceFile
from kg.rdf import IRI, Triple
from kg.rdf.iri import Minter


@dataclass
class Record:
    """One source record, with where it came from (for reports and provenance)."""

    source: str
    line: int
    key: str
    data: object


@dataclass
class Mapped:
    """Rows a loader mapped as a batch, already valid (see ``Loader.column_records``): their
    N-Triples, their search summaries (:class:`kg.load.written.SummaryWriter` lines) and their
    statistics cells (:class:`kg.load.statistics.Tally`)."""

    #: N-Triples, in pieces made as they are read (bytes-like views of the mapper's buffers);
    #: each line ``<s> <p> <o> .`` with no blank node
    ntriples: Iterator
    summaries: str
    cells: dict[tuple, int] = field(default_factory=dict)
    rows: int = 0
    #: the IRIs of the entities the lines describe, one a line (the change feed lists them)
    entities: bytes = b""


@dataclass
class Problem:
    """A record that could not even be parsed into a :class:`Record`."""

    source: str
    line: int
    key: str
    message: str
    constraint: str = "parse"


@dataclass
class Entity:
    """The triples of one entity, ready for validation.

    ``action``: ``upsert`` replaces any earlier description of ``focus`` (its own triples and
    those of its fragment nodes ``focus#...``); ``append`` only adds ``extra``; ``delete`` removes
    the entity, its fragment nodes and the records that specialise it. ``extra`` are triples about
    other subjects that accumulate rather than replace (history records keyed by content).
    ``records`` is how many source records the entity was made from. ``keep`` lists predicates of
    ``focus`` that an upsert leaves alone because another file owns them (e.g. the geometry link
    that a ``_pos`` file adds to a town), so files can be loaded in either order.

    Three optional fields serve sources where one record describes several things that change
    at different times (a law: its current metadata, its current text, each of its revisions):

    ``parts`` are further entities made from the same record. They are validated together with
    this one (one verdict: all load or none does, and rejections count this entity's ``records``)
    and then written like any entity, each with its own focus, action, keep, owns and version.

    ``owns`` lists IRI prefixes of nodes that belong to ``focus`` although they are not
    ``focus#...`` fragments (e.g. ``…/law/X/`` for the articles and paragraphs of law X): an
    upsert also removes, recursively, the descriptions of the owned nodes that the removed triples
    link to, so a shorter new text leaves no stale article behind.

    ``version`` is ``(predicate, value)``: the upsert applies only if no value of ``predicate``
    already stored on ``focus`` (nor another entity of the same batch with the same focus and
    predicate) is greater, comparing the lexical forms as strings. An older version is not applied
    (its ``extra`` still is), so files can be loaded in any order and the newest one wins. A loader
    must not emit two versions of one focus in different batches of one source (the store only sees
    a source once it is loaded).

    ``requires`` lists IRIs that must already name typed entities (``rdf:type``, in any graph of
    the store, from an earlier load or an earlier file of this one) for this entity to be written:
    a position for a town, or a parcel of a town, that was never loaded is reported (constraint
    ``reference``) instead of creating an untyped phantom the shapes never see.
    """

    focus: IRI
    triples: list[Triple]
    source: str
    line: int
    key: str
    action: str = "upsert"
    extra: list[Triple] = field(default_factory=list)
    records: int = 1
    keep: frozenset[str] = frozenset()
    parts: list["Entity"] = field(default_factory=list)
    owns: tuple[str, ...] = ()
    version: tuple[str, str] | None = None
    requires: tuple[IRI, ...] = ()


@dataclass(frozen=True)
class DatasetInfo:
    """Publisher, licence and the attribution the source's terms require."""

    name: str
    title_ja: str
    title_en: str
    publisher: str
    publisher_url: str
    license_url: str
    license_name: str
    attribution: str
    source_url: str


class Loader(Protocol):
    dataset: str
    info: DatasetInfo
    #: file name suffixes this loader reads (inside directories and zips)
    suffixes: tuple[str, ...]
    #: which links a load of this source changes (:func:`kg.link.relink`): "corporations",
    #: "towns", "programs", or None
    relinks: str | None
    #: whether a load records what it wrote (:mod:`kg.load.written`) for relinking and indexing
    summarised: bool
    #: whether a load into an empty dataset may map in a forked child beside the bulk load (the
    #: child has no store, so such a loader's entities carry no ``Entity.requires``). Such a
    #: loader's entities (with their parts) describe only their focus and its fragment nodes
    #: (``focus#...``), so no two write the same line: the lines a streamed load writes, once each
    #: batch's are distinct, are the graph's quads, and the graph is not counted after the load.
    streamable: bool
    #: whether its entities count in the load-time statistics (:mod:`kg.load.statistics`)
    tallied: bool

    def records(self, source: SourceFile, on_read: Callable[[int], None] | None = None) -> Iterator[Record | Problem]:
        """Parse one file into records; raise :class:`InputError` if it is not this format."""

    def entities(self, records: Iterator[Record | Problem], minter: Minter) -> Iterator[Entity | Problem]:
        """Map records to entities (may group consecutive records of one entity)."""

    # Optional: ``column_records(source, minter, validator, on_read, *, batch_bytes)``, the rows of
    # a file loading into an empty dataset as :class:`Mapped` batches and :class:`Record`\ s
    # for the per-row mapping, or None when the file is not regular enough (houjin).
    # Optional: ``order(sources) -> sources``, the files of one load in the order their
    # references need (``Entity.requires``); run_load calls it when a loader has it (abr).
