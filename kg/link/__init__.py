"""Links between registries (データがつながる), kept in their own graph, ``graph/links``.

* :mod:`kg.link.addresses` -- corporation → town 町字 (and the level the match reached);
* :mod:`kg.link.local_governments` -- local government corporation ↔ its municipality or prefecture;
* :mod:`kg.link.programs` -- support program → competent authority and legal basis.

:func:`relink` is what a load calls: it keeps the links in step with what the load wrote, in
the same generation, so data and links switch together.
"""

from __future__ import annotations

from typing import Iterable

from kg.link.addresses import LinkStats, LinksAlongside, update_links
from kg.link.programs import ProgramLinkStats, link_programs
from kg.rdf.iri import Minter
from kg.store.interface import WriteStore

__all__ = ["LinkStats", "LinksAlongside", "ProgramLinkStats", "link_programs", "relink", "update_links"]


def relink(store: WriteStore, m: Minter, kind: str, *, full: bool, touched: Iterable[str] | None = None,
           rows=None, tally=None) -> "LinkStats | ProgramLinkStats":
    """Recompute the links a load of ``kind`` (a loader's ``relinks``) may have changed.

    ``full``: the dataset was empty or replaced. ``touched``: the entities an upsert wrote.
    ``rows``: the load's summaries (:mod:`kg.load.written`), which say where each corporation is.
    ``tally``: the load-time statistics (:class:`kg.load.statistics.Tally`) the links move.
    """
    if kind == "programs":  # only the program links (authority, legal basis) change
        return link_programs(store, m)
    if kind == "corporations" and rows is not None:
        # with `full` (an empty or replaced dataset) the rows are every corporation there is
        return update_links(store, m, full=full, rows=rows, tally=tally)
    if full or kind == "towns" or touched is None:
        # towns may change anywhere, or every corporation is new: recompute all links
        return update_links(store, m, full=True, tally=tally)
    return update_links(store, m, corporations=touched, tally=tally)
