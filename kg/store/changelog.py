"""The change log: what each generation added and removed, kept beside the generations.

Layout (under ``KG_DATA_DIR/changes``, so it outlives the generations it describes)::

    gen-000007/change.json       generation, previous one, time, what made it, counts per graph
    gen-000007/added.nq.gz       quads generation 7 has that generation 6 had not
    gen-000007/removed.nq.gz     quads generation 6 had that generation 7 has not
    gen-000007/entities.txt.gz   the entities (``{base}id/…`` IRIs, fragments cut) whose quads changed
    entities.sqlite              (entity, generation) of every recorded change: an entity's last change

A record is written while its generation is built, before ``CURRENT`` names it, so a served
generation always has its record. A build that fails leaves a record named after a generation
that never became current: readers ignore records above the current generation, and the next
build, which reuses that name, overwrites it. A generation made by a writer that does not
capture (a SPARQL Update) gets a record that says so (``recorded: false``): a client holding an
older generation must then start again from a dump.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from kg.store.gzipped import FAST, open_gzip

_GEN = re.compile(r"^gen-(\d{6})$")
ENTITIES = "entities.txt.gz"
RECORD = "change.json"
INDEX = "entities.sqlite"


def generation_number(name: str) -> int | None:
    """6 for ``gen-000006``; None for anything else (a client's malformed name)."""
    m = _GEN.match(name or "")
    return int(m.group(1)) if m else None


def generation_name(number: int) -> str:
    return f"gen-{number:06d}"


class ChangeLog:
    """The records of ``KG_DATA_DIR/changes``."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "changes"

    # --- writing (by the one writer that holds the store's lock) --------------------------------
    def stage(self) -> Path:
        """A private directory for a record being written (renamed into place by :meth:`commit`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))

    def commit(self, staging: Path, record: dict, entities: Iterable[str] = ()) -> Path:
        """Make a staged record the one of ``record["generation"]`` (replacing a stale one)."""
        name = record["generation"]
        number = generation_number(name)
        if number is None:
            raise ValueError(f"not a generation name: {name!r}")
        db = self._index()
        try:
            db.execute("DELETE FROM touched WHERE generation >= ?", (number,))  # a stale record's rows
            # the IRIs come in load order. While they ascend (a national file sorted by corporate
            # number) they go straight into the index; from the first that does not, the rest are
            # appended to a temporary table and put in the index in IRI order at the end (SQLite
            # sorts in bounded memory, spilling to temporary files): a million corporate numbers
            # in random order took 12.4 s inserted as they came, 2.7 s so. A JSON array binds
            # 50,000 IRIs a statement (executemany binds them one by one: twice the time).
            # Duplicates are dropped by the key.
            db.execute("CREATE TEMP TABLE IF NOT EXISTS incoming(iri TEXT)")
            db.execute("DELETE FROM incoming")
            batch: list[str] = []
            ascending, last = True, ""

            def put() -> None:
                iris = json.dumps(batch, ensure_ascii=False)
                if ascending:
                    db.execute("INSERT OR IGNORE INTO touched SELECT value, ? FROM json_each(?)", (number, iris))
                else:
                    db.execute("INSERT INTO incoming SELECT value FROM json_each(?)", (iris,))
                batch.clear()

            for iri in entities:
                if ascending and iri < last:
                    put()
                    ascending = False
                last = iri
                batch.append(iri)
                if len(batch) >= 50_000:
                    put()
            put()
            if not ascending:
                db.execute("INSERT OR IGNORE INTO touched SELECT iri, ? FROM incoming ORDER BY iri", (number,))
            db.execute("DROP TABLE incoming")
            count = 0
            with open_gzip(staging / ENTITIES, "wt", level=FAST, encoding="utf-8") as out:
                for (iri,) in db.execute("SELECT iri FROM touched WHERE generation = ? ORDER BY iri", (number,)):
                    out.write(iri + "\n")
                    count += 1
            record = dict(record, entities=count)
            (staging / RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
            target = self.root / name
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
            db.commit()
        finally:
            db.close()
        return target

    def unrecorded(self, generation: str, previous: str | None, *, kind: str, published: str, keep: int) -> None:
        """Record that ``generation`` was made without capture (a SPARQL Update changes any quad
        of any graph, and comparing whole stores would cost minutes at millions of quads): the
        feed says so, and a client holding an older generation starts again from a dump."""
        record = {"generation": generation, "previous": previous, "recorded": False, "kind": kind,
                  "published": published, "dataset": None, "load": None, "mode": None, "added": None,
                  "removed": None, "graphs": {}}
        staging = self.stage()
        self.commit(staging, record)
        self.prune(keep, generation)

    def prune(self, keep: int, current: str) -> list[str]:
        """Remove every record but the ``keep`` newest up to ``current`` (and any stray staging)."""
        number = generation_number(current)
        if number is None or not self.root.is_dir():
            return []
        oldest = number - keep + 1
        removed = []
        for path in self.root.iterdir():
            n = generation_number(path.name)
            if (n is not None and n < oldest) or path.name.startswith(".staging-"):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        if removed:
            db = self._index()
            try:
                db.execute("DELETE FROM touched WHERE generation < ?", (oldest,))
                db.commit()
            finally:
                db.close()
        return sorted(removed)

    def _index(self) -> sqlite3.Connection:
        self.root.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.root / INDEX, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS touched(iri TEXT, generation INTEGER, PRIMARY KEY (iri, generation))"
                   " WITHOUT ROWID")
        db.execute("CREATE INDEX IF NOT EXISTS touched_generation ON touched(generation, iri)")
        return db

    # --- reading ----------------------------------------------------------------------------
    def generations(self, current: str | None) -> list[str]:
        """Names of the recorded generations up to ``current``, oldest first."""
        limit = generation_number(current or "")
        if limit is None or not self.root.is_dir():
            return []
        found = []
        for path in self.root.iterdir():
            n = generation_number(path.name)
            if n is not None and n <= limit and (path / RECORD).exists():
                found.append(n)
        return [generation_name(n) for n in sorted(found)]

    def record(self, name: str, current: str | None) -> dict | None:
        """The record of a generation, or None if it is not recorded (or above ``current``)."""
        n, limit = generation_number(name), generation_number(current or "")
        if n is None or limit is None or n > limit:
            return None
        try:
            return json.loads((self.root / name / RECORD).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def file(self, name: str, filename: str) -> Path:
        return self.root / name / filename

    def entities(self, name: str, limit: int) -> list[str]:
        """The first ``limit`` entities a generation's change touched."""
        path = self.root / name / ENTITIES
        out: list[str] = []
        if not path.exists() or limit <= 0:
            return out
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                out.append(line.rstrip("\n"))
                if len(out) >= limit:
                    break
        return out

    def last_change(self, iri: str, current: str | None) -> str | None:
        """The newest recorded generation up to ``current`` that changed ``iri``'s quads."""
        limit = generation_number(current or "")
        path = self.root / INDEX
        if limit is None or not path.exists():
            return None
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = db.execute("SELECT MAX(generation) FROM touched WHERE iri = ? AND generation <= ?",
                             (iri, limit)).fetchone()
        except sqlite3.Error:
            return None
        finally:
            db.close()
        return generation_name(row[0]) if row and row[0] is not None else None


def read_patch(path: Path) -> Iterator[str]:
    """The N-Quads lines of a patch file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        yield from fh


def utc_now() -> str:
    """Now as the records write times (``2026-12-05T06:30:00Z``)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
