#!/usr/bin/env python3
"""Our houjin load against the floor: pyoxigraph's bare bulk_load of the same triples.

    python bench/bench_load.py --rows 1000000 [--keep DIR] [--seed 1] [--tmp DIR]

1. generate N synthetic NTA rows with gen_houjin.py (not timed);
2. OURS: ``kg load houjin FILE --no-progress`` with a fresh KG_DATA_DIR -- wall time and peak RSS;
3. dump the loaded houjin graph to N-Triples from the served generation, read-only (not timed);
4. FLOOR: ``pyoxigraph.Store(fresh).bulk_load(path=that.nt, N_TRIPLES, to_graph=<houjin graph>)``
   -- wall time and peak RSS.

Every step runs in its own child process and is reaped with os.wait4, whose rusage is that
child's alone (ru_maxrss = its peak RSS, plus any grandchildren it waited for). This script never
imports pyoxigraph or kg itself, so it stays small and the numbers are not inflated by it.
Results: a table on stdout and bench/out/load-N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_URI = "http://localhost:8000/"
GRAPH = BASE_URI + "graph/houjin"

DUMP = """
import sys, pyoxigraph as ox
ox.Store.read_only(sys.argv[1]).dump(sys.argv[2], ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(sys.argv[3]))
"""
FLOOR = """
import sys, pyoxigraph as ox
store = ox.Store(sys.argv[1])
store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(sys.argv[3]))
store.flush()
"""
_LOAD_LINE = re.compile(r"read ([\d,]+) records, loaded ([\d,]+), rejected ([\d,]+) .*?graph now ([\d,]+) triples; ([\d.]+) s")


def _tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants now (from /proc), in KiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


def measured(cmd: list[str], *, env: dict[str, str] | None = None, log: Path) -> dict:
    """Run ``cmd`` as a child; wall seconds and peak RSS.

    Two peaks: the largest single process (os.wait4 rusage) and the largest sum over the whole
    process tree, sampled every 0.2 s from /proc -- our load forks a mapper child that runs beside
    bulk_load, so the honest figure for "memory used" is the tree's sum.
    """
    import threading

    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
        peak_tree = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak_tree[0] = max(peak_tree[0], _tree_rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting again
    text = log.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(map(str, cmd))} failed with status {proc.returncode}:\n{text}")
    rss_kb = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return {"seconds": wall, "peak_rss_mb": max(rss_kb, peak_tree[0]) / 1024, "largest_process_rss_mb": rss_kb / 1024,
            "tree_rss_mb": peak_tree[0] / 1024, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "output": text.strip()}


def kg_command() -> list[str]:
    """The `kg` console script of this interpreter (not a pyenv shim, which would add a shell hop)."""
    beside = Path(sys.executable).with_name("kg")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("kg")
    return [found] if found else [sys.executable, "-m", "kg.cli"]


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            n += chunk.count(b"\n")
    return n


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--keep", type=Path, help="use (and keep) DIR as our KG_DATA_DIR; must be new or empty")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-row", action="store_true",
                    help="also load with KG_COLUMN_BATCH=0 (every row mapped per row), the baseline of the column mapping")
    ap.add_argument("--tmp", type=Path, default=None, help="where the scratch directory goes (default: system temp)")
    args = ap.parse_args(argv)
    if args.keep is not None:
        args.keep = args.keep.resolve()
        if args.keep.exists() and any(args.keep.iterdir()):
            ap.error(f"--keep {args.keep}: directory is not empty (the benchmark needs a fresh store)")

    work = Path(tempfile.mkdtemp(prefix="kg-bench-", dir=args.tmp))
    try:
        csv_path = work / "houjin.csv"
        nt_path = work / "houjin.nt"
        data_dir = args.keep or work / "kg-data"
        floor_dir = work / "floor-store"

        print(f"generating {args.rows:,} rows ...", file=sys.stderr)
        gen = measured([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(args.rows), "--out", str(csv_path),
                        "--seed", str(args.seed)], log=work / "gen.log")

        print("ours: kg load houjin ...", file=sys.stderr)
        env = dict(os.environ, KG_DATA_DIR=str(data_dir), KG_BASE_URI=BASE_URI)
        ours = measured(kg_command() + ["load", "houjin", str(csv_path), "--no-progress"], env=env, log=work / "load.log")
        m = _LOAD_LINE.search(ours["output"])
        if not m:
            raise SystemExit(f"bench: cannot read the result line of kg load:\n{ours['output']}")
        read, loaded, rejected, graph_triples = (int(g.replace(",", "")) for g in m.groups()[:4])
        kg_seconds = float(m.group(5))
        print(f"ours: {ours['seconds']:.1f} s, {ours['user_s'] + ours['sys_s']:.1f} CPU s, {ours['peak_rss_mb']:.0f} MB\n"
              f"{ours['output']}", file=sys.stderr)
        if rejected:
            print(f"WARNING: kg load rejected {rejected:,} generated rows:\n{ours['output']}", file=sys.stderr)

        per_row = None
        if args.per_row:
            print("ours, per row: KG_COLUMN_BATCH=0 kg load houjin ...", file=sys.stderr)
            per_row = measured(kg_command() + ["load", "houjin", str(csv_path), "--no-progress"],
                               env=dict(env, KG_DATA_DIR=str(work / "kg-data-per-row"), KG_COLUMN_BATCH="0"),
                               log=work / "load-per-row.log")
            shutil.rmtree(work / "kg-data-per-row", ignore_errors=True)

        current = (data_dir / "CURRENT").read_text().strip()
        store_dir = data_dir / "gens" / current
        print("dumping the houjin graph to N-Triples ...", file=sys.stderr)
        measured([sys.executable, "-c", DUMP, str(store_dir), str(nt_path), GRAPH], log=work / "dump.log")
        triples = count_lines(nt_path)
        store_mb = du_mb(store_dir)
        if not args.keep:  # room for the floor's store (ours + the dump + the floor: ~19 GB at 1M)
            shutil.rmtree(data_dir, ignore_errors=True)

        print("floor: pyoxigraph bulk_load ...", file=sys.stderr)
        floor = measured([sys.executable, "-c", FLOOR, str(floor_dir), str(nt_path), GRAPH], log=work / "floor.log")

        result = {
            "rows": args.rows, "seed": args.seed, "triples": triples, "graph_triples_reported": graph_triples,
            "csv_mb": csv_path.stat().st_size / 1e6, "nt_mb": nt_path.stat().st_size / 1e6,
            "ours": {"seconds": ours["seconds"], "kg_reported_seconds": kg_seconds, "peak_rss_mb": ours["peak_rss_mb"], "largest_process_rss_mb": ours["largest_process_rss_mb"], "tree_rss_mb": ours["tree_rss_mb"],
                     "user_s": ours["user_s"], "sys_s": ours["sys_s"],
                     "rows_per_s": args.rows / ours["seconds"], "triples_per_s": triples / ours["seconds"],
                     "read": read, "loaded": loaded, "rejected": rejected, "store_mb": store_mb,
                     "output": ours["output"]},
            "floor": {"seconds": floor["seconds"], "peak_rss_mb": floor["peak_rss_mb"], "user_s": floor["user_s"],
                      "sys_s": floor["sys_s"], "triples_per_s": triples / floor["seconds"], "store_mb": du_mb(floor_dir)},
            "per_row": None if per_row is None else {
                "seconds": per_row["seconds"], "user_s": per_row["user_s"], "sys_s": per_row["sys_s"],
                "peak_rss_mb": per_row["peak_rss_mb"], "time_ratio": per_row["seconds"] / floor["seconds"]},
            "time_ratio": ours["seconds"] / floor["seconds"],
            "memory_ratio": ours["peak_rss_mb"] / floor["peak_rss_mb"],
            "goal": {"time_ratio_max": 1.3, "memory_ratio_max": 1.2},
            "generator_seconds": gen["seconds"],
            "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
            "kept_data_dir": str(args.keep) if args.keep else None,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    out_file = out_dir / f"load-{args.rows}.json"
    out_file.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(render(result))
    print(f"\n(written to {out_file})")
    return 0


def render(r: dict) -> str:
    o, f = r["ours"], r["floor"]
    ok_t = "ok" if r["time_ratio"] <= r["goal"]["time_ratio_max"] else "OVER"
    ok_m = "ok" if r["memory_ratio"] <= r["goal"]["memory_ratio_max"] else "OVER"
    rows = [
        ("rows", f"{r['rows']:,}", ""),
        ("triples (houjin graph)", f"{r['triples']:,}", f"{r['triples'] / r['rows']:.1f} per row"),
        ("rejected by our load", f"{o['rejected']:,}", ""),
        ("ours: wall time", f"{o['seconds']:,.1f} s", f"kg reports {o['kg_reported_seconds']:,.1f} s; "
                                                        f"cpu {o['user_s'] + o['sys_s']:,.1f} s"),
        ("ours: rows/s", f"{o['rows_per_s']:,.0f}", ""),
        ("ours: triples/s", f"{o['triples_per_s']:,.0f}", ""),
        ("ours: peak RSS", f"{o['peak_rss_mb']:,.0f} MB", ""),
        ("floor: wall time", f"{f['seconds']:,.1f} s", f"cpu {f['user_s'] + f['sys_s']:,.1f} s"),
        ("floor: triples/s", f"{f['triples_per_s']:,.0f}", ""),
        ("floor: peak RSS", f"{f['peak_rss_mb']:,.0f} MB", ""),
        ("time ratio ours/floor", f"{r['time_ratio']:.2f}x", f"goal <= {r['goal']['time_ratio_max']}x: {ok_t}"),
    ]
    if r.get("per_row"):
        p = r["per_row"]
        rows += [("per row (KG_COLUMN_BATCH=0): wall", f"{p['seconds']:,.1f} s",
                  f"cpu {p['user_s'] + p['sys_s']:,.1f} s; {p['time_ratio']:.2f}x the floor; peak {p['peak_rss_mb']:,.0f} MB")]
    rows += [
        ("memory ratio ours/floor", f"{r['memory_ratio']:.2f}x", f"goal <= {r['goal']['memory_ratio_max']}x: {ok_m}"),
    ]
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    return "\n".join(f"{a:<{w0}}  {b:>{w1}}  {c}".rstrip() for a, b, c in rows)


if __name__ == "__main__":
    sys.exit(main())
