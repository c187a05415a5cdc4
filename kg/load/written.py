"""What a load wrote, one line per entity, for the steps after the bulk load: kept in files
beside the scratch file, so that a load's memory does not grow with its row count.

Linking and the search index need a few facts per corporation (municipality, street, names, and
for the search hits the full address and the status).
Reading them back from the store after a bulk load costs ~40 µs per corporation (a join per
row); taking them from the mapped triples while they are written costs ~3 µs. So the load
writes this small TSV beside its scratch file, and the relink and index steps read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kg.rdf.iri import Minter
from kg.rdf import LOCN, RDF, RDFS, ROV, Literal

_ESC = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


@dataclass
class Summary:
    focus: str
    action: str
    cls: str
    municipality: str
    street: str
    label: str
    names: list[str]
    excluded: bool
    address: str = ""   # locn:fullAddress (ja) of the address, or of the foreign address
    status: str = ""    # the rov:orgStatus code: active, closed
    kind: str = ""      # the rov:orgType IRI (a corporation's kind: 201 is a local government)


class _LineFile:
    """A file a load appends lines to, whose tail a refused source can take back."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = open(path, "a", encoding="utf-8")

    def tell(self) -> int:
        self.fh.flush()
        return os.path.getsize(self.path)

    def truncate(self, size: int) -> None:
        """Forget what was written after ``tell()`` gave ``size`` (a refused source's lines)."""
        self.fh.flush()
        os.truncate(self.path, size)

    def close(self) -> None:
        self.fh.close()


class SummaryWriter(_LineFile):
    def __init__(self, path: Path, m: Minter):
        super().__init__(path)
        self.muni = m.term("municipality")
        self.street = m.term("streetNumber")
        self.excluded = m.term("searchExcluded")
        self.names = {str(RDFS.label): 0, str(ROV.legalName): 1}
        self.full_address, self.org_status, self.org_type = str(LOCN.fullAddress), str(ROV.orgStatus), str(ROV.orgType)

    def write_text(self, lines: str) -> None:
        """Summary lines made elsewhere in this form (a column mapping, :mod:`loaders.houjin_columns`)."""
        self.fh.write(lines)

    def write(self, focus: str, action: str, triples) -> None:
        cls = muni = street = ""
        names: list[str] = []
        label, best = "", 99
        excluded = False
        address = Minter.fragment(focus, "address")
        full = foreign = status = kind = ""
        for s, p, o in triples:
            if s == focus:
                if p == str(RDF.type) and not cls:
                    cls = o
                elif p == self.muni:
                    muni = o
                elif p == self.org_status:
                    status = o.rsplit("/", 1)[-1]
                elif p == self.org_type:
                    kind = o
                elif p in self.names and isinstance(o, Literal):
                    names.append(o.value)
                    rank = self.names[p] + (0 if o.lang in (None, "ja") else 10)
                    if rank < best:
                        label, best = o.value, rank
                elif p == self.excluded:
                    excluded = True
            elif p == self.full_address and isinstance(o, Literal) and o.lang == "ja":
                if s == address:
                    full = o.value
                elif not foreign:
                    foreign = o.value
            elif s == address and p == self.street and isinstance(o, Literal) and o.lang == "ja":
                street = o.value
        unique = list(dict.fromkeys(names))
        self.fh.write("\t".join((focus, action, cls, muni, street.translate(_ESC), label.translate(_ESC),
                                 "\x1f".join(n.translate(_ESC) for n in unique), "1" if excluded else "",
                                 (full or foreign).translate(_ESC), status, kind)) + "\n")


class SummaryFile:
    """The summaries of a load, read afresh by each consumer (memory stays flat).

    Within a sorted source every entity appears once (NTA files are sorted, rows of one
    corporation grouped), so such a load streams the file. When several sources were loaded, or
    one's entities stopped ascending (two diffs concatenated), an entity may have been written
    twice: then the last line per entity wins, which needs a pass with a dictionary.
    """

    def __init__(self, path: Path, *, dedupe: bool, until=None):
        """``until`` (an event, e.g. ``multiprocessing.Event``): the file is still being written;
        read its lines as they come, until the event is set and the last of them is read."""
        self.path = path
        self.dedupe = dedupe
        self.until = until

    def _lines(self) -> Iterator[Summary]:
        with open(self.path, "rb") as fh:
            for raw in (fh if self.until is None else _follow(fh, self.until)):
                line = raw.decode("utf-8")
                focus, action, cls, muni, street, label, names, excluded, address, status, kind = \
                    line.rstrip("\n").split("\t")
                yield Summary(focus, action, cls, muni, street, label, names.split("\x1f") if names else [],
                              excluded == "1", address, status, kind)

    def __iter__(self) -> Iterator[Summary]:
        if not self.dedupe:
            yield from self._lines()
            return
        latest: dict[str, Summary] = {}
        for row in self._lines():
            latest.pop(row.focus, None)
            latest[row.focus] = row
        yield from latest.values()


def _follow(fh, done, *, chunk: int = 1 << 20, pause: float = 0.2) -> Iterator[bytes]:
    """The whole lines of a file another process appends to, until ``done`` is set: whatever
    the file holds once it is set is read to its end (a last line without its newline is the
    writer's unfinished one, and is not given)."""
    pending = b""
    while True:
        finished = done.is_set()  # before the read: what the file holds then is all there will be
        data = fh.read(chunk)
        if data:
            *lines, pending = (pending + data).split(b"\n")
            yield from lines
        elif finished:
            return
        else:
            done.wait(pause)


class TouchedFile(_LineFile):
    """The foci an upsert wrote, one per line: what the search index re-reads after the load.

    A list of them cost ~120 bytes a row (44 MB for a city's 地番 file, 600 MB for a national
    re-load); the file costs nothing. Each iteration reads it afresh.

    >>> import tempfile
    >>> touched = TouchedFile(Path(tempfile.mkdtemp()) / "touched")
    >>> touched.append("http://x/a"); mark = touched.tell(); touched.append("http://x/b")
    >>> list(touched)
    ['http://x/a', 'http://x/b']
    >>> touched.truncate(mark); list(touched)
    ['http://x/a']
    >>> touched.close(); touched.path.exists()
    False
    """

    def append(self, focus: str) -> None:
        self.fh.write(focus + "\n")

    def __iter__(self) -> Iterator[str]:
        self.fh.flush()
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield line.rstrip("\n")

    def close(self) -> None:
        super().close()
        self.path.unlink(missing_ok=True)
