#!/usr/bin/env python3
"""The SPARQL endpoint against `oxigraph serve-read-only` on the same store, in one run.

    python bench/bench_endpoint.py [--rows 100000] [--duration 10] [--connections 8] [--data-dir DIR]

1. generate N synthetic corporations and `kg load` them (not timed; or reuse --data-dir);
2. start `kg serve` (uvicorn worker processes running queries in-process) and `oxigraph serve-read-only` on a copy
   of the served generation, both on loopback;
3. wrk (Debian's package) at the given concurrency for a one-entity SELECT on random-ish
   entities (a Lua script cycles through 1,000 corporate numbers), against both;
4. print requests/s, p50 and p99 latency for each and the ratio ours/oxigraph (goal >= 0.8).

Needs `wrk` (apt-get install wrk) and the `oxigraph` CLI (pip install oxigraph).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from servers import BASE, parse_args, prepare, servers, wrk  # noqa: E402

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


def main(argv=None) -> int:
    args = parse_args(__doc__, 100_000, argv)
    tmp, data_dir, env, csv_path = prepare(args, "kg-bench-endpoint-")
    numbers = []
    if csv_path is not None:
        with open(csv_path, encoding="utf-8") as fh:
            numbers = [row[1] for _, row in zip(range(1000), csv.reader(fh))]
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
    with servers(env, copy) as (our, oxi):
        # warm up both
        wrk(our, ours_script, 2, args.connections)
        wrk(oxi, oxi_script, 2, args.connections)
        result_ours = wrk(our, ours_script, args.duration, args.connections)
        result_oxi = wrk(oxi, oxi_script, args.duration, args.connections)
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
