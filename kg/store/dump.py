"""``kg dump``: gzip N-Quads of each graph of the served generation, for download and archiving."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kg.store.gzipped import SMALL, open_gzip
from kg.store.interface import ReadStore


def dump_graphs(store: ReadStore, out_dir: Path, *, graphs: list[str] | None = None) -> list[tuple[str, Path, int]]:
    """Write ``{name}.nq.gz`` per named graph; returns (graph, file, quads).

    The store writes each graph as N-Triples (fast, in the engine); the graph name is appended to
    every line while gzipping. A file appears only when complete (written beside it, renamed).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for g in store.named_graphs():
        if graphs and g not in graphs:
            continue
        name = g.rstrip("/").rsplit("/", 1)[-1]
        target = out_dir / f"{name}.nq.gz"
        fd, scratch = tempfile.mkstemp(prefix=".tmp-", suffix=".nt", dir=out_dir)
        os.close(fd)
        count = 0
        try:
            store.dump(g, Path(scratch))
            suffix = f" <{g}> .\n".encode()
            partial = target.with_name(target.name + ".part")
            with open(scratch, "rb") as src, open_gzip(partial, "wb", level=SMALL) as dst:
                while True:
                    lines = src.readlines(1 << 20)
                    if not lines:
                        break
                    count += len(lines)
                    dst.write(b"".join(line[:-3] + suffix if line.endswith(b" .\n") else line for line in lines))
            os.replace(partial, target)
        finally:
            os.unlink(scratch)
        written.append((g, target, count))
    return written
