"""One module per source format: read files, yield records, map them to triples.

Every loader implements :class:`kg.loaders.base.Loader`; the shared pipeline
(:mod:`kg.pipeline`) does validation, writing, provenance and reports.
"""

from __future__ import annotations

from importlib import import_module

from .base import Loader

#: dataset name used on the command line → "module:class" of its loader (one line per loader)
REGISTRY: dict[str, str] = {
    "houjin": "houjin:HoujinLoader",
    "abr": "abr:AbrLoader",
    "laws": "laws:LawsLoader",
    "programs": "jgrants:JgrantsLoader",
}

#: Dataset names the CLI accepts, in the order the README lists them.
DATASET_NAMES = tuple(REGISTRY)


def get_loader(dataset: str) -> Loader:
    """The loader of a dataset name used on the command line (``kg load houjin ...``)."""
    module, cls = REGISTRY[dataset].split(":")
    return getattr(import_module(f"{__name__}.{module}"), cls)()
