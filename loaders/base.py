"""What a loader is: the parts that differ per source. Everything else is the pipeline's."""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterator, Protocol, Sequence

from kg.iri import Minter
from kg.rdf import IRI, Triple


class InputError(Exception):
    """A file cannot be read as this source at all (not a record-level problem)."""


@dataclass
class SourceFile:
    """One input: a plain file or a member of a zip. ``name`` is what reports show."""

    name: str
    path: Path
    member: str | None = None

    def open(self) -> IO[bytes]:
        if self.member is None:
            return open(self.path, "rb")
        try:
            return _archive(self.path).open(self.member)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputError(f"{self.path}: not a readable zip ({exc})") from None

    @property
    def size(self) -> int:
        if self.member is None:
            return self.path.stat().st_size
        return _archive(self.path).getinfo(self.member).file_size


_ARCHIVES: dict[tuple, zipfile.ZipFile] = {}


def _archive(path: Path) -> zipfile.ZipFile:
    """An open zip, shared by its members: the e-Gov bulk zip has ~10k members, and reading the
    central directory once per member made a load quadratic. Keyed by process (a forked child
    opens its own handle) and by size and mtime (a rewritten file is opened afresh)."""
    st = os.stat(path)
    key = (str(path), os.getpid(), st.st_size, st.st_mtime_ns)
    archive = _ARCHIVES.get(key)
    if archive is None:
        archive = zipfile.ZipFile(path)
        if len(_ARCHIVES) >= 4:
            for old in _ARCHIVES.values():
                old.close()
            _ARCHIVES.clear()
        _ARCHIVES[key] = archive
    return archive


@dataclass
class Record:
    """One source record, with where it came from (for reports and provenance)."""

    source: str
    line: int
    key: str
    data: object


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

    def records(self, source: SourceFile, on_read: Callable[[int], None] | None = None) -> Iterator[Record | Problem]:
        """Parse one file into records; raise :class:`InputError` if it is not this format."""

    def entities(self, records: Iterator[Record | Problem], minter: Minter) -> Iterator[Entity | Problem]:
        """Map records to entities (may group consecutive records of one entity)."""



def expand_inputs(paths: Sequence[str | os.PathLike[str]], suffixes: tuple[str, ...]) -> list[SourceFile]:
    """Files, directories (recursively) and zips → the source files to read, in a stable order."""
    out: list[SourceFile] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.is_dir():
            children = sorted(p for p in path.rglob("*") if p.is_file())
            for child in children:
                if child.name.lower().endswith(suffixes) or zipfile.is_zipfile(child) and child.suffix.lower() == ".zip":
                    out.extend(expand_inputs([child], suffixes))
            continue
        if path.suffix.lower() == ".zip":
            out.extend(_zip_members(path, suffixes))
            continue
        out.append(SourceFile(path.name, path))
    return out


def _zip_members(path: Path, suffixes: tuple[str, ...]) -> list[SourceFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise InputError(f"{path}: zip member {bad} is corrupt (CRC mismatch)")
            members = [i.filename for i in archive.infolist()
                       if not i.is_dir() and i.filename.lower().endswith(suffixes)]
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a readable zip file ({exc}; truncated download?)") from None
    except (EOFError, OSError) as exc:
        raise InputError(f"{path}: zip file is truncated or unreadable ({exc})") from None
    if not members:
        raise InputError(f"{path}: the zip holds no {'/'.join(suffixes)} file")
    return [SourceFile(f"{path.name}!{m}", path, m) for m in members]


def sha256_of(source: SourceFile) -> str:
    digest = hashlib.sha256()
    with source.open() as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
