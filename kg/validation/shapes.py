"""The shapes of each dataset (``shapes/{dataset}.ttl`` with ``common.ttl``), compiled once."""

from __future__ import annotations

from functools import lru_cache

from kg.resources import graph_of, reference_graph, shape_files
from kg.validation.compiler import Validator, compile_shapes


@lru_cache(maxsize=16)
def validator_for(dataset: str, base: str) -> Validator:
    """The compiled shapes of a dataset (compiled once per process: they are immutable)."""
    return compile_shapes(graph_of(shape_files(dataset), base), reference_graph(base), base=base)
