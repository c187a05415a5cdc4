#!/usr/bin/env python3
"""What the order of a load's entities costs the change log's index (kg/store/changelog.py).

    python bench/bench_changelog_index.py [--entities 1000000] [--seed 1] [--tmp DIR]

``ChangeLog.commit`` puts every entity a change touched into an SQLite index. A national file
sorted by corporate number gives them in order; other sources need not. Each round commits the
same N corporation IRIs into a fresh change log twice, in this process: BASELINE in ascending
order, then shuffled (the same IRIs, a fixed seed). Reported: both wall times and the ratio
shuffled / ascending, per round (three rounds, alternating).

Inserted as they came, shuffled entities cost 5.7-5.8x the ascending ones (1M: 12.6-12.9 s
against 2.2-2.3 s); sorted by SQLite first, 1.3-1.4x (bench/README.md, Session 18).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.store.changelog import ChangeLog  # noqa: E402


def commit_seconds(iris: list[str], tmp: Path) -> float:
    root = Path(tempfile.mkdtemp(dir=tmp))
    try:
        log = ChangeLog(root)
        staging = log.stage()
        start = time.perf_counter()
        log.commit(staging, {"generation": "gen-000001"}, iter(iris))
        return time.perf_counter() - start
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ascending = sorted({f"http://localhost:8000/id/corporation/{rng.randrange(10**12, 10**13)}"
                        for _ in range(args.entities)})
    shuffled = rng.sample(ascending, len(ascending))
    rounds = []
    for _ in range(3):
        base, ours = commit_seconds(ascending, args.tmp), commit_seconds(shuffled, args.tmp)
        rounds.append({"ascending_s": round(base, 2), "shuffled_s": round(ours, 2), "ratio": round(ours / base, 2)})
        print(f"{len(ascending):,} entities: ascending {base:.2f} s, shuffled {ours:.2f} s, {ours / base:.2f}x",
              flush=True)
    out = Path(__file__).parent / "out" / f"changelog-index-{args.entities}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"entities": len(ascending), "machine": platform.platform(), "rounds": rounds},
                              indent=1))


if __name__ == "__main__":
    main()
