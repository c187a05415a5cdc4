#!/usr/bin/env python3
"""What the change feed's capture costs: the same loads with and without it.

    python bench/bench_changes.py --rows 200000 [--diff 3000] [--seed 1] [--tmp DIR]

1. generate N+new synthetic NTA rows with gen_houjin.py; hold ``new`` of them out of the full
   file (not timed);
2. write a diff of ``--diff`` rows as the NTA writes one: a quarter new corporations (the held-out
   rows), a quarter renamed (process 12), a quarter closed (process 21), a quarter deleted
   (process 99);
3. three times, in a fresh KG_DATA_DIR each -- with ``KG_CHANGES_RETENTION=0`` (no capture, the
   baseline), with ``KG_CHANGES_TEE=0`` (capture, a new graph read back from the store: ``dump``)
   and with the defaults (capture, a new graph copied as it is loaded: ``capture``) -- run, as ``kg load`` child
   processes: the full load (into an empty dataset), the diff (upserts), and a ``--replace`` of
   the full file (the whole dataset compared);
4. report each load's wall time in both runs, the ratio, kg's own ``changes`` step seconds, and
   the size of what the feed wrote.

Runs alternate (baseline, dump, capture) per load kind so that the machine's other work weighs on both.
Results: a table on stdout and bench/out/changes-N.json.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_URI = "http://localhost:8000/"
_STEPS = re.compile(r"^steps: (.*)$", re.M)


def kg_command() -> list[str]:
    beside = Path(sys.executable).with_name("kg")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "kg.cli"]


#: KG_CHANGES_RETENTION and KG_CHANGES_TEE of each mode: no capture; capture reading a new graph
#: back from the store (as before the tee); capture copying what the load bulk-loads (the default)
MODES = {"baseline": (0, 1), "dump": (100, 0), "capture": (100, 1)}


def run(args: list[str], data_dir: Path, mode: str) -> dict:
    retention, tee = MODES[mode]
    env = dict(os.environ, KG_DATA_DIR=str(data_dir), KG_BASE_URI=BASE_URI, KG_CHANGES_RETENTION=str(retention),
               KG_CHANGES_TEE=str(tee))
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(kg_command() + args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # kg and its forked children (mapping, index)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"bench: kg {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    steps = {}
    m = _STEPS.search(proc.stdout)
    if m:
        for part in m.group(1).split(", "):
            name, _, secs = part.rpartition(" ")[0].rpartition(" ")
            steps[name] = float(secs)
    return {"seconds": seconds, "cpu_s": cpu, "steps": steps, "output": proc.stdout.strip()}


def write_diff(rows: list[list[str]], held: list[list[str]], n: int, path: Path, rng: random.Random) -> dict:
    """An NTA-shaped diff: new, renamed, closed and deleted corporations, sorted by number."""
    quarter = n // 4
    picked = rng.sample(rows, 3 * quarter)
    out = [list(r) for r in held[:n - 3 * quarter]]
    for r in out:
        r[4] = "2024-11-01"
    for i, r in enumerate(picked):
        r = list(r)
        r[4] = r[5] = "2024-11-01"
        r[3] = "0"
        if i < quarter:
            r[2], r[6] = "12", r[6] + "ホールディングス"
        elif i < 2 * quarter:
            r[2], r[18], r[19] = "21", "2024-11-01", "01"
        else:
            r[2] = "99"
        out.append(r)
    out.sort(key=lambda r: r[1])
    for i, r in enumerate(out, 1):
        r[0] = str(i)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(out)
    return {"new": n - 3 * quarter, "renamed": quarter, "closed": quarter, "deleted": quarter}


def gzip_levels(path: Path, levels=(1, 6)) -> dict:
    """Seconds and MB of compressing the full load's added N-Quads at each zlib level (same run)."""
    raw = gzip.decompress(path.read_bytes())
    out = {"raw_mb": len(raw) / 1e6}
    for level in levels:
        start = time.process_time()
        size = len(zlib.compress(raw, level))
        out[str(level)] = {"cpu_s": time.process_time() - start, "mb": size / 1e6}
    return out


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6 if path.exists() else 0.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True, help="corporations in the full file")
    ap.add_argument("--diff", type=int, default=3000, help="rows of the diff")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tmp", type=Path, default=None)
    ap.add_argument("--loads", type=int, default=3, help="run the first N loads only (1: the full load)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kg-bench-changes-", dir=args.tmp))
    rng = random.Random(args.seed)
    try:
        generated = work / "all.csv"
        new = args.diff // 4 + args.diff % 4
        subprocess.run([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(args.rows + new), "--out",
                        str(generated), "--seed", str(args.seed)], check=True, capture_output=True)
        with open(generated, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        held_idx = set(rng.sample(range(len(rows)), new))
        held = [r for i, r in enumerate(rows) if i in held_idx]
        kept = [r for i, r in enumerate(rows) if i not in held_idx]
        full = work / "full.csv"
        with open(full, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(kept)
        diff = work / "diff.csv"
        kinds = write_diff(kept, held, args.diff, diff, rng)
        del rows, kept, held

        dirs = {mode: work / mode for mode in MODES}
        loads = [("full load", ["load", "houjin", str(full), "--no-progress"]),
                 (f"diff of {args.diff:,} rows", ["load", "houjin", str(diff), "--no-progress"]),
                 ("--replace", ["load", "houjin", str(full), "--replace", "--no-progress"])]
        results = []
        for name, cmd in loads[:args.loads]:
            entry = {"load": name}
            for mode in MODES:
                print(f"{name}: {mode} ...", file=sys.stderr)
                entry[mode] = run(cmd, dirs[mode], mode)
            entry["ratio"] = entry["capture"]["seconds"] / entry["baseline"]["seconds"]
            entry["dump_ratio"] = entry["dump"]["seconds"] / entry["baseline"]["seconds"]
            entry["cpu_ratio"] = entry["capture"]["cpu_s"] / entry["baseline"]["cpu_s"]
            entry["dump_cpu_ratio"] = entry["dump"]["cpu_s"] / entry["baseline"]["cpu_s"]
            entry["changes_step_s"] = entry["capture"]["steps"].get("changes")
            entry["dump_changes_step_s"] = entry["dump"]["steps"].get("changes")
            results.append(entry)
        changes_dir = dirs["capture"] / "changes"
        records = sorted(changes_dir.glob("gen-*/change.json"))
        feed = [json.loads(p.read_text()) for p in records]
        dumped = [json.loads(p.read_text()) for p in sorted((dirs["dump"] / "changes").glob("gen-*/change.json"))]
        for entry, record, other in zip(results, feed, dumped):
            entry["record"] = {k: record[k] for k in ("generation", "added", "removed", "entities")}
            entry["patch_mb"] = du_mb(changes_dir / record["generation"])
            entry["same_as_dump"] = {k: record[k] for k in ("added", "removed", "entities", "graphs")} == \
                {k: other[k] for k in ("added", "removed", "entities", "graphs")}
        levels = gzip_levels(changes_dir / feed[0]["generation"] / "added.nq.gz") if feed else {}
        result = {"rows": args.rows, "gzip_levels": levels, "diff_rows": args.diff, "diff_kinds": kinds, "seed": args.seed,
                  "loads": results, "entity_index_mb": du_mb(changes_dir) - sum(e["patch_mb"] for e in results),
                  "machine": {"python": platform.python_version(), "platform": platform.platform(),
                              "cpus": os.cpu_count()}}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    out_file = out_dir / f"changes-{args.rows}.json"
    out_file.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{'load':<22} {'baseline s':>10} {'dump s':>8} {'ratio':>6} {'step s':>7} {'tee s':>8} {'ratio':>6} "
          f"{'step s':>7} {'added':>10} {'removed':>10} {'entities':>9} {'patch MB':>9} same")
    for e in result["loads"]:
        r = e.get("record", {})
        print(f"{e['load']:<22} {e['baseline']['seconds']:>10.1f} {e['dump']['seconds']:>8.1f} {e['dump_ratio']:>6.2f} "
              f"{(e['dump_changes_step_s'] or 0):>7.2f} {e['capture']['seconds']:>8.1f} {e['ratio']:>6.2f} "
              f"{(e['changes_step_s'] or 0):>7.2f} {r.get('added', 0):>10,} {r.get('removed', 0):>10,} "
              f"{r.get('entities', 0):>9,} {e.get('patch_mb', 0):>9.1f} {e.get('same_as_dump')}")
    print("\nCPU s (kg and its children): " + "; ".join(
        f"{e['load']}: baseline {e['baseline']['cpu_s']:.1f}, dump {e['dump']['cpu_s']:.1f} ({e['dump_cpu_ratio']:.2f}x), "
        f"tee {e['capture']['cpu_s']:.1f} ({e['cpu_ratio']:.2f}x)" for e in result["loads"]))
    levels = result["gzip_levels"]
    if levels:
        print(f"\nthe full load's added N-Quads ({levels['raw_mb']:.1f} MB) compressed: " + ", ".join(
            f"level {k}: {v['cpu_s']:.2f} CPU s, {v['mb']:.1f} MB" for k, v in levels.items() if k != "raw_mb"))
    print(f"\n(written to {out_file})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
