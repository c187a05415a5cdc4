"""Files installed with the package: ontology, code lists, shapes, web assets, demo samples.

The Turtle files use relative IRIs (``<def/...>``, ``<id/code/...>``) so that one copy serves
any ``KG_BASE_URI``: they are resolved against the base when read.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import rdflib


def package_dir(name: str) -> Path:
    """Directory of an installed data package: 'ontologies', 'shapes', 'web', 'samples'."""
    return Path(str(resources.files(f"kg.{name}")))


def ontology_files() -> list[Path]:
    return [package_dir("ontologies") / "kg.ttl", package_dir("ontologies") / "labels.ttl"]


def code_list_files() -> list[Path]:
    return sorted((package_dir("ontologies") / "codes").glob("*.ttl"))


def shape_files(dataset: str | None = None) -> list[Path]:
    root = package_dir("shapes")
    if dataset is None:
        return sorted(root.glob("*.ttl"))
    return [root / "common.ttl", root / f"{dataset}.ttl"]


@lru_cache(maxsize=32)
def _parse(paths: tuple[Path, ...], base: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle", publicID=base)
    return graph


def graph_of(paths: list[Path], base: str) -> rdflib.Graph:
    """Parse Turtle files with relative IRIs resolved against ``base`` (cached; do not mutate)."""
    return _parse(tuple(paths), base)


def reference_graph(base: str) -> rdflib.Graph:
    """Ontology plus code lists: what sh:class constraints on code values are checked against."""
    return graph_of(ontology_files() + code_list_files(), base)
