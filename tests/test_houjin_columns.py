"""The NTA CSV mapped as column expressions (loaders/houjin_columns.py) against the per-row mapping.

A load into an empty dataset maps the rows it can show are valid as columns and hands every
other row to the per-row mapping and the validator. Both must give the same graph, report,
search index and statistics: rows here are made to hit each branch of the mapping and each
reason a row is not plain, and loaded once each way.
"""

from __future__ import annotations

import random
from collections import Counter
import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.load.contract import Mapped, Record
from kg.load.pipeline import run_load
from kg.load.report import read_report
from kg.load.sources import SourceFile
from kg.rdf import RDF
from kg.rdf.iri import Minter
from kg.settings import load_settings
from kg.store import open_home, search
from kg.validation.shapes import validator_for
from kg.loaders import houjin_columns as columns
from support import BASE, number, nta_csv, nta_row, raw_current

M = Minter(BASE)
ROWS = 1500

def _set(values: dict[int, str]):
    return lambda row: [row.__setitem__(i, v) for i, v in values.items()]


# (name, what it does to a row, whether the row is still plain)
CHANGES = [
    ("quotes and backslashes", lambda r: r.__setitem__(6, 'ＡＢ"商会" \\ 支店'), True),
    ("english name and address", _set({24: "Foo Co., Ltd.", 25: "Tokyo", 26: "1-2 Chiyoda"}), True),
    ("english name only", lambda r: r.__setitem__(24, "Foo"), True),
    ("english prefecture only", lambda r: r.__setitem__(25, "Osaka"), True),
    ("english name = name", lambda r: r.__setitem__(24, r[6]), True),
    ("furigana = name", lambda r: r.__setitem__(28, r[6]), True),
    ("no furigana", lambda r: r.__setitem__(28, ""), True),
    ("foreign address", _set({16: "米国ニューヨーク州", 17: "9999999"}), True),
    ("english foreign address only", lambda r: r.__setitem__(27, "New York, USA"), True),
    ("no address at all", _set({i: "" for i in (9, 10, 11, 13, 14, 15)}), True),
    ("foreign address only", _set({**{i: "" for i in (9, 10, 11, 13, 14, 15)}, 16: "英国ロンドン"}), True),
    ("post code only", lambda r: [r.__setitem__(i, "") for i in (9, 10, 11, 13, 14)], True),
    ("prefecture code, no city code", lambda r: r.__setitem__(14, ""), True),
    ("city code, no prefecture code", lambda r: r.__setitem__(13, ""), True),
    ("images", lambda r: [r.__setitem__(i, "0123456") for i in (7, 12)], True),
    ("closed by merger", _set({18: "2021-07-12", 19: "11", 20: number("000012050002"), 21: "合併"}), True),
    ("closed, no cause", lambda r: r.__setitem__(18, "2020-03-31"), True),
    ("cause, no date", lambda r: r.__setitem__(19, "01"), True),
    ("correction", lambda r: r.__setitem__(3, "1"), True),
    ("excluded from search", lambda r: r.__setitem__(29, "1"), True),
    ("empty flags", lambda r: [r.__setitem__(i, "") for i in (3, 29)], True),
    ("no change date, no assignment", lambda r: [r.__setitem__(i, "") for i in (5, 22)], True),
    ("sequence 0, empty", lambda r: r.__setitem__(0, random.choice(["0", ""])), True),
    ("non-ASCII line separator", lambda r: r.__setitem__(11, "本町\u2028１番"), True),
    # not plain: the per-row mapping and the validator decide
    ("history row", lambda r: r.__setitem__(23, "0"), False),
    ("deletion", lambda r: r.__setitem__(2, "99"), False),
    ("unknown process", lambda r: r.__setitem__(2, "55"), False),
    ("unknown kind", lambda r: r.__setitem__(8, "999"), False),
    ("no kind", lambda r: r.__setitem__(8, ""), False),
    ("unknown close cause", lambda r: r.__setitem__(19, "77"), False),
    ("February 30", lambda r: r.__setitem__(4, "2021-02-30"), False),
    ("short date", lambda r: r.__setitem__(5, "2021-2-3"), False),
    ("close date not a date", lambda r: r.__setitem__(18, "令和3年"), False),
    ("assignment date with time", lambda r: r.__setitem__(22, "2015-10-05T00:00:00"), False),
    ("correct=2", lambda r: r.__setitem__(3, "2"), False),
    ("hihyoji=x", lambda r: r.__setitem__(29, "x"), False),
    ("no name", lambda r: r.__setitem__(6, ""), False),
    ("post code of 6", lambda r: r.__setitem__(15, "113003"), False),
    ("sequence 007", lambda r: r.__setitem__(0, "007"), False),
    ("sequence abc", lambda r: r.__setitem__(0, "abc"), False),
    ("prefecture code 1", lambda r: r.__setitem__(13, "1"), False),
    ("city code 12", lambda r: r.__setitem__(14, "12"), False),
    ("tab in a street", lambda r: r.__setitem__(11, "本町\t１番"), False),
    ("control character", lambda r: r.__setitem__(6, "株式会社\x01"), False),
    ("bad successor", lambda r: r.__setitem__(20, "1000000000000"), False),
]


def _rows(seed: int) -> tuple[list[list[str]], set[int]]:
    """Rows sorted by number (as the NTA writes them) and the 1-based lines that are not plain."""
    rng = random.Random(seed)
    random.seed(seed)
    made: list[tuple[list[str], bool]] = []
    for i in range(ROWS):
        num = number(f"{1000 + i * 7:012d}")
        row = nta_row(i + 1, num, kind=rng.choice(["101", "301", "302", "305", "399", "401", "499"]),
                      pref_code=rng.choice(["13", "27", "01"]), city_code=rng.choice(["101", "105", "202"]))
        kept = [c for c in CHANGES if c[2]]
        picked = [rng.choice(kept) for _ in range(rng.choice([0, 1, 1, 2]))]
        plain = rng.random() < 0.6
        if not plain:  # last, so that no later change puts the row right again
            picked.append(rng.choice([c for c in CHANGES if not c[2]]))
        for _, change, _ in picked:
            change(row)
        made.append((row, plain))
        if rng.random() < 0.04:  # a run: this corporation's older state, then its current one
            older = list(row)
            older[23] = "0"
            made[-1] = (older, False)
            if rng.random() < 0.5:  # the older state twice (two diffs of a day concatenated)
                made.append((list(older), False))
            made.append((row, False))
    for bad in ("123456789012", "12345678901A", "1" + number("000000999999")[1:]):  # malformed, ASCII
        made.append((nta_row(ROWS + 1, bad), False))
    made.sort(key=lambda item: item[0][1])  # stable: a run stays in its order
    return [r for r, _ in made], {i + 1 for i, (_, plain) in enumerate(made) if not plain}


def _load(tmp_path: Path, name: str, path: Path, column_batch: int):
    settings = load_settings({}, data_dir=str(tmp_path / name), base_uri=BASE, column_batch=column_batch)
    result = run_load(settings, "houjin", [path])
    store = raw_current(settings.data_path)
    graphs = {}
    for g in ("houjin", "links", "statistics"):
        graphs[g] = {q for q in store.quads_for_pattern(None, None, None, ox.NamedNode(M.graph(g)))
                     if not (isinstance(q.object, ox.Literal) and q.object.datatype.value.endswith("#dateTime"))}
    with sqlite3.connect(open_home(settings, create=False).current_path() / search.FILENAME) as db:
        index = db.execute("SELECT iri, kind, dataset, label, names, folded, code, address, status FROM entities "
                           "ORDER BY iri").fetchall()
    # the counts a streamed load records without counting the store are the store's
    houjin = list(store.quads_for_pattern(None, None, None, ox.NamedNode(M.graph("houjin"))))
    assert result.triples == result.stats.digest.quads == len(houjin)
    types = Counter(q.object.value for q in houjin if q.predicate.value == str(RDF.type))
    assert result.stats.counts_carried and result.stats.digest.types == dict(types)
    report = sorted(tuple(sorted(r.items())) for r in read_report(result.report_path)) if result.report_path else []
    s = result.stats
    return {"graphs": graphs, "index": index, "report": report, "digest": (s.digest.hex, s.digest.quads),
            "counts": (s.read, s.loaded, s.rejected, s.entities, result.triples)}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_column_mapping_writes_what_the_per_row_mapping_writes(tmp_path, seed):
    rows, not_plain = _rows(seed)
    path = tmp_path / "houjin.csv"
    path.write_text(nta_csv(rows), encoding="utf-8")
    source = SourceFile(path.name, path)
    assert columns.column_plan(source, block_size=1 << 16)

    # the rows the column expressions take are exactly the plain ones, over batch boundaries
    items = list(columns.column_records(source, M, validator_for("houjin", BASE), None, block_size=1 << 15))
    assert sum(1 for i in items if isinstance(i, Mapped)) > 5
    handed_on = {i.line for i in items if isinstance(i, Record)}
    assert handed_on == not_plain
    assert sum(i.rows for i in items if isinstance(i, Mapped)) + len(handed_on) == len(rows)

    per_row = _load(tmp_path, "rows", path, 0)
    as_columns = _load(tmp_path, "columns", path, 1 << 15)
    assert per_row["report"], "some rows are rejected"
    assert len(per_row["graphs"]["houjin"]) > 20 * ROWS // 2
    for key in ("counts", "digest", "report", "index"):
        assert as_columns[key] == per_row[key], key
    for g in per_row["graphs"]:
        assert as_columns["graphs"][g] == per_row["graphs"][g], g


def _source(tmp_path: Path, data: bytes, name: str = "h.csv") -> SourceFile:
    path = tmp_path / name
    path.write_bytes(data)
    return SourceFile(name, path)


def test_files_the_column_reader_cannot_take_whole_are_left_to_the_per_row_mapping(tmp_path):
    rows = sorted((nta_row(i + 1, number(f"{1000 + i:012d}")) for i in range(3)), key=lambda r: r[1])
    text = nta_csv(rows)
    assert columns.column_plan(_source(tmp_path, text.encode()), block_size=1 << 16)
    assert columns.column_plan(_source(tmp_path, b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()),
                               block_size=1 << 16)
    refused = {
        "Shift_JIS": text.encode("cp932"),
        "a value over two lines": nta_csv([nta_row(1, rows[0][1], name="株式\n会社"), *rows[1:]]).encode(),
        "a blank line": (text + "\n").encode(),
        "numbers that descend": nta_csv(rows[::-1]).encode(),
        "a number that is not ASCII": nta_csv([nta_row(1, "１２３")]).encode(),
        "29 columns": nta_csv([r[:-1] for r in rows]).encode(),
        "Web-API header": ("2021-07-14,3,1,1\n" + text).encode(),
        "empty": b"",
    }
    for why, data in refused.items():
        assert not columns.column_plan(_source(tmp_path, data), block_size=1 << 16), why
    assert not columns.column_plan(_source(tmp_path, b"<corporations/>", "h.xml"), block_size=1 << 16)
