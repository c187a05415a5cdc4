"""Does Oxigraph server compact a ``?no_transaction`` bulk load on its own, and does a write wait?

Why: at the national size a load's first write after its records' bulk POST waited 369-499 s
(bench/README.md, sessions 13-15), and the redesign that would move the links, metadata and
switch into the one bulk stream only pays if the engine does that compaction without being asked
to write. Each run starts ``oxigraph serve`` on a fresh location, POSTs ``--quads`` synthetic
N-Quads (26 per subject, as a corporation's description) to ``/store?no_transaction`` in one
chunked request, then either writes one triple at once (``--mode now``) or first waits until
the server's CPU has stayed still for 15 s (``--mode still``). The write is an ``INSERT DATA``
(``--write update``) or a second, small bulk POST (``--write bulk``, 1,000 quads, as a load's
links or metadata are). It prints the server's CPU seconds and store bytes at each point::

    python bench/bench_bulk_compaction.py --quads 5000000 --mode still
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_national import cpu_of, du  # noqa: E402
from servers import free_port, wait_ready  # noqa: E402


def quads(n: int):
    """``n`` quads in 4 graphs, subjects ascending as the NTA's file is, in 1 MiB chunks."""
    out, size = [], 0
    for i in range(n):
        s, p = divmod(i, 26)
        line = (f'<http://example.org/c/{s:013d}> <http://example.org/p/{p}> "value {s} {p} 株式会社" '
                f'<http://example.org/g/{s % 4}> .\n').encode()
        out.append(line)
        size += len(line)
        if size >= 1 << 20:
            yield b"".join(out)
            out, size = [], 0
    if out:
        yield b"".join(out)


def request(port: int, method: str, path: str, body, content_type: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=7200)
    t = time.monotonic()
    conn.request(method, path, body=body, headers={"Content-Type": content_type},
                 encode_chunked=not isinstance(body, bytes))
    status = conn.getresponse().status
    conn.close()
    return status, time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quads", type=int, default=5_000_000)
    ap.add_argument("--mode", choices=("now", "still"), default="still")
    ap.add_argument("--write", choices=("update", "bulk"), default="update")
    ap.add_argument("--oxigraph", default=shutil.which("oxigraph") or "oxigraph")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bulk-compaction-"))
    port = free_port()
    server = subprocess.Popen([args.oxigraph, "serve", "--location", str(work / "db"), "--bind", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D")
        status, took = request(port, "POST", "/store?no_transaction", quads(args.quads), "application/n-quads")
        print(f"bulk POST of {args.quads:,} quads: {status} in {took:.1f} s; server CPU {cpu_of(server.pid):.1f} s, "
              f"store {du(work / 'db') / 1e6:.0f} MB")
        if args.mode == "still":
            t, still = time.monotonic(), 0
            start = last = cpu_of(server.pid)
            while still < 3:
                time.sleep(5)
                now = cpu_of(server.pid)
                still, last = (still + 1 if now - last < 0.05 else 0), now
            print(f"no request: the server worked on for {time.monotonic() - t - 15:.0f} s, {last - start:.1f} CPU s; "
                  f"store {du(work / 'db') / 1e6:.0f} MB")
        before = cpu_of(server.pid)
        if args.write == "bulk":
            small = b"".join(f"<http://x/s{i}> <http://x/p> <http://x/o{i}> <http://example.org/g/x> .\n".encode()
                             for i in range(1000))
            status, took = request(port, "POST", "/store?no_transaction", small, "application/n-quads")
        else:
            status, took = request(port, "POST", "/update",
                                   b"INSERT DATA { GRAPH <http://example.org/g/x> { <http://x/a> <http://x/b> <http://x/c> } }",
                                   "application/sparql-update")
        print(f"{args.write} write: {status} in {took:.3f} s (server CPU meanwhile {cpu_of(server.pid) - before:.1f} s)")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
