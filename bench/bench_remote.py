#!/usr/bin/env python3
"""Our houjin load embedded vs into Oxigraph server (KG_STORE=sparql) vs the engine's own bulk
loader (``oxigraph load``) of the same quads, and what a diff costs on each.

    python bench/bench_remote.py --rows 50000 [--diff 500] [--tmp DIR]

1. generate N synthetic NTA rows (gen_houjin.py) and a diff: the first D of them renamed (not timed);
2. EMBEDDED: ``kg load houjin FILE`` into a fresh KG_DATA_DIR;
3. REMOTE: ``oxigraph serve`` on a fresh directory, ``kg load houjin FILE`` with KG_STORE=sparql
   (Graph Store POSTs, as configured: ``--no-transaction`` appends Oxigraph's ``?no_transaction``);
4. ENGINE'S OWN: every graph of the embedded result dumped as N-Quads (not timed), then
   ``oxigraph load --location FRESH --file dump.nq`` -- the same quads as 2 and 3 wrote;
5. DIFF: ``kg load houjin diff.csv`` onto 2 and onto 3 (seconds until served), and on the engine a
   bare ``COPY`` of the served houjin graph: the part of a remote diff that grows with the dataset.

Every step is a child process timed from outside (wall seconds; ru_maxrss of the child alone).
Results: a table on stdout and bench/out/remote-N.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_URI = "http://localhost:8000/"
DUMP = """
import sys, pyoxigraph as ox
from kg.store import open_home
path = open_home(sys.argv[1], create=False).current_path()
ox.Store.read_only(str(path)).dump(sys.argv[2], ox.RdfFormat.N_QUADS)
"""


def run(cmd: list[str], *, env: dict[str, str] | None = None, log: Path) -> dict:
    """Wall seconds and the child's peak RSS (MiB) of one command; its output goes to ``log``."""
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status}); see {log}:\n{log.read_text()[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, update: str) -> float:
    start = time.perf_counter()
    req = urllib.request.Request(url, data=update.encode(), headers={"Content-Type": "application/sparql-update"})
    with urllib.request.urlopen(req, timeout=3600):
        pass
    return time.perf_counter() - start


def served_graph(query_url: str, logical: str) -> str:
    ptr = f"{BASE_URI}graph/generations"
    q = (f"SELECT ?p WHERE {{ GRAPH <{ptr}> {{ {{ SELECT ?gen WHERE {{ <{ptr}> <{BASE_URI}def/currentGeneration> ?gen }} "
         f"ORDER BY DESC(STR(?gen)) LIMIT 1 }} ?gen <{BASE_URI}def/generationGraph> ?p . "
         f"?p <{BASE_URI}def/versionOf> <{logical}> }} }}")
    req = urllib.request.Request(query_url, data=q.encode(), headers={
        "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["results"]["bindings"][0]["p"]["value"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--diff", type=int, default=500, help="rows of the diff (the first rows, renamed)")
    ap.add_argument("--no-transaction", action="store_true", help="KG_SPARQL_STORE=…/store?no_transaction")
    ap.add_argument("--tmp", type=Path, default=None)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-remote-", dir=args.tmp))
    bin_dir = Path(sys.executable).parent
    kg, oxigraph = str(bin_dir / "kg"), str(bin_dir / "oxigraph")
    if not Path(oxigraph).exists():
        oxigraph = shutil.which("oxigraph") or sys.exit("the oxigraph binary is not installed (pip install oxigraph)")
    server = None
    try:
        full = tmp / "houjin.csv"
        subprocess.run([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(args.rows), "--out", str(full)],
                       check=True, stdout=subprocess.DEVNULL)
        diff = tmp / "diff.csv"
        with open(full, encoding="utf-8", newline="") as src, open(diff, "w", encoding="utf-8", newline="") as dst:
            writer = csv.writer(dst, quoting=csv.QUOTE_MINIMAL)
            for i, row in enumerate(csv.reader(src)):
                if i >= args.diff:
                    break
                row[6] = row[6] + "改"  # a new name: an upsert of a changed corporation
                writer.writerow(row)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
        base_env["KG_BASE_URI"] = BASE_URI
        out: dict = {"rows": args.rows, "diff_rows": args.diff, "machine": f"{os.cpu_count()} cores, {platform.machine()}",
                     "date": time.strftime("%Y-%m-%d"), "no_transaction": args.no_transaction}

        embedded = dict(base_env, KG_DATA_DIR=str(tmp / "embedded"))
        out["embedded_load"] = run([kg, "load", "houjin", str(full), "--no-progress"], env=embedded, log=tmp / "embedded.log")

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server_log = open(tmp / "oxigraph-serve.log", "w")
        server = subprocess.Popen([oxigraph, "serve", "--location", str(tmp / "engine"), "--bind", f"127.0.0.1:{port}"],
                                  stdout=server_log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        remote = dict(base_env, KG_DATA_DIR=str(tmp / "remote"), KG_STORE="sparql", KG_SPARQL_QUERY=url + "/query",
                      KG_SPARQL_UPDATE=url + "/update",
                      KG_SPARQL_STORE=url + "/store" + ("?no_transaction" if args.no_transaction else ""))
        out["remote_load"] = run([kg, "load", "houjin", str(full), "--no-progress"], env=remote, log=tmp / "remote.log")

        dump = tmp / "all.nq"
        subprocess.run([sys.executable, "-c", DUMP, str(tmp / "embedded"), str(dump)], check=True, env=embedded)
        out["quads"] = sum(1 for _ in open(dump, "rb"))
        out["engine_bulk_load"] = run([oxigraph, "load", "--location", str(tmp / "bulk"), "--file", str(dump)],
                                      log=tmp / "bulk.log")

        out["embedded_diff"] = run([kg, "load", "houjin", str(diff), "--no-progress"], env=embedded, log=tmp / "embedded-diff.log")
        out["remote_diff"] = run([kg, "load", "houjin", str(diff), "--no-progress"], env=remote, log=tmp / "remote-diff.log")
        houjin = served_graph(url + "/query", BASE_URI + "graph/houjin")
        out["engine_copy_houjin_s"] = round(post(url + "/update", f"COPY <{houjin}> TO <urn:x-bench:copy>"), 2)
        out["engine_drop_copy_s"] = round(post(url + "/update", "DROP GRAPH <urn:x-bench:copy>"), 2)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)

    floor = out["engine_bulk_load"]["seconds"]
    print(f"{args.rows:,} corporations, {out['quads']:,} quads in all graphs")
    print(f"{'step':<38}{'seconds':>10}{'peak MiB':>10}{'x bulk':>8}")
    for key in ("embedded_load", "remote_load", "engine_bulk_load", "embedded_diff", "remote_diff"):
        r = out[key]
        print(f"{key:<38}{r['seconds']:>10.2f}{r['peak_rss_mib']:>10.1f}{r['seconds'] / floor:>8.2f}")
    print(f"{'engine COPY of the served houjin graph':<38}{out['engine_copy_houjin_s']:>10.2f}")
    print(f"{'engine DROP of that copy':<38}{out['engine_drop_copy_s']:>10.2f}")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / f"remote-{args.rows}.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
