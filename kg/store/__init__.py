"""The store: the interface the rest of the project talks to, and its implementation.

Only this package imports pyoxigraph. :func:`open_home` is the one accessor of the data: the
served version (``open_current()``) and building the next one (``build()``). See
:mod:`kg.store.interface` for what a store offers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kg.settings import Settings

from kg.store.interface import Build, Home, Quad, ReadStore, Result, Solutions, Triples, WriteStore


def open_home(where: "Settings | str | os.PathLike[str]", *, create: bool = True) -> Home:
    """The store: its served generation and the building of the next.

    ``where`` is the settings (``KG_STORE`` chooses the embedded store in ``KG_DATA_DIR`` or a
    remote engine) or, for the embedded store, just the data directory.
    """
    from kg.settings import Settings

    if isinstance(where, Settings):
        if where.store == "sparql":
            from kg.store.remote_generations import RemoteGenerations

            return RemoteGenerations(where, create=create)
        from kg.store.generations import Generations

        return Generations(where.data_path, create=create, bulk_slice=where.bulk_slice,
                           bulk_threads=where.bulk_threads)
    from kg.store.generations import Generations

    return Generations(where, create=create)


def serialize(triples, fmt: str, prefixes=None) -> bytes:
    """Triples built in Python (service description, catalogue) in an RDF format."""
    from kg.store.oxigraph import serialize as _serialize

    return _serialize(triples, fmt, prefixes)


def parse(data: bytes | str, fmt: str, *, base_iri: str | None = None) -> list[Quad]:
    """RDF text (a small document) as quads of :mod:`kg.rdf` terms."""
    from kg.store.oxigraph import parse as _parse

    return _parse(data, fmt, base_iri=base_iri)


__all__ = ["Build", "Home", "Quad", "ReadStore", "Result", "Solutions", "Triples", "WriteStore", "open_home",
           "serialize", "parse"]
