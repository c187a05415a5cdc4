#!/usr/bin/env python3
"""What KG_SEARCH_BUILD_MEMORY buys a fresh dataset's search index (kg/store/search.py).

    python bench/bench_search_index.py [--rows 1000000] [--memory 16M] [--tmp DIR]

A load indexes a fresh dataset in one ``SearchIndex.add_dataset`` (the forked indexer beside
the relink). FTS5 gathers the text of the rows it is given in memory and writes a segment
each time that reaches its ``hashsize``; segments are merged again as more come. Each round
indexes the same N generated corporations (``bench/gen_houjin.py``: names, kana, addresses)
into a fresh index twice, in this process: BASELINE with FTS5's own 1 MiB (``memory=0``), then
with ``--memory``. Reported per round: both wall times, the ratio, the index size, and the
median of 20 runs of each of a few searches on each index (so that fewer, larger segments are
seen to cost the readers nothing).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from gen_houjin import generate  # noqa: E402
from kg.settings import _bytes  # noqa: E402
from kg.store.search import FILENAME, SearchIndex  # noqa: E402
from loaders.houjin_format import CITY, FURIGANA, NAME, NUMBER, PREF, STREET  # noqa: E402

QUERIES = ("株式会社", "東京都千代田区", "サービス", "ab", "1234567890123")


def entries(csv_path: Path):
    """What a load's summaries give the indexer for each corporation of an NTA file."""
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for r in csv.reader(fh):
            names = [r[NAME]] + ([r[FURIGANA]] if r[FURIGANA] else [])
            yield (f"http://localhost:8000/id/corporation/{r[NUMBER]}", "corporation", r[NAME], names,
                   r[PREF] + r[CITY] + r[STREET], "active")


def build(csv_path: Path, directory: Path, memory: int) -> dict:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    start = time.perf_counter()
    index = SearchIndex.for_generation(directory, memory=memory)
    count = index.add_dataset("houjin", entries(csv_path))
    index.close()
    seconds = time.perf_counter() - start
    reader = SearchIndex(directory / FILENAME, readonly=True)
    searches = {}
    for q in QUERIES:
        times = []
        for _ in range(20):
            t = time.perf_counter()
            reader.search(q)
            times.append(time.perf_counter() - t)
        searches[q] = round(statistics.median(times) * 1000, 2)
    reader.db.close()
    return {"seconds": round(seconds, 2), "entries": count, "bytes": (directory / FILENAME).stat().st_size,
            "search_median_ms": searches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory", default="16M", help="KG_SEARCH_BUILD_MEMORY to compare with FTS5's own 1 MiB")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    memory = _bytes(args.memory)
    work = Path(tempfile.mkdtemp(dir=args.tmp))
    try:
        csv_path = work / "houjin.csv"
        generate(args.rows, csv_path)
        rounds = []
        for _ in range(args.rounds):
            base, ours = build(csv_path, work / "base", 0), build(csv_path, work / "ours", memory)
            ratio = round(ours["seconds"] / base["seconds"], 2)
            rounds.append({"baseline_1MiB": base, "ours": ours, "ratio": ratio})
            print(f"{args.rows:,} corporations: FTS5's 1 MiB {base['seconds']:.2f} s, {args.memory} "
                  f"{ours['seconds']:.2f} s, {ratio:.2f}x; searches (median ms) {base['search_median_ms']} "
                  f"against {ours['search_median_ms']}", flush=True)
        print(json.dumps({"rows": args.rows, "memory": memory, "machine": platform.platform(),
                          "rounds": rounds}, ensure_ascii=False, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
