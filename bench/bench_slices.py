#!/usr/bin/env python3
"""pyoxigraph's bulk_load of one N-Triples file: whole, or in slices loaded N at a time.

    python bench/bench_slices.py FILE.nt --graph IRI [--slice 32M] [--threads 2]

``--slice 0`` hands the engine the path (its own loader, the floor of bench_load.py). Wall time,
CPU time and peak RSS of this process, into a fresh store beside FILE (removed afterwards). What
KG_BULK_SLICE and KG_BULK_THREADS were chosen from (bench/README.md, session 9).
"""

from __future__ import annotations

import argparse
import queue
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pyoxigraph as ox


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1:].upper() in units else int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--graph", required=True)
    ap.add_argument("--slice", default="32M")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    size, graph = _size(args.slice), ox.NamedNode(args.graph)
    where = Path(tempfile.mkdtemp(dir=args.file.parent))
    try:
        store = ox.Store(str(where))
        started = time.perf_counter()
        if size == 0:
            store.bulk_load(path=str(args.file), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        else:
            slices: queue.Queue = queue.Queue(maxsize=args.threads)

            def work() -> None:
                while (chunk := slices.get()) is not None:
                    store.bulk_load(input=chunk, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)

            workers = [threading.Thread(target=work) for _ in range(args.threads)]
            for w in workers:
                w.start()
            with open(args.file, "rb") as fh:
                tail = b""
                while data := fh.read(size):
                    data = tail + data
                    cut = data.rfind(b"\n") + 1
                    tail = data[cut:]
                    slices.put(data[:cut])
                if tail.strip():
                    slices.put(tail)
            for _ in workers:
                slices.put(None)
            for w in workers:
                w.join()
        store.flush()
        wall = time.perf_counter() - started
        ru = resource.getrusage(resource.RUSAGE_SELF)
        print(f"slice {args.slice} x{args.threads}: wall {wall:.1f} s, cpu {ru.ru_utime + ru.ru_stime:.1f} s, "
              f"peak RSS {ru.ru_maxrss >> 10} MiB, {len(store):,} quads")
    finally:
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
