"""`kg dump`: gzip N-Quads of each graph of the served generation, for download and archiving."""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import pyoxigraph as ox


def dump_graphs(store: ox.Store, out_dir: Path, *, graphs: list[str] | None = None) -> list[tuple[str, Path, int]]:
    """Write ``{name}.nq.gz`` per named graph; returns (graph, file, triples).

    pyoxigraph serialises each graph as N-Triples (fast, in Rust); the graph name is appended to
    every line while gzipping. A file appears only when complete (written beside it, renamed).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for g in sorted(store.named_graphs(), key=str):
        if not isinstance(g, ox.NamedNode) or (graphs and g.value not in graphs):
            continue
        name = g.value.rstrip("/").rsplit("/", 1)[-1]
        target = out_dir / f"{name}.nq.gz"
        fd, scratch = tempfile.mkstemp(prefix=".tmp-", suffix=".nt", dir=out_dir)
        os.close(fd)
        count = 0
        try:
            store.dump(scratch, ox.RdfFormat.N_TRIPLES, from_graph=g)
            suffix = f" <{g.value}> .\n".encode()
            partial = target.with_name(target.name + ".part")
            with open(scratch, "rb") as src, gzip.open(partial, "wb", compresslevel=6) as dst:
                while True:
                    lines = src.readlines(1 << 20)
                    if not lines:
                        break
                    count += len(lines)
                    dst.write(b"".join(line[:-3] + suffix if line.endswith(b" .\n") else line for line in lines))
            os.replace(partial, target)
        finally:
            os.unlink(scratch)
        written.append((g.value, target, count))
    return written
