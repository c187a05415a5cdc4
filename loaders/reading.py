"""Decoding published text files whose encoding nobody tells us (UTF-8 or Shift_JIS/CP932)."""

from __future__ import annotations

import codecs
import io
from typing import IO, Callable

SAMPLE = 1 << 16

#: bytes that did not decode, counted by the "kg-mark" error handler (they become U+FFFD), so a
#: reader can find the exact line: strict decoding fails a whole chunk ahead of the CSV reader.
undecodable = [0]


def _mark(exc: UnicodeDecodeError):
    undecodable[0] += 1
    return "\ufffd", exc.end


codecs.register_error("kg-mark", _mark)


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


def open_text(raw: IO[bytes], on_read: Callable[[int], None] | None = None) -> tuple[IO[str], str]:
    """Wrap a binary stream as text in its detected encoding; returns (text, encoding)."""
    buffered = io.BufferedReader(CountingReader(raw, on_read), buffer_size=1 << 20)
    head = buffered.peek(SAMPLE)[:SAMPLE]
    encoding = detect_encoding(head)
    return io.TextIOWrapper(buffered, encoding=encoding, errors="kg-mark", newline=""), encoding
