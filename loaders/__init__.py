"""One module per source format: read files, yield records, map them to triples.

Every loader implements :class:`kg.loaders.base.Loader`; the shared pipeline
(:mod:`kg.pipeline`) does validation, writing, provenance and reports.
"""

from __future__ import annotations

from .base import Loader


def get_loader(dataset: str) -> Loader:
    """The loader of a dataset name used on the command line (``kg load houjin ...``)."""
    if dataset == "houjin":
        from .houjin import HoujinLoader

        return HoujinLoader()
    raise KeyError(dataset)


#: Dataset names the CLI accepts, in the order the README lists them.
DATASET_NAMES = ("houjin",)
