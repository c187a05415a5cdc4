#!/usr/bin/env python3
"""The SPARQL endpoint against `oxigraph serve-read-only` on the same store, in one run.

    python bench/bench_endpoint.py [--rows 100000] [--duration 10] [--connections 8] [--data-dir DIR]

1. generate N synthetic corporations and `kg load` them (not timed; or reuse --data-dir);
2. start `kg serve` (granian worker processes running queries in-process) and `oxigraph serve-read-only` on a copy
   of the served generation, both on loopback;
3. wrk (Debian's package) at the given concurrency for a one-entity SELECT on random-ish
   entities (a Lua script cycles through 1,000 corporate numbers), against both;
4. print requests/s, p50 and p99 latency for each and the ratio ours/oxigraph (goal >= 0.8).

Needs `wrk` (apt-get install wrk) and the `oxigraph` CLI (pip install oxigraph).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = "http://localhost:8000/"

LUA = """
local numbers = {%s}
local i = 0
request = function()
  i = i + 1
  local n = numbers[(i %% #numbers) + 1]
  local q = "SELECT ?p ?o WHERE { GRAPH ?g { <%sid/corporation/" .. n .. "> ?p ?o } }"
  local body = "query=" .. q:gsub("[^%%w]", function(c) return string.format("%%%%%%02X", string.byte(c)) end)
  return wrk.format("POST", "/sparql", {["Content-Type"] = "application/x-www-form-urlencoded",
                                         ["Accept"] = "application/sparql-results+json"}, body)
end
"""
OXI_LUA = LUA.replace('"/sparql"', '"/query"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"bench: {url} did not come up")


def wrk(url: str, script: Path, duration: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_s": rps, "p50_ms": ms("50"), "p99_ms": ms("99"),
            "non_2xx": int(errors.group(1)) if errors else 0, "raw": out}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--data-dir", type=Path, help="an already loaded KG_DATA_DIR to reuse")
    args = ap.parse_args(argv)
    for tool in ("wrk", "oxigraph", "kg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: `{tool}` is not on PATH")
    tmp = Path(tempfile.mkdtemp(prefix="kg-bench-endpoint-"))
    data_dir = args.data_dir or tmp / "data"
    env = {**os.environ, "KG_DATA_DIR": str(data_dir), "KG_BASE_URI": BASE}
    csv_path = tmp / "houjin.csv"
    if args.data_dir is None:
        subprocess.run([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(args.rows), "--out", str(csv_path)],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["kg", "load", "houjin", str(csv_path), "--no-progress"], env=env, check=True)
        with open(csv_path, encoding="utf-8") as fh:
            numbers = [row[1] for _, row in zip(range(1000), csv.reader(fh))]
    else:
        numbers = []
    gen = (data_dir / "CURRENT").read_text().strip()
    copy = tmp / "oxigraph-store"
    shutil.copytree(data_dir / "gens" / gen, copy)
    if not numbers:
        q = "SELECT ?n WHERE { ?c <http://purl.org/dc/terms/identifier> ?n } LIMIT 1000"
        out = subprocess.run(["kg", "query", "--format", "csv", q], env=env, capture_output=True, text=True, check=True).stdout
        numbers = out.split()[1:]
    lua_numbers = ",".join(f'"{n}"' for n in numbers)
    ours_script, oxi_script = tmp / "ours.lua", tmp / "oxi.lua"
    ours_script.write_text(LUA % (lua_numbers, BASE))
    oxi_script.write_text(OXI_LUA % (lua_numbers, BASE))
    our_port, oxi_port = free_port(), free_port()
    ours = subprocess.Popen(["kg", "serve", "--port", str(our_port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    oxi = subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(copy), "--bind", f"127.0.0.1:{oxi_port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{our_port}/healthz")
        wait_ready(f"http://127.0.0.1:{oxi_port}/query?query=ASK%7B%7D")
        # warm up both
        wrk(f"http://127.0.0.1:{our_port}", ours_script, 2, args.connections)
        wrk(f"http://127.0.0.1:{oxi_port}", oxi_script, 2, args.connections)
        result_ours = wrk(f"http://127.0.0.1:{our_port}", ours_script, args.duration, args.connections)
        result_oxi = wrk(f"http://127.0.0.1:{oxi_port}", oxi_script, args.duration, args.connections)
    finally:
        for p in (ours, oxi):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    ratio = result_ours["requests_per_s"] / result_oxi["requests_per_s"]
    print(f"one-entity SELECT, {args.connections} connections, {args.duration} s, {args.rows:,} corporations")
    print(f"{'':16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for name, r in (("kg serve", result_ours), ("oxigraph serve", result_oxi)):
        print(f"{name:16}{r['requests_per_s']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['non_2xx']:>10}")
    print(f"ratio kg/oxigraph: {ratio:.2f} (goal >= 0.8)")
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "endpoint.json").write_text(json.dumps({
        "rows": args.rows, "connections": args.connections, "duration_s": args.duration,
        "ours": {k: v for k, v in result_ours.items() if k != "raw"},
        "oxigraph": {k: v for k, v in result_oxi.items() if k != "raw"}, "ratio": ratio}, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
