"""Reading published files, for every loader: decoding, CSV rows, JSON documents, grouping.

Published text files do not say their encoding (UTF-8 or Shift_JIS/CP932), CSV rows of one
entity come in runs, and a JSON response is one document: the loaders differ in what the rows
mean, not in how they are read, so the reading is here once.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from typing import IO, Callable, Iterable, Iterator

from kg.errors import InputError
from kg.load.contract import Problem, Record
from kg.load.sources import SourceFile

SAMPLE = 1 << 16
_HANDLERS = itertools.count()


def detect_encoding(head: bytes) -> str:
    """'utf-8-sig', 'utf-8' or 'cp932', from the first bytes of a file.

    UTF-8 is strict enough that Shift_JIS text almost never decodes as UTF-8; a multi-byte
    character cut at the end of the sample is allowed (incremental decoder, not final).

    >>> detect_encoding("国税庁".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("国税庁".encode("cp932"))
    'cp932'
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("cp932")().decode(head, final=False)
        return "cp932"
    except UnicodeDecodeError:
        return "utf-8"  # neither: decoding errors will name the line


class CountingReader(io.RawIOBase):
    """Passes bytes through and reports how many were read (for progress bars)."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None):
        self.raw = raw
        self.on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self.on_read and n:
            self.on_read(n)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class DecodedText:
    """A binary stream as text in its detected encoding.

    Bytes that do not decode become U+FFFD and are counted (``undecodable``), so a reader can
    name the exact line: strict decoding would fail a whole chunk ahead of the CSV reader.
    """

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None = None):
        buffered = io.BufferedReader(CountingReader(raw, on_read), buffer_size=1 << 20)
        self.encoding = detect_encoding(buffered.peek(SAMPLE)[:SAMPLE])
        self.undecodable = 0
        handler = f"kg-mark-{next(_HANDLERS)}"
        codecs.register_error(handler, self._mark)
        self.text = io.TextIOWrapper(buffered, encoding=self.encoding, errors=handler, newline="")

    def _mark(self, exc: UnicodeDecodeError):
        self.undecodable += 1
        return "\ufffd", exc.end


def open_text(raw: IO[bytes], on_read: Callable[[int], None] | None = None) -> tuple[IO[str], str]:
    """Wrap a binary stream as text in its detected encoding; returns (text, encoding)."""
    decoded = DecodedText(raw, on_read)
    return decoded.text, decoded.encoding


def csv_rows(source: SourceFile, on_read: Callable[[int], None] | None, *, what: str) -> Iterator[tuple[int, list[str]] | Problem]:
    """``(line, cells)`` of each non-blank CSV row, or a :class:`Problem` for a malformed one.

    ``what`` names the format ("an NTA corporate-number CSV"): a file that fails before its first
    row is not one (:class:`InputError`), and so is one with bytes that do not decode, named by
    line. Later malformed rows are problems and the rest reads on.
    """
    decoded = DecodedText(source.open(), on_read)
    reader = csv.reader(decoded.text, strict=True)
    first = True
    with decoded.text:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if first:
                    raise InputError(f"{source.name}: not {what} ({exc})") from None
                yield Problem(source.name, reader.line_num, "", f"malformed CSV: {exc}")
                continue
            # the decoder runs a chunk ahead of the CSV reader: a count says bad bytes were met
            # somewhere, U+FFFD in a row says where (a genuine U+FFFD alone is left as it is)
            if decoded.undecodable and any("\ufffd" in cell for cell in cells):
                if first:
                    raise InputError(f"{source.name}: not {what} (line {reader.line_num} is not UTF-8 or Shift_JIS "
                                     f"text)")
                raise InputError(f"{source.name}: line {reader.line_num}: bytes that are not {decoded.encoding}")
            if not cells or cells == [""]:
                continue
            first = False
            yield reader.line_num, cells


def read_json(source: SourceFile, on_read: Callable[[int], None] | None, *, what: str):
    """The parsed document; an :class:`InputError` names the file and the line of a JSON error."""
    with CountingReader(source.open(), on_read) as stream:
        raw = stream.read()
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{source.name}: not UTF-8 JSON ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{source.name}: line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{source.name}: JSON nested too deeply to be {what}") from None


def adjacent_groups(records: Iterable[Record | Problem]) -> Iterator[list[Record] | Problem]:
    """Runs of consecutive records with the same key (the rows of one entity); problems pass.

    >>> [g if isinstance(g, Problem) else [r.line for r in g] for g in adjacent_groups(
    ...     [Record("f", 1, "a", None), Record("f", 2, "a", None), Record("f", 3, "b", None)])]
    [[1, 2], [3]]
    """
    pending: list[Record] = []
    for item in records:
        if isinstance(item, Problem):
            yield item
            continue
        if pending and pending[-1].key != item.key:
            yield pending
            pending = []
        pending.append(item)
    if pending:
        yield pending
