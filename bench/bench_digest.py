#!/usr/bin/env python3
"""What the content digest (kg/load/digest.py) costs a houjin load, as a ratio of the load.

    python bench/bench_digest.py --rows 1000000 [--seed 1] [--tmp DIR]

1. generate N synthetic NTA rows with gen_houjin.py (not timed);
2. BASELINE: ``kg load houjin FILE`` into a fresh KG_DATA_DIR with the digest's hashing
   replaced by a line count (so the load's own count check still agrees and nothing is
   recomputed) -- wall time;
3. OURS: the same load as shipped, in another fresh KG_DATA_DIR -- wall time, and the CPU
   seconds of the digest's hashing (thread CPU time in the process that hashes the stream's
   lines, in the thread that feeds the bulk load), against the load's CPU time: on a shared
   machine the wall times of two loads differ by more than 5% from noise alone, CPU time less;
4. SECOND PASS (for comparison, what the incremental digest avoids): dump the loaded graph
   from the store and hash it -- wall time.

Each load runs in its own child process (reaped with os.wait4). Results: a table and
bench/out/digest-N.json. Goal (issue 16): the digest adds under 5% to the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_load import BASE_URI, GRAPH, measured  # noqa: E402

LOAD = """
import sys, time, atexit
import kg.load.digest as digest
mode = sys.argv[1]
spent = [0.0]
if mode == "baseline":
    def add_ntriples(self, chunk):  # count, do not hash: the load's count check still agrees
        self.quads += chunk.count(b"\\n")
    digest.GraphDigest.add_ntriples = add_ntriples
else:
    real = digest.GraphDigest.add_ntriples
    def add_ntriples(self, chunk):  # CPU time of the hashing thread: waits for the GIL not counted
        t = time.thread_time()
        real(self, chunk)
        spent[0] += time.thread_time() - t
    digest.GraphDigest.add_ntriples = add_ntriples
import os
pid = os.getpid()
atexit.register(lambda: os.getpid() == pid and print(f"DIGEST_SECONDS {spent[0]:.3f}"))
from kg.cli import main
main(["load", "houjin", sys.argv[2], "--no-progress"], standalone_mode=False)
"""

SECOND_PASS = """
import sys, time, tempfile
from pathlib import Path
from kg.store import open_home
from kg.load.digest import digest_ntriples_file
store = open_home(sys.argv[1], create=False).open_current()
t = time.perf_counter()
with tempfile.NamedTemporaryFile(suffix=".nt", dir=sys.argv[1]) as f:
    store.dump(sys.argv[2], Path(f.name))
    value, quads = digest_ntriples_file(Path(f.name), sys.argv[2])
print(f"SECOND_PASS {time.perf_counter() - t:.3f} {value} {quads}")
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tmp", type=Path, default=None)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kg-bench-digest-", dir=args.tmp))
    try:
        csv_path = work / "houjin.csv"
        print(f"generating {args.rows:,} rows ...", file=sys.stderr)
        measured([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(args.rows), "--out", str(csv_path),
                  "--seed", str(args.seed)], log=work / "gen.log")
        runs = {}
        for mode in ("baseline", "ours"):
            print(f"{mode}: kg load houjin ...", file=sys.stderr)
            data = work / f"data-{mode}"
            env = dict(os.environ, KG_DATA_DIR=str(data), KG_BASE_URI=BASE_URI)
            runs[mode] = measured([sys.executable, "-c", LOAD, mode, str(csv_path)], env=env, log=work / f"{mode}.log")
        digest_s = float(runs["ours"]["output"].rsplit("DIGEST_SECONDS", 1)[1].split()[0])
        print("second pass: dump and hash the loaded graph ...", file=sys.stderr)
        second = measured([sys.executable, "-c", SECOND_PASS, str(work / "data-ours"), GRAPH], log=work / "second.log")
        seconds, value, quads = second["output"].split("SECOND_PASS", 1)[1].split()[:3]
        journal = [json.loads(line) for line in (work / "data-ours" / "journal.jsonl").read_text().splitlines()]
        recorded = journal[-1]["digest"]
        base, ours = runs["baseline"]["seconds"], runs["ours"]["seconds"]
        result = {
            "rows": args.rows, "seed": args.seed, "quads": recorded["quads"], "method": recorded["method"],
            "digest_matches_second_pass": recorded["value"] == value and recorded["quads"] == int(quads),
            "baseline_seconds": base, "ours_seconds": ours, "added_ratio": (ours - base) / base,
            "digest_hashing_cpu_seconds": digest_s, "digest_hashing_ratio": digest_s / ours,
            "digest_cpu_ratio": digest_s / (runs["ours"]["user_s"] + runs["ours"]["sys_s"]),
            "second_pass_seconds": float(seconds), "second_pass_ratio": float(seconds) / ours,
            "cpu": {m: runs[m]["user_s"] + runs[m]["sys_s"] for m in runs},
            "goal": {"added_ratio_max": 0.05},
            "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    out_file = out_dir / f"digest-{args.rows}.json"
    out_file.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    r = result
    print(f"rows {r['rows']:,}, quads {r['quads']:,} (digest {r['method']}, equals a second pass: "
          f"{r['digest_matches_second_pass']})")
    print(f"load without digest {r['baseline_seconds']:.1f} s, with {r['ours_seconds']:.1f} s: "
          f"{r['added_ratio'] * 100:+.1f}% (goal < 5%)")
    print(f"hashing inside the load: {r['digest_hashing_cpu_seconds']:.1f} CPU s = {r['digest_hashing_ratio'] * 100:.1f}% "
          f"of its wall time, {r['digest_cpu_ratio'] * 100:.1f}% of its CPU time; "
          f"a second pass (dump + hash) would take {r['second_pass_seconds']:.1f} s = "
          f"{r['second_pass_ratio'] * 100:.0f}% of the load")
    print(f"(written to {out_file})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
