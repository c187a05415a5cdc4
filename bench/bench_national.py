#!/usr/bin/env python3
"""Issue 14 at national scale: load, diff, researcher queries and one-entity SELECTs on ~5.3M
corporations, embedded and on Oxigraph server, each beside the engine's own tools, in one run.

    python bench/bench_national.py --rows 5300000 --work /tmp/national [--phases gen,load,...] [--seed 1]
    python bench/bench_national.py --report bench/out/national-5300000.json   # the tables, as markdown

Every phase writes ``WORK/<phase>.json`` and is skipped when that file exists, so a crash or a
deadline loses no finished phase; ``--phases`` chooses (default: all, in this order). At the end
the phase files are merged into ``bench/out/national-N.json`` and printed as tables.

Phase A (embedded store):
  gen       generate the CSV with gen_houjin.py and an NTA-shaped daily diff (not timed)
  load      OURS: ``kg load houjin CSV --no-progress`` into a fresh KG_DATA_DIR: wall, CPU of the
            process tree, peak RSS of the process tree, bytes of the store / local files / changes
  dump      every graph of the served generation, read-only, to N-Quads (zstd-compressed on disk:
            the national dump is ~19 GB and would not fit beside our store and the floor's)
  floor     FLOOR: a fresh pyoxigraph Store bulk_load of the dump (+ flush), then deleted; if the disk
            cannot hold it beside our store, it waits for ``--phases floor --delete-embedded``
  diff      ``kg load houjin DIFF``: seconds until served; a changed name checked with ``kg query``
  abr       the bundled ABR sample (kg/samples/abr), so that corporations link to 町字 (relinks all)
  queries   the gallery's examples and researcher aggregates through ``kg serve`` and through
            ``oxigraph serve-read-only`` on the same generation directory: median, max/p99, time limit
  wrk       one-entity SELECT at concurrency 8 through both (bench_endpoint.py's wrk script)
Phase B (Oxigraph server, KG_STORE=sparql):
  rload     ``oxigraph serve`` on a fresh location, ``kg load houjin CSV`` into it (?no_transaction,
            one streamed POST: --post-bytes)
  rdiff     the same diff onto it
  rqueries  the same queries through ``kg serve`` (remote) and through the server's own /query
  rwrk      one-entity SELECT at c=8 through both
  oxload    ``oxigraph load --location FRESH --file all.nq`` (the engine's own bulk loader)
Phase C (OpenLink Virtuoso 7, KG_STORE=sparql):
  vload     ours into Virtuoso, then one-entity SELECTs at c=8 through both
  vqueries  the same queries through ``kg serve`` over it and at Virtuoso's own /sparql
  vdiff     the diff onto it (the store is deleted after)
  vfloor    ``ld_dir`` + ``rdf_loader_run()`` + ``checkpoint`` of the same N-Quads

CPU and memory are read from outside (os.wait4 rusage of the child and what it waited for; the
process tree's RSS summed from /proc every 0.2 s), with /proc/loadavg at each phase's start and
end, since the machine is shared. Needs wrk, zstd and the oxigraph CLI.

An engine on a machine of its own, on this one: ``--engine-cpus 0 --our-cpus 1`` runs every
engine process on CPU 0 (the server of our load, and the engine's own loader for its floor, so
both have the same one core) and our ``kg load`` on CPU 1 (``taskset -c``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

from bench_endpoint import LUA, OXI_LUA  # noqa: E402
from bench_load import _tree_rss_kb, kg_command, measured  # noqa: E402
from gen_houjin import Generator, format_row  # noqa: E402
from servers import free_port, wait_ready, wrk  # noqa: E402

BASE = "http://localhost:8000/"
PHASES = ("gen", "load", "dump", "floor", "diff", "diff2", "abr", "queries", "wrk",
          "rload", "rdiff", "rdiff2", "rqueries", "rwrk", "oxload", "vload", "vqueries", "vdiff", "vfloor")
DIFF_DATE = "2025-01-06"  # after the generator's last day (2024-12-27): every diff row is newer
DIFF2_DATE = "2025-01-07"  # the next day's diff (phase diff2)
#: bytes a phase may need per generated row, from the 200k runs (data dir 1.9 GB, floor 0.9 GB,
#: N-Triples 0.7 GB) with a margin; checked against the free space before the phase starts.
#: oxload: `oxigraph load`'s store passed 42 GB at 5.3M while it finished (session 22), its input beside it;
#: load: the data dir was 52.2 GB at 5.3M once the build flushed (session 23); floor: its store 42.3 GB;
#: rload: the server's store 46.6 GB and our local files 5.6 GB at 5.3M (session 22)
NEED_PER_ROW = {"gen": 500, "load": 11_000, "dump": 1_000, "diff": 500, "diff2": 500, "abr": 2_000, "floor": 9_000,
                "rload": 10_000, "oxload": 9_000, "vload": 7_000, "vfloor": 4_000}
MIN_FREE = 3 * 10**9  # below this during a phase, its children are stopped
DUMP = """
import sys, pyoxigraph as ox
ox.Store.read_only(sys.argv[1]).dump(sys.stdout.buffer, ox.RdfFormat.N_QUADS)
"""
FLOOR = """
import sys, pyoxigraph as ox
store = ox.Store(sys.argv[1])
if sys.argv[2] == "-":  # the dump read through zstd (PIPE), when there is no room to unpack it
    store.bulk_load(sys.stdin.buffer, ox.RdfFormat.N_QUADS)
else:
    store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_QUADS)
store.flush()
"""
PIPE = """
import signal, subprocess, sys
# argv: N, a command of N words, a command: the first's output into the second, both stopped on SIGTERM
n = int(sys.argv[1])
first = subprocess.Popen(sys.argv[2:2 + n], stdout=subprocess.PIPE)
second = subprocess.Popen(sys.argv[2 + n:], stdin=first.stdout)
first.stdout.close()
signal.signal(signal.SIGTERM, lambda *_: (first.terminate(), second.terminate()))
sys.exit(second.wait() or first.wait())
"""


# ---- plumbing ------------------------------------------------------------------------------------
def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def du(path: Path, seen: set | None = None) -> int:
    """Bytes of the files under ``path``, each inode once (generations share hard-linked
    files), skipping inodes already in ``seen`` (which it extends)."""
    seen = set() if seen is None else seen
    if not path.exists():
        return 0
    files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    total = 0
    for p in files:
        st = p.stat()
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


class _Background:
    """A thread that runs ``_run`` while the ``with`` block does (it polls ``self.done``)."""

    def __init__(self):
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


class DiskGuard(_Background):
    """Stops this script's children if free space falls below MIN_FREE during a phase."""

    def __init__(self, work: Path):
        super().__init__()
        self.work, self.tripped = work, False

    def _run(self) -> None:
        me = os.getpid()
        while not self.done.wait(2):
            if free_bytes(self.work) >= MIN_FREE:
                continue
            self.tripped = True
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                    except (OSError, IndexError, ValueError):
                        continue
                    if ppid == me:
                        os.kill(int(entry), signal.SIGTERM)


class PeakRss(_Background):
    """Peak RSS (MiB) of a process tree, sampled from /proc while the block runs."""

    def __init__(self, pid: int):
        super().__init__()
        self.pid, self.peak_kb = pid, 0

    def _run(self) -> None:
        while not self.done.wait(0.2):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))

    @property
    def mib(self) -> float:
        return round(self.peak_kb / 1024, 1)


def cpu_of(pid: int) -> float:
    """User+sys CPU seconds a live process has used (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def on_cpus(cmd: list[str], cpus: str | None) -> list[str]:
    """``cmd`` run on ``cpus`` only (``taskset -c``, every thread it starts), or as it is."""
    return ["taskset", "-c", cpus, *cmd] if cpus else cmd


def timed(cmd: list[str], env: dict, log: Path) -> dict:
    """bench_load.measured, trimmed for a JSON record: wall, CPU, peak RSS of the tree, output."""
    m = measured(cmd, env=env, log=log)
    return {"seconds": round(m["seconds"], 2), "cpu_s": round(m["user_s"] + m["sys_s"], 2),
            "user_s": round(m["user_s"], 2), "sys_s": round(m["sys_s"], 2),
            "peak_rss_mib": round(m["peak_rss_mb"], 1), "largest_process_rss_mib": round(m["largest_process_rss_mb"], 1),
            "output": m["output"][-4000:]}


class Run:
    """The work directory, the settings and what the phases share."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work: Path = args.work
        self.rows: int = args.rows
        self.csv = self.work / "houjin.csv"
        self.diff = self.work / "diff.csv"
        self.nq_zst = self.work / "all.nq.zst"
        self.nq = self.work / "all.nq"
        self.data = self.work / "embedded"
        self.remote_data = self.work / "remote-local"
        self.engine = self.work / "engine"
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
        self.env = dict(base_env, KG_BASE_URI=BASE, KG_DATA_DIR=str(self.data))
        self.renv = dict(base_env, KG_BASE_URI=BASE, KG_DATA_DIR=str(self.remote_data), KG_STORE="sparql")

    def record(self, phase: str) -> dict | None:
        path = self.work / f"{phase}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def result(self, phase: str) -> dict | None:
        record = self.record(phase)
        return record["result"] if record else None

    def need(self, phase: str, extra: int = 0) -> None:
        need = NEED_PER_ROW.get(phase, 0) * self.rows + extra
        free = free_bytes(self.work)
        if free - need < MIN_FREE:
            raise PhaseAborted(f"needs ~{need / 1e9:.1f} GB, {free / 1e9:.1f} GB free (keeping {MIN_FREE / 1e9:.0f} GB)")

    def served_generation(self) -> Path:
        return self.data / "gens" / (self.data / "CURRENT").read_text().strip()


class PhaseAborted(Exception):
    pass


def regenerate_csv(run: Run) -> None:
    """The CSV again (deterministic by seed), when phase B runs after it was deleted for disk."""
    if not run.csv.exists():
        subprocess.run([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(run.rows), "--out", str(run.csv),
                        "--seed", str(run.args.seed)], check=True, stdout=subprocess.DEVNULL)


# ---- phase A -------------------------------------------------------------------------------------
def phase_gen(run: Run) -> dict:
    run.need("gen")
    g = timed([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(run.rows), "--out", str(run.csv),
               "--seed", str(run.args.seed)], os.environ.copy(), run.work / "gen.log")
    start = time.perf_counter()
    kinds, sample = write_diff(run)
    return {"generator": g, "csv_bytes": run.csv.stat().st_size, "diff_rows": sum(kinds.values()),
            "diff_kinds": kinds, "diff_seconds": round(time.perf_counter() - start, 2),
            "diff_bytes": run.diff.stat().st_size, "sample_numbers": sample}


def write_diff(run: Run, path: Path | None = None, date: str = DIFF_DATE, salt: int = 0) -> tuple[dict, list[str]]:
    """An NTA-shaped daily diff of ~3,000 rows (scaled by --diff): new corporations with fresh
    valid numbers, changed names and addresses, closures, mergers (process 21 + closeCause 11 +
    successor, and the survivor's process-71 row) and deletions (process 99).

    One pass over the CSV picks the existing rows at random line numbers and checks that the new
    numbers are not taken; nothing of the national file is held in memory."""
    n = run.args.diff
    share = {"new": 0.5, "renamed": 1 / 6, "moved": 1 / 6, "closed": 0.1, "merged": 0.05, "deleted": 1 / 60}
    want = {k: max(1, round(n * v)) for k, v in share.items()}
    path = path or run.diff
    DIFF_DATE = date  # noqa: N806 (the rows below are dated by it)
    rng = random.Random(run.args.seed * 31 + 7 + salt)
    existing_needed = want["renamed"] + want["moved"] + want["closed"] + 2 * want["merged"] + want["deleted"] + 1000
    picks = sorted(rng.sample(range(run.rows), min(run.rows, existing_needed)))
    gen = Generator(run.args.seed + 1000 + salt, None)
    candidates = {}
    for row in gen.rows(int(want["new"] * 1.3) + 50):
        if row[8] not in ("101", "201"):  # public bodies' numbers are few: they would collide
            candidates[row[1]] = row
    picked: list[list[str]] = []
    wanted = set(picks)
    with open(run.csv, encoding="utf-8", newline="") as fh:
        for i, line in enumerate(fh):
            number = line.split(",", 2)[1]
            candidates.pop(number, None)
            if i in wanted:
                picked.append(next(csv.reader([line])))
    rng.shuffle(picked)
    sample = [r[1] for r in picked[-1000:]]
    picked = picked[:-1000] if len(picked) > 1000 else picked
    out: list[list[str]] = []
    kinds = {}
    new = [candidates[k] for k in sorted(candidates)][: want["new"]]
    for r in new:
        r = list(r)
        r[2], r[3], r[4], r[5], r[22], r[23] = "01", "0", DIFF_DATE, DIFF_DATE, DIFF_DATE, "1"
        r[18] = r[19] = r[20] = r[21] = ""
        out.append(r)
    kinds["new"] = len(new)
    it = iter(picked)

    def take(k: int) -> list[list[str]]:
        rows = [list(next(it)) for _ in range(k)]
        for r in rows:
            r[3], r[4], r[5], r[23] = "0", DIFF_DATE, DIFF_DATE, "1"
        return rows

    for r in take(want["renamed"]):
        r[2], r[6], r[28] = "11", r[6] + "ホールディングス", r[28] + "ホールディングス"
        out.append(r)
    kinds["renamed"] = want["renamed"]
    for r in take(want["moved"]):
        r[2], r[11] = "12", "新町１丁目２番３号"
        out.append(r)
    kinds["moved"] = want["moved"]
    for r in take(want["closed"]):
        r[2], r[18], r[19] = "21", DIFF_DATE, "01"
        out.append(r)
    kinds["closed"] = want["closed"]
    merged, survivors = take(want["merged"]), take(want["merged"])
    for r, s in zip(merged, survivors):
        r[2], r[18], r[19], r[20] = "21", DIFF_DATE, "11", s[1]
        r[21] = f"令和７年１月６日{s[9]}{s[10]}{s[11]}{s[6]}（{s[1]}）に合併し解散"
        s[2], s[21] = "71", f"令和７年１月６日{r[9]}{r[10]}{r[11]}{r[6]}（{r[1]}）を合併"
        out.extend((r, s))
    kinds["merged"] = kinds["merger survivors"] = want["merged"]
    for r in take(want["deleted"]):
        r[2] = "99"
        out.append(r)
    kinds["deleted"] = want["deleted"]
    out.sort(key=lambda r: r[1])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for seq, r in enumerate(out, 1):
            fh.write(format_row(seq, r))
    renamed = next(r for r in out if r[2] == "11")
    (path.parent / f"{path.stem}-check.json").write_text(
        json.dumps({"number": renamed[1], "name": renamed[6]}, ensure_ascii=False))
    return kinds, sample


def split_sizes(data: Path) -> dict:
    """Bytes of a data dir: the served generation's store, its local files (search index, hub
    counts), other generations, the changes directory and the rest."""
    gen = data / "gens" / (data / "CURRENT").read_text().strip()
    local = sum(du(p) for p in gen.iterdir() if p.name.startswith("kg-"))
    seen: set = set()
    out = {"store_bytes": du(gen, seen) - local, "search_and_counts_bytes": local,
           "other_generations_bytes": sum(du(p, seen) for p in (data / "gens").iterdir() if p != gen),
           "changes_bytes": du(data / "changes"), "total_bytes": du(data)}
    out["other_local_bytes"] = (out["total_bytes"] - out["store_bytes"] - local - out["other_generations_bytes"]
                                - out["changes_bytes"])
    for name in sorted(p.name for p in gen.iterdir() if p.name.startswith("kg-")):
        out[f"file {name}"] = du(gen / name)
    return out


def phase_load(run: Run) -> dict:
    if run.data.exists():
        shutil.rmtree(run.data)  # a half-finished earlier attempt: the benchmark needs a fresh store
    run.need("load")
    r = timed(kg_command() + ["load", "houjin", str(run.csv), "--no-progress"], run.env, run.work / "load.log")
    r["sizes"] = split_sizes(run.data)
    return r


def phase_dump(run: Run) -> dict:
    run.need("dump")
    gen = run.served_generation()
    start = time.perf_counter()
    with open(run.nq_zst, "wb") as out:
        dump = subprocess.Popen([sys.executable, "-c", DUMP, str(gen)], stdout=subprocess.PIPE, env=run.env)
        counter = subprocess.Popen(["zstd", "-1", "-q", "-T1"], stdin=subprocess.PIPE, stdout=out)
        quads = nbytes = 0
        while chunk := dump.stdout.read(1 << 22):
            quads += chunk.count(b"\n")
            nbytes += len(chunk)
            counter.stdin.write(chunk)
        counter.stdin.close()
        if dump.wait() or counter.wait():
            raise SystemExit("bench: the dump failed")
    return {"seconds": round(time.perf_counter() - start, 2), "quads": quads, "nquads_bytes": nbytes,
            "zstd_bytes": run.nq_zst.stat().st_size, "generation": gen.name}


def kg_query(run: Run, env: dict, query: str) -> str:
    return subprocess.run(kg_command() + ["query", "--format", "csv", query], env=env, capture_output=True,
                          text=True, check=True).stdout


def apply_diff(run: Run, env: dict, log: str, path: Path | None = None) -> dict:
    path = path or run.diff
    r = timed(kg_command() + ["load", "houjin", str(path), "--no-progress"], env, run.work / log)
    check = json.loads((path.parent / f"{path.stem}-check.json").read_text())
    names = kg_query(run, env, f'SELECT ?n WHERE {{ corp:{check["number"]} rov:legalName ?n FILTER(lang(?n) = "ja") }}')
    r["changed_name_visible"] = check["name"] in names
    r["checked"] = check
    return r


def phase_diff(run: Run) -> dict:
    run.need("diff")
    r = apply_diff(run, run.env, "diff.log")
    r["sizes_after"] = split_sizes(run.data)
    return r


def phase_diff2(run: Run) -> dict:
    """The next day's diff (other rows, other new numbers): a daily diff onto a store whose
    previous load was a diff too (the first diff after a load by an older kg also counts what
    that kg did not keep: statistics, hub counts per graph)."""
    run.need("diff2")
    path = run.work / "diff2.csv"
    start = time.perf_counter()
    kinds, _ = write_diff(run, path, DIFF2_DATE, salt=1)
    written = round(time.perf_counter() - start, 2)
    r = apply_diff(run, run.env, "diff2.log", path)
    r["diff_rows"], r["diff_kinds"], r["diff_write_seconds"] = sum(kinds.values()), kinds, written
    r["sizes_after"] = split_sizes(run.data)
    return r


def phase_abr(run: Run) -> dict:
    run.need("abr")
    samples = Path(__file__).resolve().parent.parent / "kg" / "samples" / "abr"
    r = timed(kg_command() + ["load", "abr", str(samples), "--no-progress"], run.env, run.work / "abr.log")
    r["sizes_after"] = split_sizes(run.data)
    return r


def gallery() -> list[tuple[str, str]]:
    """The query UI's examples that need only houjin (and abr), plus the aggregates a researcher
    writes first."""
    from kg.server.examples import EXAMPLES

    queries = [(e.slug, e.query) for e in EXAMPLES if set(e.datasets) <= {"houjin", "abr"}]
    # the same aggregates written over the data, as the gallery had them before graph/statistics
    queries += [
        ("live-corporations-per-kind", """SELECT ?kind (COUNT(?c) AS ?corporations) WHERE {
  ?c a rov:RegisteredOrganization ; rov:orgType/skos:prefLabel ?kind .
  FILTER(lang(?kind) = "ja")
} GROUP BY ?kind ORDER BY DESC(?corporations)"""),
        ("live-per-municipality", """SELECT ?municipality ?city (COUNT(?c) AS ?corporations) WHERE {
  ?c a rov:RegisteredOrganization ; kg:municipality ?municipality ; locn:address/locn:adminUnitL2 ?city .
} GROUP BY ?municipality ?city ORDER BY DESC(?corporations)"""),
        ("live-per-prefecture-and-kind", """SELECT ?prefecture ?kind (COUNT(?c) AS ?corporations) WHERE {
  ?c a rov:RegisteredOrganization ; kg:prefecture ?prefecture ; rov:orgType ?kind .
} GROUP BY ?prefecture ?kind ORDER BY ?prefecture DESC(?corporations)"""),
        ("live-closures-per-year", """SELECT ?year (COUNT(?c) AS ?closures) WHERE {
  ?c a rov:RegisteredOrganization ; kg:closeDate ?date .
  BIND(YEAR(?date) AS ?year)
} GROUP BY ?year ORDER BY ?year"""),
        ("live-per-municipality-linked-to-town", """SELECT ?municipality (COUNT(DISTINCT ?c) AS ?corporations) WHERE {
  ?c a rov:RegisteredOrganization ; kg:municipality ?municipality ; kg:town ?town .
} GROUP BY ?municipality ORDER BY DESC(?corporations)"""),
        ("stats-per-municipality-linked-to-town", """SELECT ?municipality ?corporations WHERE {
  GRAPH graph:statistics { ?cell qb:dataSet stat:corporations-linked-to-town-per-municipality ;
                           kg:refMunicipality ?municipality ; kg:corporations ?corporations }
} ORDER BY DESC(?corporations)"""),
    ]
    return queries


def prefixes() -> str:
    from kg.rdf.iri import Minter

    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in Minter(BASE).prefixes().items())


def ask(url: str, query: str, timeout: float, graphs: tuple[str, ...] = ()) -> dict:
    """One POSTed query (with ``graphs`` as its default graph): seconds, status, result rows
    (CSV lines - 1), truncation header."""
    body = urllib.parse.urlencode([("query", query)] + [("default-graph-uri", g) for g in graphs]).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                          "Accept": "text/csv"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read()
            status, truncated = resp.status, resp.headers.get("X-KG-Truncated")
    except urllib.error.HTTPError as exc:
        data, status, truncated = exc.read(), exc.code, None
    except (TimeoutError, OSError) as exc:
        return {"seconds": round(time.perf_counter() - start, 3), "status": None, "error": str(exc)[:200]}
    out = {"seconds": round(time.perf_counter() - start, 3), "status": status}
    if status == 200:
        out["rows"] = max(0, data.count(b"\n") - 1)
        if truncated:
            out["truncated"] = truncated
    else:
        out["error"] = data[:300].decode("utf-8", "replace")
    return out


def query_series(url: str, query: str, limit: float, runs: int, graphs: tuple[str, ...] = ()) -> dict:
    """Up to ``runs`` runs (2 when one takes over 5 s; 1 when it fails): median, max, p99."""
    tries = []
    while len(tries) < runs:
        t = ask(url, query, limit + 60, graphs)
        tries.append(t)
        if t.get("status") != 200 or (t["seconds"] > 5 and len(tries) >= 2):
            break
    ok = [t["seconds"] for t in tries if t.get("status") == 200]
    out = {"runs": len(tries), "answered": len(ok), "tries": tries}
    if ok:
        out["median_s"] = round(statistics.median(ok), 3)
        out["max_s"] = round(max(ok), 3)
        out["p99_s"] = round(sorted(ok)[max(0, int(len(ok) * 0.99 + 0.5) - 1)], 3)
        out["rows"] = tries[-1].get("rows")
        out["within_limit"] = len(ok) == len(tries) and max(ok) <= limit
    else:
        out["within_limit"] = False
    return out


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_queries(ours: str, theirs: str, limit: float, runs: int, graphs: tuple[str, ...] = (),
                path: str = "/query") -> dict:
    head = prefixes()
    out = {}
    for slug, q in gallery():
        print(f"  query {slug} ...", file=sys.stderr, flush=True)
        out[slug] = {"ours": query_series(ours + "/sparql", head + q, limit, runs),
                     "engine": query_series(theirs + path, head + q, limit, runs, graphs)}
    return out


def served_graphs(query_url: str) -> tuple[str, ...]:
    """The engine graphs of the remote store's current generation (from its pointer graph)."""
    ptr, d = BASE + "graph/generations", BASE + "def/"
    # several generations may be named current (a switch by a POST adds one): the highest is
    q = (f"SELECT ?g WHERE {{ GRAPH <{ptr}> {{ {{ SELECT ?gen WHERE {{ <{ptr}> <{d}currentGeneration> ?gen }} "
         f"ORDER BY DESC(STR(?gen)) LIMIT 1 }} ?gen <{d}generationGraph> ?g }} }}")
    req = urllib.request.Request(query_url, data=urllib.parse.urlencode({"query": q}).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return tuple(sorted(b["g"]["value"] for b in json.load(r)["results"]["bindings"]))


def hub_counts(run: Run) -> dict:
    """What the load-time statistics hold: the hub-count table's entities and the per-class counts."""
    import sqlite3

    path = run.served_generation() / "kg-counts.sqlite"
    if not path.exists():
        return {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = con.execute("SELECT iri, counts FROM counts").fetchall()
    con.close()
    kinds = {}
    for iri, _ in rows:
        kind = iri[len(BASE + "id/"):].split("/")[0] if iri.startswith(BASE + "id/") else "other"
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"hubs": len(rows), "hubs_by_kind": kinds,
            "counts": {i: json.loads(c) for i, c in rows[:3000]}}


def our_server(env: dict, log: Path, cpus: str | None = None) -> tuple[subprocess.Popen, str]:
    """``kg serve`` (every process of it on ``cpus``, if given)."""
    port = free_port()
    proc = start(on_cpus(kg_command() + ["serve", "--port", str(port)], cpus), env, log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/healthz", 300)
    return proc, url


def phase_queries(run: Run) -> dict:
    limit = float(run.env.get("KG_QUERY_TIMEOUT", 30))
    gen = run.served_generation()
    port = free_port()
    oxi = start(["oxigraph", "serve-read-only", "--location", str(gen), "--bind", f"127.0.0.1:{port}",
                 "--union-default-graph", "--timeout-s", str(int(limit))], run.env, run.work / "oxigraph-ro.log")
    ours = None
    try:
        theirs = f"http://127.0.0.1:{port}"
        wait_ready(theirs + "/query?query=ASK%7B%7D", 300)
        ours, url = our_server(run.env, run.work / "serve.log")
        result = {"time_limit_s": limit, "engine": "oxigraph serve-read-only --union-default-graph on the same directory",
                  "queries": run_queries(url, theirs, limit, run.args.runs)}
    finally:
        if ours is not None:
            stop(ours)
        stop(oxi)
    result["load_time_statistics"] = hub_counts(run)
    result["kg_stats"] = subprocess.run(kg_command() + ["stats"], env=run.env, capture_output=True, text=True).stdout[-6000:]
    return result


def client_cpus(run: Run) -> str | None:
    """With ``--pin``: the CPU of ``kg serve`` and wrk (the engine gets CPU 0, :func:`wrk_pair`)."""
    return "1" if run.args.pin else None


def our_dataset(env: dict) -> str:
    """The protocol dataset ``kg serve`` sends the engine with a one-entity SELECT over the served
    version (``&default-graph-uri=…&named-graph-uri=…``, one per engine graph), so that the
    engine's own endpoint can be measured with and without it."""
    from kg.settings import load_settings
    from kg.store.remote_generations import RemoteGenerations

    store = RemoteGenerations(load_settings(env), create=False).open_current()
    asked = store._asked("SELECT ?p ?o WHERE { GRAPH ?g { <urn:x:s> ?p ?o } }", None, None, (), ())
    _, body, _ = store.client.query_request(asked.text, **asked.dataset)
    return body.decode("ascii").split("&", 1)[1]


def wrk_pair(run: Run, ours: str, theirs: str, theirs_path: str, engine_pid: int | None = None,
             dataset: str | None = None) -> dict:
    """wrk through ``kg serve`` and at the engine's own endpoint. With ``--pin`` the engine
    (``engine_pid``, every thread) runs on CPU 0 and wrk on :func:`client_cpus` in both runs, as
    ``kg serve`` does: the engine has the same one core either way, as it would on a machine of
    its own, and the hop's CPU does not come out of the engine's."""
    cpus = client_cpus(run) if engine_pid is not None else None
    if cpus is not None:
        subprocess.run(["taskset", "-a", "-p", "-c", "0", str(engine_pid)], check=True, capture_output=True)
    numbers = run.result("gen")["sample_numbers"]
    lua_numbers = ",".join(f'"{n}"' for n in numbers)
    ours_script, oxi_script = run.work / "ours.lua", run.work / "oxi.lua"
    ours_script.write_text(LUA % (lua_numbers, BASE))
    oxi_script.write_text(OXI_LUA.replace('"/query"', f'"{theirs_path}"') % (lua_numbers, BASE))
    c, d = run.args.connections, run.args.duration
    wrk(ours, ours_script, 2, c, cpus)
    wrk(theirs, oxi_script, 2, c, cpus)
    a, b = wrk(ours, ours_script, d, c, cpus), wrk(theirs, oxi_script, d, c, cpus)
    strip = lambda r: {k: v for k, v in r.items() if k != "raw"}  # noqa: E731
    r = {"connections": c, "duration_s": d, "pinned": cpus is not None, "ours": strip(a), "engine": strip(b),
         "ratio_rps": round(a["requests_per_s"] / b["requests_per_s"], 3),
         "ratio_p50": round(a["p50_ms"] / b["p50_ms"], 3)}
    if dataset is not None:  # the engine's own endpoint, asked what kg serve asks it
        with_dataset = run.work / "engine-dataset.lua"
        with_dataset.write_text(oxi_script.read_text().replace(
            'return string.format("%%%02X", string.byte(c)) end)',
            'return string.format("%%%02X", string.byte(c)) end) .. "&' + dataset + '"'))
        wrk(theirs, with_dataset, 2, c, cpus)
        e = wrk(theirs, with_dataset, d, c, cpus)
        r["engine_with_our_dataset"] = strip(e)
        r["ratio_rps_to_engine_with_our_dataset"] = round(a["requests_per_s"] / e["requests_per_s"], 3)
    return r


def phase_wrk(run: Run) -> dict:
    gen = run.served_generation()
    port = free_port()
    oxi = start(["oxigraph", "serve-read-only", "--location", str(gen), "--bind", f"127.0.0.1:{port}"],
                run.env, run.work / "oxigraph-ro-wrk.log")
    ours = None
    try:
        theirs = f"http://127.0.0.1:{port}"
        wait_ready(theirs + "/query?query=ASK%7B%7D", 300)
        ours, url = our_server(run.env, run.work / "serve-wrk.log")
        return wrk_pair(run, url, theirs, "/query")
    finally:
        if ours is not None:
            stop(ours)
        stop(oxi)


def unpack_dump(run: Run) -> None:
    """``run.nq``: the N-Quads of phase dump, or when the embedded phases did not run (a national
    run on the engines only), the copy of what our first remote load wrote, from its change feed."""
    if run.nq.exists():
        return
    if run.result("dump") is None:
        for local in (run.work / "virtuoso-local", run.remote_data):
            fed = local / "changes" / "gen-000001" / "added.nq.gz"
            if fed.exists():
                with open(run.nq, "wb") as out:
                    subprocess.run(["zcat", str(fed)], stdout=out, check=True)
                return
        raise PhaseAborted("neither phase dump nor a remote load's change feed to take the N-Quads from")
    if free_bytes(run.work) - run.result("dump")["nquads_bytes"] < MIN_FREE:
        raise PhaseAborted("no room to unpack the N-Quads dump")
    subprocess.run(["zstd", "-d", "-q", "-f", str(run.nq_zst), "-o", str(run.nq)], check=True)


def nquads_source(run: Run, phase: str) -> Path:
    """The N-Quads a floor reads: ``run.nq``, unpacked when there is room for it beside the
    loader's store, else the compressed dump itself, which the floor reads through ``zstd -d -c``
    (:func:`piped_from`).
    At 5.3M the unpacked N-Quads (25 GB) and a loader's store (42+ GB) may not fit together on
    this disk. On 2M quads, reading through zstd cost pyoxigraph's bulk_load 2-9% of its wall time
    (session 23): a bias in our favour, reported beside the ratio."""
    if run.nq.exists() or run.result("dump") is None or not run.nq_zst.exists():
        unpack_dump(run)
        return run.nq
    if free_bytes(run.work) - run.result("dump")["nquads_bytes"] - NEED_PER_ROW[phase] * run.rows > MIN_FREE:
        unpack_dump(run)
        return run.nq
    return run.nq_zst


def piped_from(run: Run, source: Path, loader: list[str], *, read_file: list[str], read_stdin: list[str]) -> list[str]:
    """``loader`` reading ``source``: the N-Quads file itself, or the compressed dump through
    ``zstd -d -c`` (on our CPUs) into its standard input."""
    if source != run.nq_zst:
        return [*loader, *read_file]
    unzstd = on_cpus(["zstd", "-d", "-c", "-q", str(source)], run.args.our_cpus)
    return [sys.executable, "-c", PIPE, str(len(unzstd)), *unzstd, *loader, *read_stdin]


def phase_floor(run: Run) -> dict:
    if run.data.exists() and run.args.delete_embedded:
        shutil.rmtree(run.data)
    try:
        run.need("floor")
    except PhaseAborted as exc:
        raise PhaseAborted(f"{exc}; at national size ours, the dump and the floor do not fit together: run "
                           f"`--phases floor --delete-embedded` once the phases that need our store are done") from None
    source = nquads_source(run, "floor")
    floor_dir = run.work / "floor-store"
    shutil.rmtree(floor_dir, ignore_errors=True)
    cmd = piped_from(run, source, [sys.executable, "-c", FLOOR, str(floor_dir)], read_file=[str(source)],
                     read_stdin=["-"])
    try:
        r = timed(cmd, run.env, run.work / "floor.log")
        r["store_bytes"] = du(floor_dir)
        r["read_from"] = source.name
    finally:
        shutil.rmtree(floor_dir, ignore_errors=True)
    return r


# ---- phase B -------------------------------------------------------------------------------------
class Engine:
    """``oxigraph serve`` on run.engine for the remote phases, with its peak RSS while it runs."""

    def __init__(self, run: Run, *options: str):
        self.run = run
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = start(on_cpus(["oxigraph", "serve", "--location", str(run.engine), "--bind",
                                   f"127.0.0.1:{self.port}", *options], run.args.engine_cpus),
                          run.env, run.work / "oxigraph-serve.log")
        wait_ready(self.url + "/query?query=ASK%7B%7D", 600)
        store = self.url + "/store" + ("?no_transaction" if run.args.no_transaction else "")
        run.renv.update(KG_SPARQL_QUERY=self.url + "/query", KG_SPARQL_UPDATE=self.url + "/update",
                        KG_SPARQL_STORE=store, KG_SPARQL_POST_BYTES=run.args.post_bytes)

    def close(self) -> None:
        stop(self.proc)


def engine_load(run: Run, server: subprocess.Popen, env: dict, source: Path, log: str) -> dict:
    """`kg load houjin SOURCE` into an engine: ours as `timed` says, and the server's CPU and peak RSS."""
    cpu0 = cpu_of(server.pid)
    with PeakRss(server.pid) as peak:
        r = timed(on_cpus(kg_command() + ["load", "houjin", str(source), "--no-progress"], run.args.our_cpus), env,
                  run.work / log)
    r["server_peak_rss_mib"] = peak.mib
    r["server_cpu_s"] = round(cpu_of(server.pid) - cpu0, 2)
    return r


def remote_load(run: Run, engine: Engine, source: Path, log: str) -> dict:
    r = engine_load(run, engine.proc, run.renv, source, log)
    r["engine_bytes"] = du(run.engine)
    r["local_bytes"] = du(run.remote_data)
    return r


def phase_rload(run: Run) -> dict:
    if run.data.exists() and run.args.delete_embedded:
        shutil.rmtree(run.data)
    regenerate_csv(run)
    for d in (run.engine, run.remote_data):
        shutil.rmtree(d, ignore_errors=True)
    run.need("rload")
    engine = Engine(run)
    try:
        r = remote_load(run, engine, run.csv, "rload.log")
        r["no_transaction"] = run.args.no_transaction
        r["post_bytes"] = run.args.post_bytes
        # a load that leaves the engine its compaction (as `oxigraph load` leaves it to whoever
        # opens its store): how long the engine works on alone, with no request, before it is still
        r["engine_settled"] = settled(engine.proc.pid)
        r["engine_bytes_settled"] = du(run.engine)
        return r
    finally:
        engine.close()


def settled(pid: int, *, still: float = 15.0, cap: float = 3600.0) -> dict:
    """Seconds and CPU seconds a server works on with no request, until its CPU stays still
    (under 5% of a core) for ``still`` seconds; at most ``cap`` seconds."""
    start, cpu0 = time.monotonic(), cpu_of(pid)
    quiet_since, last = None, cpu0
    while time.monotonic() - start < cap:
        time.sleep(5)
        now, cpu = time.monotonic(), cpu_of(pid)
        if cpu - last < 0.25:
            quiet_since = quiet_since or now - 5
            if now - quiet_since >= still:
                return {"seconds": round(quiet_since - start, 1), "cpu_s": round(cpu - cpu0, 1)}
        else:
            quiet_since = None
        last = cpu
    return {"seconds": None, "cpu_s": round(cpu_of(pid) - cpu0, 1), "capped_at": cap}


def phase_rdiff(run: Run, path: Path | None = None, log: str = "rdiff.log") -> dict:
    path = path or run.diff
    engine = Engine(run)
    try:
        r = remote_load(run, engine, path, log)
        check = json.loads((path.parent / f"{path.stem}-check.json").read_text())
        names = kg_query(run, run.renv, f'SELECT ?n WHERE {{ corp:{check["number"]} rov:legalName ?n FILTER(lang(?n) = "ja") }}')
        r["changed_name_visible"] = check["name"] in names
        return r
    finally:
        engine.close()


def phase_rdiff2(run: Run) -> dict:
    """The next day's diff (phase diff2's file, written if missing) into the engine."""
    path = run.work / "diff2.csv"
    if not path.exists():
        write_diff(run, path, DIFF2_DATE, salt=1)
    return phase_rdiff(run, path, "rdiff2.log")


def phase_rqueries(run: Run) -> dict:
    limit = float(run.renv.get("KG_QUERY_TIMEOUT", 30))
    engine = Engine(run, "--timeout-s", str(int(limit)))
    ours = None
    try:
        ours, url = our_server(run.renv, run.work / "serve-remote.log")
        graphs = served_graphs(engine.url + "/query")
        return {"time_limit_s": limit, "engine_default_graphs": graphs,
                "engine": "oxigraph serve /query with the served generation's graphs as default-graph-uri "
                          "(a query naming a logical graph, GRAPH graph:meta, finds nothing there)",
                "queries": run_queries(url, engine.url, limit, run.args.runs, graphs)}
    finally:
        if ours is not None:
            stop(ours)
        engine.close()


def phase_rwrk(run: Run) -> dict:
    engine = Engine(run)
    ours = None
    try:
        ours, url = our_server(run.renv, run.work / "serve-remote-wrk.log", client_cpus(run))
        return wrk_pair(run, url, engine.url, "/query", engine.proc.pid)
    finally:
        if ours is not None:
            stop(ours)
        engine.close()


def phase_oxload(run: Run) -> dict:
    for d in (run.engine, run.remote_data):  # phase B's store is measured; the disk is needed
        if d.exists() and run.args.delete_embedded:
            shutil.rmtree(d)
    run.need("oxload")
    source = nquads_source(run, "oxload")
    target = run.work / "oxload-store"
    shutil.rmtree(target, ignore_errors=True)
    # stdin, as `oxigraph load` reads it when no file is given
    cmd = piped_from(run, source, on_cpus(["oxigraph", "load", "--location", str(target)], run.args.engine_cpus),
                     read_file=["--file", str(source)], read_stdin=["--format", "nq"])
    try:
        r = timed(cmd, run.env, run.work / "oxload.log")
        r["store_bytes"] = du(target)
        r["read_from"] = source.name
        if run.args.first_write:
            r.update(first_write(run, target))
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return r


def first_write(run: Run, location: Path) -> dict:
    """The loader's store served by ``oxigraph serve``: seconds until it answers, then until it
    takes a one-triple INSERT DATA. After a national bulk load the server compacts first, and a
    write waits for that (our load's writes after its records' POST wait the same way)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    proc = start(on_cpus(["oxigraph", "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                         run.args.engine_cpus), run.env, run.work / "oxload-serve.log")
    try:
        wait_ready(url + "/query?query=ASK%7B%7D", 600)
        served = time.monotonic() - began
        cpu0, t0 = cpu_of(proc.pid), time.monotonic()
        request = urllib.request.Request(url + "/update", method="POST",
                                         data=b'INSERT DATA { GRAPH <urn:x:probe> { <urn:x:s> <urn:x:p> "1" } }',
                                         headers={"Content-Type": "application/sparql-update"})
        with urllib.request.urlopen(request, timeout=7200) as answer:
            answer.read()
        return {"served_after_s": round(served, 2), "first_write_s": round(time.monotonic() - t0, 2),
                "first_write_server_cpu_s": round(cpu_of(proc.pid) - cpu0, 2),
                "store_bytes_after_first_write": du(location)}
    finally:
        stop(proc)


# ---- phase C: OpenLink Virtuoso ------------------------------------------------------------------
class Virtuoso:
    """``virtuoso-t`` (Debian's virtuoso-opensource) in ``location``, configured as the tests run
    it (tests/support/engines.py), with SPARQL Update granted; its CPU and peak RSS are read."""

    def __init__(self, run: Run, location: Path):
        sys.path.insert(0, str(HERE.parent / "tests"))
        from support.engines import _VIRTUOSO_INI

        self.run, self.location = run, location
        binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
        if binary is None or isql is None:
            raise SystemExit("bench: virtuoso-t / isql-vt not installed (apt-get install virtuoso-opensource)")
        location.mkdir(parents=True, exist_ok=True)
        sql_port, http_port = free_port(), free_port()
        ini = location / "virtuoso.ini"
        text = _VIRTUOSO_INI.format(d=location, sql_port=sql_port, http_port=http_port)
        if run.args.virtuoso_buffers:  # the tests' 160 MB of buffers leave a national load on the disk
            n = run.args.virtuoso_buffers
            text = re.sub(r"(?m)^NumberOfBuffers = \d+", f"NumberOfBuffers = {n}", text)
            text = re.sub(r"(?m)^MaxDirtyBuffers = \d+", f"MaxDirtyBuffers = {n * 3 // 4}", text)
        ini.write_text(text)
        self.proc = start(on_cpus([binary, "-f", "-c", str(ini)], run.args.engine_cpus), run.env, location / "stdout.log")
        self.url = f"http://127.0.0.1:{http_port}"
        self.isql = [isql, f"127.0.0.1:{sql_port}", "dba", "dba"]
        wait_ready(self.url + "/sparql?query=ASK%7B%7D", 300)
        self.sql('GRANT SPARQL_UPDATE TO "SPARQL";')
        self.env = dict(run.renv, KG_DATA_DIR=str(run.work / "virtuoso-local"), KG_SPARQL_QUERY=self.url + "/sparql",
                        KG_SPARQL_UPDATE=self.url + "/sparql", KG_SPARQL_STORE=self.url + "/sparql-graph-crud",
                        KG_SPARQL_WKT="opaque", KG_SPARQL_RESULTS="xml")
        if not run.args.virtuoso_graph_store:  # big loads through Virtuoso's own bulk loading
            self.env.update(KG_VIRTUOSO_SQL=f"127.0.0.1:{sql_port}", KG_VIRTUOSO_PASSWORD="dba",
                            KG_VIRTUOSO_LOAD_DIR=str(location / "load"))

    def sql(self, statement: str, timeout: float = 7200) -> str:
        done = subprocess.run([*self.isql, f"exec={statement}"], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or "*** Error" in done.stdout:
            raise SystemExit(f"isql {statement!r}: {done.stdout[-1000:]}{done.stderr[-1000:]}")
        return done.stdout

    def value(self, query: str) -> int:
        """The one number an SQL query answers (isql prints it on a line of its own)."""
        numbers = [line.strip() for line in self.sql(query).splitlines() if line.strip().isdigit()]
        return int(numbers[-1])

    def close(self) -> None:
        stop(self.proc)


def phase_vload(run: Run) -> dict:
    """Ours into Virtuoso (Graph Store Protocol at /sparql-graph-crud), then one-entity SELECTs at
    c=8 through `kg serve` over it and at Virtuoso's own /sparql, while the same engine runs."""
    regenerate_csv(run)
    location, local = run.work / "virtuoso", run.work / "virtuoso-local"
    for d in (location, local):
        shutil.rmtree(d, ignore_errors=True)
    run.need("vload")
    engine = Virtuoso(run, location)
    ours = None
    try:
        r = engine_load(run, engine.proc, engine.env, run.csv, "vload.log")
        r["virtuoso_bulk_loading"] = not run.args.virtuoso_graph_store
        engine.sql("checkpoint;")
        r["engine_bytes"] = du(location)
        r["local_bytes"] = du(local)
        ours, url = our_server(engine.env, run.work / "serve-virtuoso-wrk.log", client_cpus(run))
        r["wrk"] = wrk_pair(run, url, engine.url, "/sparql", engine.proc.pid, our_dataset(engine.env))
        if run.args.diff_on_load:  # the daily diff onto the running engine, buffers as the load left them
            stop(ours)
            ours = None
            r["diff_same_process"] = engine_load(run, engine.proc, engine.env, run.diff, "vload-diff.log")
        return r
    finally:
        if ours is not None:
            stop(ours)
        engine.close()  # its checkpointed store and our local files stay for phase vdiff


def phase_vqueries(run: Run) -> dict:
    """The gallery's examples and the researcher aggregates through `kg serve` over the Virtuoso
    store phase vload left, and at Virtuoso's own /sparql with the served graphs as the default
    graph (Virtuoso has no time limit here: a query past it is given up on by the client at the
    limit + 60 s and counted as over)."""
    location = run.work / "virtuoso"
    if not (location / "virtuoso.db").exists():
        raise SystemExit("bench: phase vqueries needs the Virtuoso store of phase vload (run vload first)")
    limit = float(run.renv.get("KG_QUERY_TIMEOUT", 30))
    engine = Virtuoso(run, location)
    ours = None
    try:
        ours, url = our_server(engine.env, run.work / "serve-virtuoso.log")
        graphs = served_graphs(engine.url + "/sparql")
        return {"time_limit_s": limit, "engine_default_graphs": graphs,
                "engine": "Virtuoso /sparql with the served generation's graphs as default-graph-uri",
                "queries": run_queries(url, engine.url, limit, run.args.runs, graphs, path="/sparql")}
    finally:
        if ours is not None:
            stop(ours)
        engine.close()


def phase_vdiff(run: Run) -> dict:
    """The daily diff (phase gen's) into the Virtuoso store phase vload left: seconds until served,
    then the renamed corporation's new name read back through it; the store is deleted after."""
    location = run.work / "virtuoso"
    if not (location / "virtuoso.db").exists():
        raise SystemExit("bench: phase vdiff needs the Virtuoso store of phase vload (run vload first)")
    engine = Virtuoso(run, location)
    try:
        r = engine_load(run, engine.proc, engine.env, run.diff, "vdiff.log")
        check = json.loads((run.diff.parent / f"{run.diff.stem}-check.json").read_text())
        names = kg_query(run, engine.env, f'SELECT ?n WHERE {{ corp:{check["number"]} rov:legalName ?n '
                                          f'FILTER(lang(?n) = "ja") }}')
        r["changed_name_visible"] = check["name"] in names
        return r
    finally:
        engine.close()
        shutil.rmtree(location, ignore_errors=True)
        shutil.rmtree(run.work / "virtuoso-local", ignore_errors=True)


def phase_vfloor(run: Run) -> dict:
    """Virtuoso's own bulk loader (ld_dir + rdf_loader_run + checkpoint) of the N-Quads of our
    embedded load (phase dump) into a fresh Virtuoso: the floor of phase vload."""
    unpack_dump(run)
    location = run.work / "virtuoso-floor"
    shutil.rmtree(location, ignore_errors=True)
    run.need("vfloor")
    engine = Virtuoso(run, location)
    try:
        os.link(run.nq, location / "all.nq")  # ld_dir reads only under DirsAllowed
        cpu0 = cpu_of(engine.proc.pid)
        t0 = time.perf_counter()
        with PeakRss(engine.proc.pid) as peak:
            engine.sql(f"ld_dir('{location}', 'all.nq', 'http://example.org/unused');")
            engine.sql("rdf_loader_run();")
            engine.sql("checkpoint;")
        seconds = time.perf_counter() - t0
        errors = engine.value("SELECT COUNT(*) FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;")
        quads = engine.value("SELECT COUNT(*) FROM DB.DBA.RDF_QUAD;")
        (location / "all.nq").unlink()
        return {"seconds": round(seconds, 2), "server_cpu_s": round(cpu_of(engine.proc.pid) - cpu0, 2),
                "server_peak_rss_mib": peak.mib, "engine_bytes": du(location), "load_errors": errors,
                "rdf_quad_rows": quads}
    finally:
        engine.close()
        shutil.rmtree(location, ignore_errors=True)


# ---- driver --------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--work", type=Path, required=True, help="work directory: phase JSONs, logs, the big files")
    ap.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of: {','.join(PHASES)}")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--diff", type=int, default=3000, help="rows of the daily diff (about)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each query")
    ap.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--pin", action="store_true",
                    help="rwrk/vload's c=8: the engine on CPU 0, kg serve and wrk on CPU 1, in both runs")
    ap.add_argument("--engine-cpus", default=None, metavar="CPUS",
                    help="remote phases: every engine process (oxigraph serve, oxigraph load, virtuoso-t, so the "
                         "engine's own loader too) on these CPUs only (taskset -c), as an engine on a machine of "
                         "its own")
    ap.add_argument("--our-cpus", default=None, metavar="CPUS",
                    help="remote phases: our `kg load` (every process of it) on these CPUs only")
    ap.add_argument("--first-write", action=argparse.BooleanOptionalAction, default=True,
                    help="oxload: serve the loader's store and time its first one-triple INSERT DATA (default on)")
    ap.add_argument("--no-transaction", action=argparse.BooleanOptionalAction, default=True,
                    help="remote loads POST to /store?no_transaction (default on)")
    ap.add_argument("--post-bytes", default="0",
                    help="KG_SPARQL_POST_BYTES of remote loads (default 0: one streamed POST; 32M: slices)")
    ap.add_argument("--delete-embedded", action="store_true",
                    help="let the floor and phase B delete our embedded data dir for disk")
    ap.add_argument("--virtuoso-buffers", type=int, default=0,
                    help="Virtuoso's NumberOfBuffers (8 KiB each; 0: the tests' 20,000); OpenLink's advice for "
                         "16 GB free is 1,360,000")
    ap.add_argument("--virtuoso-graph-store", action="store_true",
                    help="vload: every load as Graph Store POSTs, not through Virtuoso's bulk loading (KG_VIRTUOSO_SQL)")
    ap.add_argument("--diff-on-load", action="store_true",
                    help="vload: also load the daily diff right after, on the same engine process (as a server "
                         "that has been running receives it; phase vdiff restarts the engine first)")
    ap.add_argument("--cleanup", action="store_true", help="at the end delete the big files, keep the JSONs")
    args = ap.parse_args(argv)
    for tool in ("wrk", "zstd", "oxigraph", "kg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: `{tool}` is not on PATH")
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    run = Run(args)
    chosen = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(chosen) - set(PHASES)
    if unknown:
        ap.error(f"unknown phases: {', '.join(sorted(unknown))}")
    for phase in PHASES:
        if phase not in chosen:
            continue
        out = args.work / f"{phase}.json"
        if out.exists():
            print(f"== {phase}: done before ({out.name})", file=sys.stderr)
            continue
        print(f"== {phase}: {time.strftime('%H:%M:%S')} load {loadavg()} free {free_bytes(args.work) / 1e9:.1f} GB",
              file=sys.stderr, flush=True)
        record = {"phase": phase, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "loadavg_start": loadavg(), "free_bytes_start": free_bytes(args.work),
                  "engine_cpus": args.engine_cpus, "our_cpus": args.our_cpus}
        t0 = time.perf_counter()
        try:
            with DiskGuard(args.work) as guard:
                record["result"] = globals()[f"phase_{phase}"](run)
        except PhaseAborted as exc:
            print(f"== {phase}: ABORTED: {exc}", file=sys.stderr, flush=True)
            (args.work / f"{phase}.aborted.json").write_text(json.dumps({"reason": str(exc), **record}))
            continue
        except (SystemExit, subprocess.CalledProcessError, OSError) as exc:
            reason = "disk space fell below the guard" if guard.tripped else str(exc)[-2000:]
            print(f"== {phase}: FAILED: {reason}", file=sys.stderr, flush=True)
            (args.work / f"{phase}.failed.json").write_text(json.dumps({"reason": reason, **record}))
            if phase in ("gen", "load"):
                break
            continue
        record.update(seconds=round(time.perf_counter() - t0, 2), loadavg_end=loadavg(),
                      free_bytes_end=free_bytes(args.work))
        out.write_text(json.dumps(record, indent=2, ensure_ascii=False))
        print(f"== {phase}: done in {record['seconds']:.0f} s, load {record['loadavg_end']}", file=sys.stderr, flush=True)
    if args.cleanup:
        for name in ("houjin.csv", "all.nq", "all.nq.zst", "embedded", "engine", "remote-local", "floor-store",
                     "oxload-store"):
            p = args.work / name
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    merged = {"rows": args.rows, "seed": args.seed, "date": time.strftime("%Y-%m-%d"),
              "machine": f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, shared",
              "python": platform.python_version(), "phases": {}}
    for phase in PHASES:
        r = run.record(phase)
        if r is not None:
            merged["phases"][phase] = r
    merged["summary"] = summary(merged["phases"])
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    target = out_dir / f"national-{args.rows}.json"
    target.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(merged["summary"], indent=2, ensure_ascii=False))
    print(f"(written to {target})", file=sys.stderr)
    return 0


def summary(p: dict) -> dict:
    """The ratios the issue asks for, from whichever phases have run."""
    s: dict = {}
    res = {k: v["result"] for k, v in p.items()}
    quads = res.get("dump", {}).get("quads")
    if "load" in res:
        load = res["load"]
        s["ours"] = {"wall_s": load["seconds"], "cpu_s": load["cpu_s"], "peak_rss_mib": load["peak_rss_mib"],
                     "store_bytes": load["sizes"]["store_bytes"], "data_dir_bytes": load["sizes"]["total_bytes"]}
        if quads:
            s["quads"] = quads
            s["ours"]["store_bytes_per_quad"] = round(load["sizes"]["store_bytes"] / quads, 1)
            s["ours"]["data_dir_bytes_per_quad"] = round(load["sizes"]["total_bytes"] / quads, 1)
    if "floor" in res and "load" in res:
        f = res["floor"]
        s["floor"] = {"wall_s": f["seconds"], "cpu_s": f["cpu_s"], "peak_rss_mib": f["peak_rss_mib"],
                      "store_bytes": f["store_bytes"]}
        if quads:
            s["floor"]["bytes_per_quad"] = round(f["store_bytes"] / quads, 1)
        s["ratio_ours_floor"] = {"wall": round(res["load"]["seconds"] / f["seconds"], 2),
                                 "cpu": round(res["load"]["cpu_s"] / f["cpu_s"], 2),
                                 "memory": round(res["load"]["peak_rss_mib"] / f["peak_rss_mib"], 2)}
    for key in ("diff", "diff2", "rdiff", "rdiff2"):
        if key in res:
            s[key] = {"wall_s": res[key]["seconds"], "cpu_s": res[key]["cpu_s"],
                      "changed_name_visible": res[key].get("changed_name_visible")}
    if "rload" in res and "oxload" in res:
        r, o = res["rload"], res["oxload"]
        s["ratio_remote_oxload"] = {"wall": round(r["seconds"] / o["seconds"], 2),
                                    "cpu_ours_plus_server": round((r["cpu_s"] + r["server_cpu_s"]) / o["cpu_s"], 2)}
    for key in ("wrk", "rwrk"):
        if key in res:
            s[key] = {"ratio_rps": res[key]["ratio_rps"], "ours_rps": res[key]["ours"]["requests_per_s"],
                      "engine_rps": res[key]["engine"]["requests_per_s"]}
    for key in ("queries", "rqueries", "vqueries"):
        if key in res:
            s[key] = {slug: {side: (f"{q[side].get('median_s')} s median, {q[side].get('max_s')} s max, "
                                    f"{q[side].get('rows')} rows" if q[side]["answered"] else "no answer")
                             + ("" if q[side]["within_limit"] else " (NOT within limit)")
                             for side in ("ours", "engine")}
                      for slug, q in res[key]["queries"].items()}
    return s


def _gb(n: int | None) -> str:
    return "–" if n is None else f"{n / 1e9:,.2f} GB"


def _cell(q: dict, limit: float) -> str:
    if not q["answered"]:
        t = q["tries"][0]
        return f"no answer ({t.get('status') or 'timeout'}, {t['seconds']:.1f} s)"
    if q["max_s"] > limit and not q["rows"]:  # oxigraph's --timeout-s: 200 and an empty body
        return f"stopped at the limit ({q['max_s']:.1f} s: 200, no rows)"
    spread = "max" if q["answered"] < 20 else "p99"
    trunc = " (truncated)" if any(t.get("truncated") for t in q["tries"]) else ""
    return (f"{q['median_s']:.2f} / {q['max_s' if spread == 'max' else 'p99_s']:.2f} s, {q['rows']:,} rows{trunc}"
            + ("" if q["within_limit"] else " **over**"))


def markdown(merged: dict) -> str:
    """The README's tables, from national-N.json (``--report``)."""
    p = {k: v["result"] for k, v in merged["phases"].items()}
    la = {k: f"{v['loadavg_start']} → {v['loadavg_end']}" for k, v in merged["phases"].items()}
    quads = p.get("dump", {}).get("quads")
    lines = [f"{merged['rows']:,} corporations, {quads or 0:,} quads in all graphs; {merged['machine']}; {merged['date']}", ""]
    lines += ["| step | wall s | CPU s | peak RSS MiB (tree) | bytes | bytes/quad | load average (start → end) |",
              "|---|---:|---:|---:|---:|---:|---|"]

    def row(name, r, nbytes=None, key=None, per_quad=True):
        per = f"{nbytes / quads:,.0f}" if nbytes and quads and per_quad else ""
        lines.append(f"| {name} | {r['seconds']:,.1f} | {r['cpu_s']:,.1f} | {r['peak_rss_mib']:,.0f} | "
                     f"{_gb(nbytes) if nbytes else ''} | {per} | {la.get(key, '')} |")

    if "gen" in p:
        row("generate the CSV (not timed)", p["gen"]["generator"], p["gen"]["csv_bytes"], "gen", per_quad=False)
    if "load" in p:
        sz = p["load"]["sizes"]
        row("**ours**: `kg load houjin` (store of the served generation)", p["load"], sz["store_bytes"], "load")
        for label, k in (("… search index + hub counts", "search_and_counts_bytes"), ("… changes (gzip patches)", "changes_bytes"),
                         ("… other local files", "other_local_bytes"), ("… whole data dir", "total_bytes")):
            lines.append(f"| {label} | | | | {_gb(sz[k])} | {sz[k] / quads:,.0f} | |" if quads else f"| {label} | | | | {_gb(sz[k])} | | |")
    if "dump" in p:
        d = p["dump"]
        lines.append(f"| dump all graphs to N-Quads (not timed) | {d['seconds']:,.1f} | | | {_gb(d['nquads_bytes'])} "
                     f"(zstd {_gb(d['zstd_bytes'])}) | {d['nquads_bytes'] / d['quads']:,.0f} | {la.get('dump', '')} |")
    if "floor" in p:
        row("**floor**: pyoxigraph `bulk_load` + flush", p["floor"], p["floor"]["store_bytes"], "floor")
    if "diff" in p:
        row(f"daily diff, {p['gen']['diff_rows']:,} rows (until served)", p["diff"], None, "diff")
    if "diff2" in p:
        row(f"next day's diff, {p['diff2']['diff_rows']:,} rows (until served)", p["diff2"], None, "diff2")
    if "abr" in p:
        row("ABR sample (relinks every corporation)", p["abr"], None, "abr")
    if "rload" in p:
        r = p["rload"]
        row("**ours into Oxigraph server** (`KG_STORE=sparql`)", r, r["engine_bytes"], "rload")
        lines.append(f"| … the server process during it | | {r['server_cpu_s']:,.1f} | {r['server_peak_rss_mib']:,.0f} | | | |")
    if "rdiff" in p:
        r = p["rdiff"]
        row("daily diff into Oxigraph server", r, r["engine_bytes"], "rdiff")
        lines.append(f"| … the server process during it | | {r['server_cpu_s']:,.1f} | {r['server_peak_rss_mib']:,.0f} | | | |")
    if "rdiff2" in p:
        r = p["rdiff2"]
        row("next day's diff into Oxigraph server", r, r["engine_bytes"], "rdiff2")
        lines.append(f"| … the server process during it | | {r['server_cpu_s']:,.1f} | {r['server_peak_rss_mib']:,.0f} | | | |")
    if "oxload" in p:
        row("**`oxigraph load`** of the same quads", p["oxload"], p["oxload"]["store_bytes"], "oxload")
    s = merged.get("summary", {})
    if "ratio_ours_floor" in s:
        r = s["ratio_ours_floor"]
        lines += ["", f"ours / floor: wall **{r['wall']}x**, CPU **{r['cpu']}x**, peak RSS **{r['memory']}x**; "
                      f"store bytes per quad {s['ours']['store_bytes_per_quad']} vs {s['floor'].get('bytes_per_quad')}"]
    if "ratio_remote_oxload" in s:
        r = s["ratio_remote_oxload"]
        lines += ["", f"remote load / `oxigraph load`: wall **{r['wall']}x**, CPU (ours + server) **{r['cpu_ours_plus_server']}x**"]
    for key, title in (("queries", "embedded: `kg serve` vs `oxigraph serve-read-only` (same directory)"),
                       ("rqueries", "Oxigraph server: `kg serve` (KG_STORE=sparql) vs the server's /query"),
                       ("vqueries", "Virtuoso: `kg serve` (KG_STORE=sparql) vs Virtuoso's /sparql")):
        if key not in p:
            continue
        lines += ["", f"Queries, {title}; time limit {p[key]['time_limit_s']:.0f} s on both; median / max of the runs "
                      f"(5 runs, 2 when one takes over 5 s, 1 when it fails); load average {la.get(key, '')}:", "",
                  "| query | ours | engine |", "|---|---|---|"]
        for slug, q in p[key]["queries"].items():
            limit = p[key]["time_limit_s"]
            lines.append(f"| {slug} | {_cell(q['ours'], limit)} | {_cell(q['engine'], limit)} |")
    for key, title in (("wrk", "embedded"), ("rwrk", "Oxigraph server")):
        if key not in p:
            continue
        w = p[key]
        lines += ["", f"One-entity SELECT, wrk c={w['connections']}, {w['duration_s']} s, {title} (load average {la.get(key, '')}):", "",
                  "| server | req/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|"]
        for name, r in (("kg serve", w["ours"]), ("engine", w["engine"])):
            lines.append(f"| {name} | {r['requests_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non_2xx']} |")
        lines.append(f"| ratio kg / engine | **{w['ratio_rps']}x** | {w['ratio_p50']}x | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        print(markdown(json.loads(Path(sys.argv[2]).read_text())))
        sys.exit(0)
    if sys.argv[1:2] == ["--report-work"]:  # a run still going: the phases done so far
        work, rows = Path(sys.argv[2]), int(sys.argv[3])
        phases = {p: json.loads((work / f"{p}.json").read_text()) for p in PHASES if (work / f"{p}.json").exists()}
        print(markdown({"rows": rows, "machine": "2 cores, 24 GiB, shared", "date": time.strftime("%Y-%m-%d"),
                        "phases": phases, "summary": summary(phases)}))
        sys.exit(0)
    sys.exit(main())
