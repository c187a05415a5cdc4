"""One module per source format: read files, yield records, map them to triples.

Every loader implements :class:`kg.load.contract.Loader`; the shared pipeline
(:mod:`kg.load.pipeline`) does validation, writing, provenance and reports.
"""

from __future__ import annotations

from importlib import import_module

from kg.load.contract import Loader

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


#: source name → "module:function" that saves live API responses for `kg fetch SOURCE`
FETCHERS: dict[str, str] = {"jgrants": "jgrants_api:fetch_jgrants"}


def fetcher(source: str):
    """(fetch function, its error class) of a source that can be fetched live."""
    module, func = FETCHERS[source].split(":")
    mod = import_module(f"{__name__}.{module}")
    return getattr(mod, func), mod.FetchError
