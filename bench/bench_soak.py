#!/usr/bin/env python3
"""Soak: well-behaved clients beside hostile ones, against a real `kg serve`, loopback only.

    python bench/bench_soak.py [--rows 100000] [--duration 60] [--clients 32] [--data-dir DIR]

1. generate and load N corporations (not timed; or reuse --data-dir);
2. start `kg serve` (KG_QUERY_TIMEOUT=5) on 127.0.0.1;
3. run A (baseline): `--clients` threads of well-behaved clients, each from its own loopback
   address (127.0.0.10+i), cycling one-entity SELECTs, entity pages and searches, for --duration s;
4. run B (hostile): the same clients plus, from 127.0.0.2-4: one runaway cross-join every 5 s,
   200 idle sockets held open (from four addresses, each reopened when
   the server closes it), and one 10,000-deep nested query a second;
5. print, per run: requests, errors of the well-behaved clients (anything but 200), their p50
   and p99 latency and req/s; the hostile requests' statuses. Everything is bounded in count and
   time and stops by itself.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from servers import free_port, prepare, wait_ready  # noqa: E402

import argparse  # noqa: E402


def _request(port: int, source: str, path: str, method: str = "GET", body: bytes | None = None,
             headers: dict | None = None, timeout: float = 30) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def _numbers(data_dir: Path, port: int) -> list[str]:
    q = "SELECT ?n WHERE { ?c a <http://www.w3.org/ns/regorg#RegisteredOrganization> ; <http://purl.org/dc/terms/identifier> ?n } LIMIT 1000"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/sparql?" + urllib.parse.urlencode({"query": q}), headers={"Accept": "application/sparql-results+json"})
    return [b["n"]["value"] for b in json.loads(c.getresponse().read())["results"]["bindings"]]


def good_client(port: int, source: str, numbers: list[str], stop: float, latencies: list, statuses: Counter, seed: int):
    rng = random.Random(seed)
    while time.monotonic() < stop:
        n = rng.choice(numbers)
        kind = rng.random()
        if kind < 0.5:
            q = f"SELECT ?p ?o WHERE {{ <http://localhost:8000/id/corporation/{n}> ?p ?o }}"
            path = "/sparql?" + urllib.parse.urlencode({"query": q})
            headers = {"Accept": "application/sparql-results+json"}
        elif kind < 0.8:
            path, headers = f"/doc/corporation/{n}", {"Accept": "text/html"}
        else:
            path, headers = "/search.json?" + urllib.parse.urlencode({"q": rng.choice(["株式会社", "商事", "東京", "工業"])}), {}
        started = time.monotonic()
        try:
            status = _request(port, source, path, headers=headers)
        except OSError as exc:
            status = type(exc).__name__
        latencies.append(time.monotonic() - started)
        statuses[status] += 1


def hostile(port: int, stop: float, statuses: Counter):
    cross = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    deep = "SELECT * WHERE " + "{" * 10_000 + "?s ?p ?o" + "}" * 10_000

    def runaway():
        try:
            statuses["runaway " + str(_request(port, "127.0.0.2", "/sparql", "POST", cross.encode(),
                                               {"Content-Type": "application/sparql-query"}))] += 1
        except OSError as exc:
            statuses["runaway " + type(exc).__name__] += 1

    def runaways():  # one every 5 s, each answered (503) when the time limit stops it
        started = []
        while time.monotonic() < stop:
            t = threading.Thread(target=runaway)
            t.start()
            started.append(t)
            time.sleep(5)
        for t in started:
            t.join(30)

    def deeps():
        while time.monotonic() < stop:
            try:
                statuses["deep " + str(_request(port, "127.0.0.3", "/sparql", "POST", deep.encode(),
                                                {"Content-Type": "application/sparql-query"}))] += 1
            except OSError as exc:
                statuses["deep " + type(exc).__name__] += 1
            time.sleep(1)

    def open_idle(i: int) -> socket.socket:
        s = socket.socket()
        s.bind((f"127.0.0.{4 + i % 4}", 0))  # four addresses, 50 each
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        return s

    def idles():  # 200 sockets that never send a byte, each reopened as soon as the server closes it
        idle = [open_idle(i) for i in range(200)]
        while time.monotonic() < stop:
            time.sleep(0.5)
            for i, s in enumerate(idle):
                try:
                    gone = s.recv(4096) is not None  # b"" (closed) or a 503 before closing
                except BlockingIOError:
                    continue
                except OSError:
                    gone = True
                if gone:
                    s.close()
                    statuses["idle socket closed by the server"] += 1
                    idle[i] = open_idle(i)
        for s in idle:
            s.close()

    threads = [threading.Thread(target=runaways), threading.Thread(target=deeps), threading.Thread(target=idles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run(port: int, numbers: list[str], clients: int, duration: int, with_hostile: bool) -> dict:
    stop = time.monotonic() + duration
    latencies: list[float] = []
    statuses: Counter = Counter()
    bad: Counter = Counter()
    threads = [threading.Thread(target=good_client, args=(port, f"127.0.0.{10 + i}", numbers, stop, latencies, statuses, i))
               for i in range(clients)]
    if with_hostile:
        threads.append(threading.Thread(target=hostile, args=(port, stop, bad)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    elapsed = time.monotonic() - started
    latencies.sort()
    total = sum(statuses.values())
    return {"hostile": with_hostile, "requests": total, "errors": total - statuses.get(200, 0),
            "statuses": {str(k): v for k, v in statuses.items()},
            "req_per_s": round(total / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2) if latencies else None,
            "hostile_statuses": dict(bad)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    tmp, data_dir, env, _ = prepare(args, "kg-soak-")
    port = free_port()
    env = {**env, "KG_PORT": str(port), "KG_HOST": "127.0.0.1", "KG_QUERY_TIMEOUT": "5"}
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("kg")), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        numbers = _numbers(data_dir, port)
        results = [run(port, numbers, args.clients, args.duration, False),
                   run(port, numbers, args.clients, args.duration, True)]
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    stderr = (tmp / "serve.log").read_text()
    restarts = stderr.count("kg: worker process")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "soak.json").write_text(json.dumps({"rows": args.rows, "duration": args.duration, "clients": args.clients,
                                               "runs": results, "server_restarts": restarts,
                                               "server_log": stderr[-4000:]}, indent=2))
    print(f"server log: {tmp / 'serve.log'} ({restarts} worker processes restarted)")
    print("| run | requests | errors | req/s | p50 ms | p99 ms | hostile answers |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {'with hostile traffic' if r['hostile'] else 'baseline'} | {r['requests']:,} | {r['errors']} | "
              f"{r['req_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['hostile_statuses'] or '-'} |")


if __name__ == "__main__":
    main()
