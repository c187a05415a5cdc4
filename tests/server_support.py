"""Helpers for server tests: apps over seeded stores, and the W3C manifest reader."""

from __future__ import annotations

from pathlib import Path

from kg.store import open_home

CONFORMANCE = Path(__file__).parent.parent.parent / "shared" / "conformance"


def seed(data_dir: Path, graphs: dict[str, Path | str]) -> None:
    """Make a fresh generation holding exactly ``graphs`` (name → N-Triples file or text)."""
    home = open_home(data_dir)
    current = home.open_current()
    with home.build(copy_all_except=current.named_graphs() if current else []) as b:
        b.store.update("CLEAR ALL")
        for name, data in graphs.items():
            if isinstance(data, Path):
                b.store.add(path=data, fmt="ntriples", graph=name)
            else:
                b.store.add(text=data, fmt="ntriples", graph=name)
