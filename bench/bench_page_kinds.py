#!/usr/bin/env python3
"""Time each kind of entity page against a baseline revision of the code, in one run.

    python bench/bench_page_kinds.py [--baseline 62bfbcc] [--requests 40] [--rounds 2]

Loads the demo into a temporary data directory, then serves that one directory twice, one after
the other and ``--rounds`` times each: with this working tree's code and with the ``--baseline``
revision's (``git archive`` into a temporary tree laid out as the installed package, put first on
PYTHONPATH). For each kind of page (the ones of ``bench/screenshots.py``) it takes the first
request (nothing cached in the worker) and the median of ``--requests`` more, one client at a time,
and prints new/old ratios. One worker and one query process, so that a request is not shared out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from screenshots import _free_port  # noqa: E402

KINDS = {
    "corporation": "/doc/corporation/7000012050002", "closed corporation": "/doc/corporation/1040001042029",
    "municipality": "/doc/municipality/131059", "town": "/doc/town/131059-0006002",
    "law": "/doc/law/411AC0000000127", "article": "/doc/law/411AC0000000127/article/1",
    "program": "/doc/program/jgrants-a0WDEMO0000000001A", "code concept": "/doc/code/corporation-kind/301",
    "code scheme": "/doc/code/corporation-kind", "ontology term": "/def/Town",
}


def baseline_tree(rev: str, into: Path) -> Path:
    """The baseline's files laid out as the installed package (kg/ with web/, ontologies/, ... in it)."""
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(HERE.parent), "archive", "-o", str(archive), rev], check=True)
    src = into / "src"
    with tarfile.open(archive) as t:
        t.extractall(src, filter="data")
    root = into / "tree"
    shutil.copytree(src / "kg", root / "kg")
    for name in ("web", "ontologies", "shapes", "loaders"):
        shutil.copytree(src / name, root / "kg" / name)
    return root


def serve(data: Path, pythonpath: str | None, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "KG_DATA_DIR": str(data), "KG_HOST": "127.0.0.1", "KG_PORT": str(port),
           "KG_BASE_URI": "http://localhost:8000/", "KG_WORKERS": "1", "KG_QUERY_PROCESSES": "1"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve"], env=env, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"kg serve did not start: {log}")


def timed(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/html"}), timeout=30) as r:
        r.read()
    return (time.perf_counter() - started) * 1000


def measure(url: str, n: int) -> dict[str, tuple[float, float]]:
    out = {}
    for kind, path in KINDS.items():
        first = timed(url + path)
        out[kind] = (first, statistics.median(timed(url + path) for _ in range(n)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="62bfbcc")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old_tree = baseline_tree(args.baseline, tmp)
        data = tmp / "data"
        subprocess.run([sys.executable, "-m", "kg.cli", "demo", "--no-serve"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "KG_DATA_DIR": str(data), "KG_BASE_URI": "http://localhost:8000/"})
        results: dict[str, list[dict]] = {"new": [], "old": []}
        for _ in range(args.rounds):
            for name, path in (("old", str(old_tree)), ("new", None)):
                proc, url = serve(data, path, tmp / f"{name}.log")
                try:
                    law = urllib.request.urlopen(url + KINDS["law"]).read().decode()
                    if ('class="lawtext"' in law) != (name == "new"):  # the code we meant is serving
                        raise SystemExit(f"the {name} server does not serve the {name} code")
                    results[name].append(measure(url, args.requests))
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
    print(f"{'page':<20} {'old first':>10} {'new first':>10} {'old median':>11} {'new median':>11} {'new/old':>8}")
    for kind in KINDS:
        old_first = statistics.mean(r[kind][0] for r in results["old"])
        new_first = statistics.mean(r[kind][0] for r in results["new"])
        old_med = statistics.mean(r[kind][1] for r in results["old"])
        new_med = statistics.mean(r[kind][1] for r in results["new"])
        print(f"{kind:<20} {old_first:>8.1f}ms {new_first:>8.1f}ms {old_med:>9.1f}ms {new_med:>9.1f}ms {new_med / old_med:>7.2f}x")


if __name__ == "__main__":
    main()
