#!/usr/bin/env python3
"""Linked-data pages and search on a large store, against oxigraph on the same data, in one run.

    python bench/bench_pages.py --rows 1000000 [--duration 10] [--connections 8] [--data-dir DIR]

1. generate N synthetic corporations with the geometric municipality spread (at 1M rows the
   municipalities hold from ~100k down to ~70 corporations) and `kg load` them (not timed; or
   reuse --data-dir, a KG_DATA_DIR loaded that way);
2. start `kg serve` and `oxigraph serve-read-only` on the served generation, both on loopback;
3. **municipality pages**: for the municipalities nearest 1k, 10k and 100k corporations, the time
   of the first request of `/doc/municipality/X.html` (nothing cached) and the median of 30 more;
   goal: the 100k page within 2x of the 1k page;
4. **entity pages**: wrk at concurrency 8 over 1,000 corporation pages (`/doc/corporation/N.html`)
   and, in the same run, oxigraph answering `DESCRIBE <iri>` (Turtle) for the same IRIs;
   goal: our page within 2x (requests/s at least half of oxigraph's);
5. **search**: `/search.json?q=` for 2- and 5-character queries (a rare and a common one each)
   against the SPARQL `CONTAINS` filter on the same names that a user would otherwise write,
   sent to oxigraph: the same answer (first page, shortest names first: ORDER BY STRLEN), and
   for reference the count of matches and an unranked LIMIT 20 (which stops early on common
   text); medians; goal: 100x faster than the ranked page.

Needs `wrk` (apt-get install wrk) and the `oxigraph` CLI (pip install oxigraph). Writes
`bench/out/pages.json`.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from servers import BASE, parse_args, prepare, servers, wrk  # noqa: E402

PAGES_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Accept"] = "%s"})
end
"""
ROV = "http://www.w3.org/ns/regorg#"


def fetch(url: str, accept: str = "*/*", timeout: float = 120) -> tuple[float, bytes]:
    started = time.perf_counter()
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
    return time.perf_counter() - started, body


def sparql(oxi: str, query: str, accept: str = "application/sparql-results+json") -> tuple[float, bytes]:
    return fetch(f"{oxi}/query?{urllib.parse.urlencode({'query': query})}", accept)


def main(argv=None) -> int:
    args = parse_args(__doc__, 1_000_000, argv)
    tmp, data_dir, env, csv_path = prepare(args, "kg-bench-pages-", "--spread", "geometric")
    if csv_path is not None:
        csv_path.unlink()
    gen = data_dir / "gens" / (data_dir / "CURRENT").read_text().strip()
    result: dict = {"rows": args.rows, "connections": args.connections, "duration_s": args.duration}
    with servers(env, gen, "--union-default-graph") as (our, oxi):
        # -- 3. municipality pages -------------------------------------------------------------
        _, body = sparql(oxi, f"SELECT ?m (COUNT(*) AS ?n) WHERE {{ ?c <{BASE}def/municipality> ?m }} GROUP BY ?m")
        counts = {b["m"]["value"]: int(b["n"]["value"]) for b in json.loads(body)["results"]["bindings"]}
        # warm both worker processes (imports, templates) on pages of other municipalities, so the
        # first request below measures what a page of that size costs, not the process's start
        for spare in sorted(counts, key=counts.get)[:4]:
            fetch(our + "/doc/" + spare[len(BASE) + 3:] + ".html")
        munis = []
        for target in (1_000, 10_000, 100_000):
            iri = min(counts, key=lambda m: abs(counts[m] - target))
            path = "/doc/" + iri[len(BASE) + 3:] + ".html"
            first, page = fetch(our + path)
            assert f"{counts[iri]:,}" in page.decode() or str(counts[iri]) in page.decode(), (path, counts[iri])
            times = [fetch(our + path)[0] for _ in range(30)]
            munis.append({"target": target, "iri": iri, "corporations": counts[iri], "first_ms": first * 1000,
                          "median_ms": statistics.median(times) * 1000, "p90_ms": sorted(times)[26] * 1000})
        result["municipality_pages"] = munis
        result["municipality_ratio_100k_1k"] = munis[2]["median_ms"] / munis[0]["median_ms"]
        result["municipality_first_ratio_100k_1k"] = munis[2]["first_ms"] / munis[0]["first_ms"]

        # -- 4. entity pages vs DESCRIBE --------------------------------------------------------
        _, body = sparql(oxi, f"SELECT ?c WHERE {{ ?c a <{ROV}RegisteredOrganization> }} LIMIT 1000")
        corps = [b["c"]["value"] for b in json.loads(body)["results"]["bindings"]]
        our_paths = ",".join(f'"/doc/{c[len(BASE) + 3:]}.html"' for c in corps)
        oxi_paths = ",".join('"/query?' + urllib.parse.urlencode({"query": f"DESCRIBE <{c}>"}) + '"' for c in corps)
        (tmp / "ours.lua").write_text(PAGES_LUA % (our_paths, "text/html"))
        (tmp / "oxi.lua").write_text(PAGES_LUA % (oxi_paths, "text/turtle"))
        wrk(our, tmp / "ours.lua", 2, args.connections)
        wrk(oxi, tmp / "oxi.lua", 2, args.connections)
        page_ours = wrk(our, tmp / "ours.lua", args.duration, args.connections)
        page_oxi = wrk(oxi, tmp / "oxi.lua", args.duration, args.connections)
        result["entity_pages"] = {"ours": {k: v for k, v in page_ours.items() if k != "raw"},
                                  "oxigraph_describe": {k: v for k, v in page_oxi.items() if k != "raw"},
                                  "ratio": page_ours["requests_per_s"] / page_oxi["requests_per_s"]}

        # -- 5. search vs CONTAINS --------------------------------------------------------------
        searches = []
        for q in _search_terms(oxi):
            ours_times = []
            for _ in range(5):
                t, body = fetch(our + "/search.json?" + urllib.parse.urlencode({"q": q, "type": "corporation"}),
                                "application/json")
                ours_times.append(t)
            hits = json.loads(body)
            contains = (f"SELECT ?c ?name WHERE {{ ?c <{ROV}legalName> ?name FILTER(CONTAINS(?name, {json.dumps(q)})) }} "
                        f"LIMIT 20")
            ranked = (f"SELECT ?c ?name WHERE {{ ?c <{ROV}legalName> ?name FILTER(CONTAINS(?name, {json.dumps(q)})) }} "
                      f"ORDER BY STRLEN(?name) ?c LIMIT 20")
            count = (f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c <{ROV}legalName> ?name FILTER(CONTAINS(?name, {json.dumps(q)})) }}")
            oxi_times = [sparql(oxi, contains)[0] for _ in range(5)]
            count_times = [sparql(oxi, count)[0] for _ in range(3)]
            ranked_times = [sparql(oxi, ranked)[0] for _ in range(3)]
            ours_ms = statistics.median(ours_times) * 1000
            searches.append({"q": q, "chars": len(q), "total": hits.get("total"), "ours_ms": ours_ms,
                             "contains_limit20_ms": statistics.median(oxi_times) * 1000,
                             "contains_count_ms": statistics.median(count_times) * 1000,
                             "contains_ranked_ms": statistics.median(ranked_times) * 1000,
                             "speedup_vs_contains_ranked": statistics.median(ranked_times) * 1000 / ours_ms,
                             "speedup_vs_contains_count": statistics.median(count_times) * 1000 / ours_ms,
                             "speedup_vs_contains_limit20": statistics.median(oxi_times) * 1000 / ours_ms})
        result["search"] = searches
    _print(result)
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "pages.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _search_terms(oxi: str) -> list[str]:
    """A rare and a common 2- and 5-character substring of real names in the store."""
    _, body = sparql(oxi, f"SELECT ?n WHERE {{ ?c <{ROV}legalName> ?n FILTER(lang(?n) = 'ja') }} LIMIT 5000")
    names = [b["n"]["value"] for b in json.loads(body)["results"]["bindings"]]
    terms = []
    for size in (2, 5):
        grams: dict[str, int] = {}
        for name in names:
            for i in range(len(name) - size + 1):
                grams[name[i:i + size]] = grams.get(name[i:i + size], 0) + 1
        ranked = sorted(grams, key=lambda g: (-grams[g], g))
        terms += [ranked[-1], ranked[len(ranked) // 50]]   # one seen once in 5,000 names, one frequent
    return terms


def _print(r: dict) -> None:
    print(f"pages and search, {r['rows']:,} corporations")
    print("municipality pages (first request / median of 30):")
    for m in r.get("municipality_pages", []):
        print(f"  ~{m['target']:>7,}: {m['corporations']:>7,} corporations  first {m['first_ms']:7.1f} ms  "
              f"median {m['median_ms']:6.1f} ms  p90 {m['p90_ms']:6.1f} ms")
    if "municipality_ratio_100k_1k" in r:
        print(f"  100k/1k: median {r['municipality_ratio_100k_1k']:.2f}x, first {r['municipality_first_ratio_100k_1k']:.2f}x (goal <= 2)")
    if "entity_pages" in r:
        e = r["entity_pages"]
        print(f"entity pages, wrk c={r['connections']}:{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
        for name, x in (("  kg HTML page", e["ours"]), ("  oxigraph DESCRIBE", e["oxigraph_describe"])):
            print(f"{name:24}{x['requests_per_s']:>10.0f}{x['p50_ms']:>10.2f}{x['p99_ms']:>10.2f}{x['non_2xx']:>10}")
        print(f"  ratio: {e['ratio']:.2f} (goal >= 0.5)")
    for s in r.get("search", []):
        print(f"search {s['q']!r} ({s['chars']} chars, {s['total']} hits): ours {s['ours_ms']:.1f} ms; CONTAINS ranked page "
              f"{s['contains_ranked_ms']:.0f} ms ({s['speedup_vs_contains_ranked']:.0f}x, goal 100x), count "
              f"{s['contains_count_ms']:.0f} ms ({s['speedup_vs_contains_count']:.0f}x), unranked LIMIT 20 "
              f"{s['contains_limit20_ms']:.0f} ms ({s['speedup_vs_contains_limit20']:.0f}x)")


if __name__ == "__main__":
    sys.exit(main())
