"""Helpers for server tests: apps over seeded stores, and the W3C manifest reader."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.store import Generations

CONFORMANCE = Path(__file__).parent.parent.parent / "shared" / "conformance"


def seed(data_dir: Path, graphs: dict[str, Path | str]) -> None:
    """Make a fresh generation holding exactly ``graphs`` (name → N-Triples file or text)."""
    gens = Generations(data_dir)
    with gens.build(copy_all_except=[g.value for g in (gens.open_current().named_graphs() if gens.open_current() else [])]) as b:
        b.store.clear()
        for name, data in graphs.items():
            if isinstance(data, Path):
                b.store.load(path=str(data), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
            else:
                b.store.load(input=data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
