"""The load journal (存在証明): one manifest per load, hash-chained, append-only.

``KG_DATA_DIR/journal.jsonl`` holds one JSON object per line (keys sorted, no spaces, UTF-8).
Each names the previous entry by the SHA-256 of its line (``prev``; 64 zeros for the first), so,
as in a Certificate Transparency log, dropping or editing an entry breaks every link after it,
and the hash of the last line (the head) stands for the whole history. The file lives beside
the store's generations, not in one, so it survives generation switches. When a signing key is
set, each load re-signs the file (``journal.jsonl.asc``): that signature covers the head.

>>> import tempfile, pathlib
>>> j = Journal(pathlib.Path(tempfile.mkdtemp()) / "journal.jsonl")
>>> first = j.append({"dataset": "houjin"}); second = j.append({"dataset": "abr"})
>>> second["prev"] == entry_hash(j.path.read_bytes().splitlines()[0]), check_chain(j.path)
(True, [])
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from kg.errors import KGError

GENESIS = "0" * 64
NAME = "journal.jsonl"


class JournalError(KGError):
    """The journal cannot be read (a line that is not JSON)."""


def encode(entry: dict[str, Any]) -> bytes:
    """An entry as its one canonical line (without the newline)."""
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def entry_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


class Journal:
    """The journal file of a data directory."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def of(cls, data_dir: Path) -> "Journal":
        return cls(data_dir / NAME)

    def lines(self) -> list[bytes]:
        try:
            return [line for line in self.path.read_bytes().split(b"\n") if line.strip()]
        except FileNotFoundError:
            return []

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for number, line in enumerate(self.lines(), 1):
            try:
                out.append(json.loads(line))
            except ValueError as exc:
                raise JournalError(f"{self.path}: line {number} is not a journal entry ({exc})") from None
        return out

    def head(self) -> tuple[int, str] | None:
        """(number of entries, hash of the last), or None when empty."""
        lines = self.lines()
        return (len(lines), entry_hash(lines[-1])) if lines else None

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add ``record`` with its sequence number and the previous entry's hash; durable on return."""
        head = self.head()
        entry = {**record, "seq": head[0] + 1 if head else 1, "prev": head[1] if head else GENESIS}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, encode(entry) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry


def check_chain(path: Path) -> list[str]:
    """What is wrong with the chain, one line each (empty: every link holds)."""
    problems = []
    prev, expected = GENESIS, 1
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [f"{path}: no journal"]
    for number, line in enumerate((line for line in raw.split(b"\n") if line.strip()), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            problems.append(f"{path}: line {number} is not a journal entry (edited?)")
            prev, expected = entry_hash(line), expected + 1
            continue
        if entry.get("prev") != prev:
            problems.append(f"{path}: line {number} (entry {entry.get('seq')}) does not follow the line before it: "
                            f"an entry before it was removed or edited")
        elif entry.get("seq") != expected:
            problems.append(f"{path}: line {number} is entry {entry.get('seq')}, expected {expected}")
        if encode(entry) != line.rstrip(b"\r"):
            problems.append(f"{path}: line {number} is not in the journal's canonical form (edited by hand?)")
        prev, expected = entry_hash(line), (entry.get("seq") or expected) + 1
    return problems


def record_load(settings, stats, generation: str, triples: int, state: dict[str, tuple[str, int]]) -> dict[str, Any]:
    """Append the manifest of a finished load (called once its generation is served)."""
    digest = stats.digest
    record = {
        "dataset": stats.dataset,
        "load": stats.load_id,
        "generation": generation,
        "mode": stats.mode,
        "started": _iso(stats.started),
        "ended": _iso(stats.ended),
        "sources": [_source(s) for s in stats.sources],
        "counts": {"read": stats.read, "loaded": stats.loaded, "rejected": stats.rejected, "triples": triples},
        "digest": {"value": digest.hex, "quads": digest.quads,
                   "method": "recomputed" if stats.digest_recomputed else "incremental"} if digest is not None else None,
        "state": {graph: {"digest": value, "quads": quads} for graph, (value, quads) in sorted(state.items())},
    }
    return Journal.of(settings.data_path).append(record)


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _source(src) -> dict[str, Any]:
    out: dict[str, Any] = {"name": src.name, "size": src.size, "sha256": src.sha256}
    sig = src.signature
    if sig is not None:
        out["signature"] = {"verdict": sig.status, "fingerprint": sig.fingerprint,
                            "signed_at": _iso(sig.signed_at), "note": sig.reason or None}
    return out
