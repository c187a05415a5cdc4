#!/usr/bin/env python3
"""Peak memory of loading a city's 地番 (parcel) file, against the same load in one bulk call.

    python bench/bench_parcels.py --rows 100000 400000 [--tmp DIR]

For each N: write the base files (prefectures, municipalities, towns) and an ABR
``mt_parcel_city465054.csv`` of N rows (not timed), then run ``kg load abr DIR --no-progress``
twice with fresh data directories, in the same run:

* BASELINE: ``KG_BULK_SLICE=0``, the whole source's N-Triples in one pyoxigraph bulk_load call
  (what every load did before the slices);
* OURS: the default ``KG_BULK_SLICE`` (64 MiB slices cut at line ends), or ``--slice``.

Wall time and the peak RSS of the whole process tree (sampled from /proc, as bench_load.py does).
Goal: memory flat in the row count, i.e. ours at 4x the rows well under 4x the memory, and time
within 10% of the baseline. Results: a table on stdout and bench/out/parcels.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.bench_load import kg_command, measured  # noqa: E402
from tests.support import abr_rows as A  # noqa: E402

BASE_FILES = ["mt_pref_all.csv", "mt_city_all.csv"]


def write_parcels(path: Path, rows: int) -> None:
    """N parcels of 小島 (屋久島町), in key order as the ABR publishes them."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=A.PARCEL, lineterminator="\r\n")
        out.writeheader()
        for i in range(rows):
            num1, num2 = divmod(i, 1000)
            out.writerow(dict(A.KOSHIMA_LOT, prc_id=f"{num1 + 1:05d}{num2 + 1:05d}00000", prc_num1=str(num1 + 1),
                              prc_num2=str(num2 + 1), real_prop_num=f"{1_000_000_000 + i:013d}"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 400_000])
    ap.add_argument("--slice", default=None, help="KG_BULK_SLICE for OURS (default: the setting's default)")
    ap.add_argument("--tmp", type=Path, default=None)
    args = ap.parse_args(argv)
    results = []
    for rows in args.rows:
        work = Path(tempfile.mkdtemp(prefix="kg-parcels-", dir=args.tmp))
        try:
            src = work / "abr"
            A.write_all(src, BASE_FILES)
            A.write(src / "mt_town_all.csv", A.TOWN, [A.KOSHIMA])
            write_parcels(src / "mt_parcel_city465054.csv", rows)
            run = {"rows": rows, "csv_mb": (src / "mt_parcel_city465054.csv").stat().st_size / 1e6}
            for name, slice_bytes in (("baseline", "0"), ("ours", args.slice)):
                env = dict(os.environ, KG_DATA_DIR=str(work / name), KG_BASE_URI="http://localhost:8000/")
                env.pop("KG_BULK_SLICE", None)
                if slice_bytes is not None:
                    env["KG_BULK_SLICE"] = slice_bytes
                print(f"{rows:,} rows: {name} ...", file=sys.stderr)
                m = measured(kg_command() + ["load", "abr", str(src), "--no-progress"], env=env, log=work / f"{name}.log")
                if "rejected 0" not in m["output"].replace(",", ""):
                    print(f"WARNING: rows rejected:\n{m['output']}", file=sys.stderr)
                run[name] = {"seconds": m["seconds"], "peak_rss_mb": m["peak_rss_mb"]}
            run["memory_ratio"] = run["ours"]["peak_rss_mb"] / run["baseline"]["peak_rss_mb"]
            run["time_ratio"] = run["ours"]["seconds"] / run["baseline"]["seconds"]
            results.append(run)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    out = {"runs": results, "machine": {"python": platform.python_version(), "platform": platform.platform(),
                                         "cpus": os.cpu_count()}}
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "parcels.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"{'rows':>9}  {'baseline s':>10}  {'MB':>6}  {'ours s':>7}  {'MB':>6}  {'time':>5}  {'memory':>6}")
    for r in results:
        b, o = r["baseline"], r["ours"]
        print(f"{r['rows']:>9,}  {b['seconds']:>10.1f}  {b['peak_rss_mb']:>6.0f}  {o['seconds']:>7.1f}  "
              f"{o['peak_rss_mb']:>6.0f}  {r['time_ratio']:>4.2f}x  {r['memory_ratio']:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
