"""Name search: an SQLite FTS5 trigram index beside each store generation.

Oxigraph has no text index, and SPARQL CONTAINS over a million names costs seconds. The trigram
tokenizer matches inside unsegmented Japanese (「国税」 finds 国税庁); a two-character query becomes
the OR of the indexed trigrams it starts, and only a single character falls back to a LIKE scan.
Names are folded before indexing and before searching: NFKC (full/half width), 異体字, katakana →
hiragana, lower case, no spaces.

Corporations are also found by address (「東京都千代田区」): the text index has a second column
with a corporation's folded full address, searched after the names (so hits whose names match come
first and are never crowded out). An identifier (a 13-digit corporate number, with or without
hyphens or the invoice ``T``; an lg_code; a law ID: the last segment of an IRI) is looked up
exactly in its own indexed column. Each hit carries what a list of corporations needs: number,
address and status (active/closed). Indexing the addresses costs ~7 µs a corporation (1.1 → 1.75 s
per 100k in ``add_dataset``), in the forked indexer that runs beside the relink (into an
engine, beside the records: kg.load.pipeline).
The index lives inside the generation directory, so it switches with the data it describes.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from kg.rdf import CPSV, ELI, IRI, LOCN, Literal, RDF, ROV
from kg.rdf.iri import Minter
from kg.rdf.labels import NAME_PROPERTIES, language_rank
from kg.store.interface import ReadStore
from kg.text.normalize import fold

FILENAME = "kg-search.sqlite"

KINDS = {  # kind → (class, dataset, Japanese label)
    "corporation": (str(ROV.RegisteredOrganization), "houjin", "法人"),
    "prefecture": (None, "abr", "都道府県"),
    "municipality": (None, "abr", "市区町村"),
    "town": (None, "abr", "町字"),
    "law": (str(ELI.LegalResource), "laws", "法令"),
    "program": (str(CPSV.PublicService), "programs", "支援制度"),
}


def _class_iris(m: Minter) -> dict[str, str]:
    out = {k: v[0] for k, v in KINDS.items() if v[0]}
    out.update(prefecture=m.term("Prefecture"), municipality=m.term("Municipality"), town=m.term("Town"))
    return out


_IDENTIFIER = re.compile(r"[0-9a-z]+(?:-[0-9a-z]+)*")  # an IRI's last segment, as fold() leaves it
_NUMBER_PUNCTUATION = str.maketrans("", "", "-")
#: columns added after the first release: an index file made then is upgraded when opened for writing
_COLUMNS = {"code": "TEXT", "address": "TEXT", "status": "TEXT"}


@dataclass
class Hit:
    iri: str
    kind: str
    label: str
    names: str
    code: str = ""       # the last segment of the IRI: corporate number, lg_code, law ID, ...
    address: str = ""    # corporations: the full address as the NTA writes it
    status: str = ""     # corporations: active or closed


def _code(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].lower()


def _address_text(address: str | None) -> str | None:
    """The text index's address column: the folded address, ``|`` at its end (as after the names,
    so that a pair at the very end still starts a trigram)."""
    return fold(address) + "|" if address else None


class SearchIndex:
    def __init__(self, path: Path, *, readonly: bool = False, memory: int = 0):
        """``memory``: bytes of text a writer gathers before it writes them into the text index
        (FTS5's ``hashsize``; 0: FTS5's own 1 MiB). Each flush is a segment the index merges
        again later: the text index of 5.3M corporations' names and addresses took 74 s at 1 MiB,
        43 s at 16 MiB, 42 s at 64 MiB (bench/bench_search_index.py: the whole index 0.81x)."""
        self.path = path
        self._vocab = False  # the fts5vocab view, made on the first two-character query
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(path)
            # the file belongs to a generation nobody reads until it is switched in; a crash
            # discards the whole generation, so the journal buys nothing here
            self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
            self.db.executescript("""
                CREATE TABLE IF NOT EXISTS entities(id INTEGER PRIMARY KEY, iri TEXT UNIQUE, kind TEXT, dataset TEXT,
                                                    label TEXT, names TEXT, folded TEXT,
                                                    code TEXT, address TEXT, status TEXT);
                CREATE INDEX IF NOT EXISTS entities_dataset ON entities(dataset);
                CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(folded, addr, tokenize='trigram');
            """)
            self._upgrade()
            if memory > 0:  # kept in the index's configuration; it changes how it is written, not read
                self.db.execute("INSERT INTO fts(fts, rank) VALUES ('hashsize', ?)", (memory,))
            self.db.create_function("kg_address_text", 1, _address_text, deterministic=True)
            self.db.execute("CREATE INDEX IF NOT EXISTS entities_code ON entities(code)")
        self.columns = {row[1] for row in self.db.execute("PRAGMA table_info(entities)")}
        #: an index file from before addresses were indexed has one text column (names only)
        self.addresses = "addr" in {row[1] for row in self.db.execute("PRAGMA table_info(fts)")}

    def _upgrade(self) -> None:
        """An index written before the code/address/status columns: add them (codes filled in
        from the IRIs; addresses and status come with the next load of the dataset)."""
        have = {row[1] for row in self.db.execute("PRAGMA table_info(entities)")}
        missing = [c for c in _COLUMNS if c not in have]
        for column in missing:
            self.db.execute(f"ALTER TABLE entities ADD COLUMN {column} {_COLUMNS[column]}")
        if "code" in missing:
            self.db.create_function("kg_code", 1, _code, deterministic=True)
            self.db.execute("UPDATE entities SET code = kg_code(iri)")
        if "addr" not in {row[1] for row in self.db.execute("PRAGMA table_info(fts)")}:
            self.db.executescript("""
                DROP TABLE fts;
                CREATE VIRTUAL TABLE fts USING fts5(folded, addr, tokenize='trigram');
                INSERT INTO fts(rowid, folded) SELECT id, folded || '|' FROM entities;""")

    @classmethod
    def for_generation(cls, gen_dir: Path, *, memory: int = 0) -> "SearchIndex":
        """The writable index of a generation being built (the store copied the previous one's)."""
        return cls(gen_dir / FILENAME, memory=memory)

    def close(self) -> None:
        self.db.commit()
        self.db.close()

    # ---- writing ---------------------------------------------------------------------------
    def remove(self, iris: Iterable[str] | None = None, *, dataset: str | None = None) -> None:
        if dataset is not None:
            self.db.execute("DELETE FROM fts WHERE rowid IN (SELECT id FROM entities WHERE dataset = ?)", (dataset,))
            self.db.execute("DELETE FROM entities WHERE dataset = ?", (dataset,))
            return
        for iri in iris or ():
            row = self.db.execute("SELECT id FROM entities WHERE iri = ?", (iri,)).fetchone()
            if row:
                self.db.execute("DELETE FROM fts WHERE rowid = ?", row)
                self.db.execute("DELETE FROM entities WHERE id = ?", row)

    def add_dataset(self, dataset: str, entries) -> int:
        """Replace a dataset's entries wholesale: rows in batches, then the text index in one
        statement (a fresh load indexes millions; row-by-row FTS inserts cost minutes)."""
        self.remove(dataset=dataset)
        count = 0
        batch = []

        def flush() -> None:
            self.db.executemany("INSERT OR REPLACE INTO entities(iri, kind, dataset, label, names, folded, code, "
                                "address, status) VALUES (?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()

        for iri, kind, label, names, *more in entries:
            address, status = (more + ["", ""])[:2]
            text = " | ".join(dict.fromkeys(n for n in names if n))
            batch.append((iri, kind, KINDS[kind][1], label, text, fold(text), _code(iri), address or None,
                          status or None))
            count += 1
            if len(batch) >= 20_000:
                flush()
        flush()
        self.db.execute("INSERT INTO fts(rowid, folded, addr) SELECT id, folded || '|', kg_address_text(address) "
                        "FROM entities WHERE dataset = ?", (dataset,))
        return count

    def add(self, iri: str, kind: str, label: str, names: list[str], address: str = "", status: str = "") -> None:
        text = " | ".join(dict.fromkeys(n for n in names if n))
        folded = fold(text)
        cur = self.db.execute("INSERT OR REPLACE INTO entities(iri, kind, dataset, label, names, folded, code, address, "
                              "status) VALUES (?,?,?,?,?,?,?,?,?)",
                              (iri, kind, KINDS[kind][1], label, text, folded, _code(iri), address or None,
                               status or None))
        self.db.execute("INSERT INTO fts(rowid, folded, addr) VALUES (?, ?, ?)",
                        (cur.lastrowid, folded + "|", _address_text(address)))

    # ---- reading ---------------------------------------------------------------------------
    def search(self, query: str, *, kind: str | None = None, limit: int = 20, offset: int = 0,
               max_hits: int = 1000) -> tuple[list[Hit], int]:
        """Hits and how many there are (counted up to 1,000).

        The first 1,000 matches the index yields are ranked shortest name first: finding them
        stops early however common the text, and no page past them is offered anyway. Names are
        matched first and addresses only for the rest of the 1,000, so 「東京」 finds the companies
        called 東京… before the million whose address says 東京都. A query that is an identifier
        finds that entity.
        """
        q = "".join(c for c in fold(query) if c >= " " and c != "\x7f")  # control characters find nothing
        if not q:
            return [], 0
        kind_sql, args = ("AND e.kind = ?", [kind]) if kind else ("", [])
        extra = ", e.code, e.address, e.status" if "code" in self.columns else ""
        exact = self._by_identifier(q, kind_sql, args, extra)
        if exact is not None:
            return exact[offset:offset + limit], len(exact)
        expression = self._match_expression(q)
        match = "SELECT e.id, {rank} AS r FROM fts JOIN entities e ON e.id = fts.rowid WHERE fts MATCH ? {more}"
        if expression is not None and self.addresses:
            names = match.format(rank=0, more=kind_sql) + f" LIMIT {max_hits}"
            addresses = match.format(rank=1, more=kind_sql + " AND e.id NOT IN (SELECT id FROM n)") + f" LIMIT {max_hits}"
            hits = (f"WITH n AS ({names}), h AS (SELECT id, r FROM n UNION ALL SELECT id, r FROM ({addresses}) "
                    f"LIMIT {max_hits}) ")
            params = [f"folded : ({expression})", *args, f"addr : ({expression})", *args]
        elif expression is not None:
            hits = f"WITH h AS ({match.format(rank=0, more=kind_sql)} LIMIT {max_hits}) "
            params = [expression, *args]
        else:  # one character: no trigram index helps (and names only)
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            hits = (f"WITH h AS (SELECT e.id, 0 AS r FROM entities e WHERE e.folded LIKE ? ESCAPE '\\' {kind_sql} "
                    f"LIMIT {max_hits}) ")
            params = [pattern, *args]
        rows = self.db.execute(f"{hits}SELECT count(*) OVER (), e.iri, e.kind, e.label, e.names{extra} FROM h "
                               f"JOIN entities e ON e.id = h.id ORDER BY h.r, length(e.folded), e.iri "
                               f"LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
        total = rows[0][0] if rows else self.db.execute(f"{hits}SELECT count(*) FROM h", params).fetchone()[0]
        return [Hit(*(v or "" for v in r[1:])) for r in rows], total

    def _by_identifier(self, q: str, kind_sql: str, args: list, extra: str) -> list[Hit] | None:
        """The entity whose IRI ends in ``q`` (corporate numbers may come as 7000-0120-50002 or
        T7000012050002), or None when ``q`` does not look like an identifier or names nothing."""
        if not _IDENTIFIER.fullmatch(q):
            return None
        number = q.translate(_NUMBER_PUNCTUATION)
        number = number[1:] if number[:1] == "t" and len(number) == 14 else number
        codes = [q, number] if number.isdigit() and number != q else [q]
        if "code" in self.columns:
            where, params = f"e.code IN ({','.join('?' * len(codes))})", codes
        else:  # an index from before the code column: a scan of the IRIs (corporate numbers only)
            if not (number.isdigit() and len(number) == 13):
                return None
            where, params = "e.iri LIKE ?", [f"%/corporation/{number}"]
        rows = self.db.execute(f"SELECT e.iri, e.kind, e.label, e.names{extra} FROM entities e WHERE {where} "
                               f"{kind_sql} ORDER BY e.iri LIMIT 20", [*params, *args]).fetchall()
        return [Hit(*(v or "" for v in r)) for r in rows] or None

    def _match_expression(self, q: str) -> str | None:
        """The FTS5 query for folded text ``q``: a phrase of its trigrams or, for two characters,
        every indexed trigram that starts with them (each text ends with ``|``, so a pair at the
        very end still starts one)."""
        if len(q) >= 3:
            return _phrase(q)
        if len(q) < 2:
            return None
        if not self._vocab:
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_terms USING fts5vocab(main, fts, 'row')")
            self._vocab = True
        terms = [t for (t,) in self.db.execute("SELECT term FROM temp.fts_terms WHERE term >= ? AND term < ?",
                                                [q, q + "\U0010ffff"])]
        if not terms:
            return _phrase(q)   # matches nothing, as it should
        return " OR ".join(_phrase(t) for t in terms)


def _phrase(text: str) -> str:
    """``text`` as an FTS5 phrase (quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def _names_of(store: ReadStore, iri: str, graph: str) -> tuple[str, list[str]]:
    label, names = "", []
    for p in NAME_PROPERTIES:
        for q in store.quads(iri, p, None, graph):
            if isinstance(q.object, Literal):
                names.append(q.object.value)
                if not label and q.object.lang in ("ja", None):
                    label = q.object.value
    return label or (names[0] if names else iri), names


def _corporation_facts(store: ReadStore, iri: str, graph: str, kind: str) -> tuple[str, str]:
    """(full address, status) of a corporation read from the store; ("", "") for other kinds.

    Loads take them from their summaries (kg.load.written); this is the path without one."""
    if kind != "corporation":
        return "", ""
    address = status = ""
    for a in store.quads(iri, str(LOCN.address), None, graph):
        for q in store.quads(a.object, str(LOCN.fullAddress), None, graph):
            if isinstance(q.object, Literal) and q.object.lang == "ja":
                address = q.object.value
    for q in store.quads(iri, str(ROV.orgStatus), None, graph):
        status = str(q.object).rsplit("/", 1)[-1]
    return address, status


def index_dataset(store: ReadStore | None, m: Minter, index: SearchIndex, dataset: str, *,
                  touched: list[str] | None = None, rows=None, full: bool = False) -> int:
    """(Re)index a dataset's searchable entities: all of them, or those a load touched.

    ``rows`` (kg.load.written.Summary) give the names of what a load wrote without reading the store.
    """
    classes = _class_iris(m)
    if rows is not None:
        kinds_by_class = {classes[k]: k for k, v in KINDS.items() if v[1] == dataset}
        if full:
            return index.add_dataset(dataset, (
                (r.focus, kind, r.label or (r.names[0] if r.names else r.focus), r.names, r.address, r.status)
                for r in rows if (kind := kinds_by_class.get(r.cls)) is not None
                and r.action == "upsert" and not r.excluded and "#" not in r.focus))
        count = 0
        for r in rows:  # streamed: the last row per entity wins (add replaces by IRI)
            index.remove([r.focus])
            kind = kinds_by_class.get(r.cls)
            if r.action != "upsert" or kind is None or r.excluded or "#" in r.focus:
                continue
            index.add(r.focus, kind, r.label or (r.names[0] if r.names else r.focus), r.names, r.address, r.status)
            count += 1
        return count
    graph = m.graph(dataset)
    excluded = m.term("searchExcluded")
    kinds = [k for k, v in KINDS.items() if v[1] == dataset]
    if touched is None:
        index.remove(dataset=dataset)
        return sum(_index_all(store, index, graph, kind, classes[kind], excluded) for kind in kinds)
    index.remove(touched)
    count = 0
    for iri in touched:
        if "#" in iri or store.has(iri, excluded, None, graph):
            continue  # hihyoji=1: the NTA asks that it not be found by name
        for kind in kinds:
            if store.has(iri, str(RDF.type), IRI(classes[kind]), graph):
                label, names = _names_of(store, iri, graph)
                index.add(iri, kind, label, names, *_corporation_facts(store, iri, graph, kind))
                count += 1
                break
    return count


def _index_all(store: ReadStore, index: SearchIndex, graph: str, kind: str, cls: str, excluded: str) -> int:
    """Every entity of a class in one query (a lookup per entity costs minutes at millions)."""
    wanted = ", ".join(f"<{p}>" for p in NAME_PROPERTIES)
    # the type pattern first and a FILTER (not VALUES) on the property: the engine then walks
    # subjects in order and the rows of one subject arrive together
    q = f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s a <{cls}> . ?s ?p ?o FILTER(?p IN ({wanted}))
            FILTER NOT EXISTS {{ ?s <{excluded}> true }} }} }}"""
    count = 0
    current, label, names = None, "", []
    rank_of = {p: i for i, p in enumerate(NAME_PROPERTIES)}
    best = 99

    def flush() -> None:
        nonlocal count
        if current is not None and "#" not in current:
            index.add(current, kind, label or (names[0] if names else current), names,
                      *_corporation_facts(store, current, graph, kind))
            count += 1

    solutions = store.query(q)
    if not getattr(store, "subjects_together", False):  # an answer held in memory anyway
        solutions = sorted(solutions, key=lambda row: str(row["s"]))
    for solution in solutions:
        s, o = solution["s"], solution["o"]
        if not isinstance(s, IRI) or not isinstance(o, Literal):
            continue
        if s != current:
            flush()
            current, label, names, best = str(s), "", [], 99
        names.append(o.value)
        rank = rank_of.get(str(solution["p"]), 50) + (0 if language_rank(o.lang) <= 1 else 20)
        if rank < best:
            label, best = o.value, rank
    flush()
    return count
