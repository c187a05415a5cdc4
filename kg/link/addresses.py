"""Corporation → town 町字: the NTA street address (丁目番地等) normalised
(:func:`kg.text.normalize.address_key`: width, 漢数字 and arabic 丁目, ケ/ヶ/が/ガ/ヵ, の/ノ/之, 大字/字
prefixes, spaces) and matched against the ABR towns of the corporation's municipality, longest
name first. The level reached is data: ``kg:addressMatchLevel`` → town (大字 + 丁目 or 小字),
oaza (大字・町 only) or municipality.

Links are recomputed for what a load touched (the corporations it wrote, or every corporation
of the municipalities whose towns it wrote), so a daily diff does not relink millions.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Iterable, Iterator, NamedTuple

from kg.link.local_governments import area_lines, link_local_governments, local_government_code, typed_areas
from kg.rdf import DCTERMS, GEO, IRI, LOCN, RDFS, ROV, Literal, nquad
from kg.rdf.iri import Minter
from kg.store.interface import Quad, ReadStore, WriteStore
from kg.store.piped import load_as_written
from kg.text.normalize import address_key

if TYPE_CHECKING:
    from kg.link.programs import ProgramLinkStats

LEVELS = ("town", "oaza", "municipality")

#: what a 丁目 written as a bare number looks like right after its 大字 ("湯島2-6-2", "湯島2の6")
_CHOME_NUMBER = re.compile(r"(\d+)(丁目|-|の|番)")


class TownMatch(NamedTuple):
    """Where a normalised address key stops matching a municipality's towns.

    ``length`` is how many characters of the key the match used, so the caller (the geocoder)
    knows the unmatched remainder; ``level`` and ``town`` are what the links store.
    """

    level: str
    town: str | None
    length: int


@dataclass
class _Municipality:
    keys: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # key → (level, town)
    parents: set[str] = field(default_factory=set)  # 大字 keys that have 丁目 or 小字 towns
    longest: int = 0

    def add(self, key: str, level: str, town: str | None) -> None:
        if not key:
            return
        old = self.keys.get(key)
        if old is None or (old[0] == "oaza" and level == "town") or (old[1] is None and town):
            self.keys[key] = (level, town)
        self.longest = max(self.longest, len(key))


@dataclass(frozen=True)
class TownDetails:
    """What the geocoder answers about a town besides its IRI (read with the index, in one query)."""

    label: str
    machiaza_id: str
    wkt: str | None
    residential: bool = False   # 住居表示 (so 街区/住居 may be loaded for it)


class TownIndex:
    """ABR towns by municipality, under normalised names (大字, 大字+丁目, 大字+小字).

    One matcher for the corporation links (:meth:`match`, on an NTA street within a known
    municipality) and for the geocoder (:meth:`match_key`, on the part of a free-text address
    after its municipality), so both read addresses the same way.
    """

    def __init__(self) -> None:
        self.by_municipality: dict[str, _Municipality] = defaultdict(_Municipality)
        #: town IRI → label, 町字ID and point; filled by ``from_store(details=True)``
        self.details: dict[str, TownDetails] = {}

    @classmethod
    def from_store(cls, store: ReadStore, m: Minter, municipalities: set[str] | None = None, *,
                   details: bool = False) -> "TownIndex":
        """The towns of the store (of some municipalities); ``details`` also reads each town's
        label, 町字ID and representative point (the geocoder's answer)."""
        index = cls()
        more = ""
        residential = str(m.code("rsdt-addr-flag", "1"))
        if details:
            more = f"""OPTIONAL {{ ?town <{RDFS.label}> ?label FILTER(lang(?label) = "ja") }}
            OPTIONAL {{ ?town <{m.term('machiazaId')}> ?mid }}
            OPTIONAL {{ ?town <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt }}
            OPTIONAL {{ ?town <{m.term('residentialAddressIndication')}> ?flag }}"""
        q = f"""SELECT ?town ?muni ?oaza ?chome ?koaza{' ?label ?mid ?wkt ?flag' if details else ''} WHERE {{ GRAPH <{m.graph('abr')}> {{
            ?town a <{m.term('Town')}> ; <{DCTERMS.isPartOf}> ?muni .
            OPTIONAL {{ ?town <{m.term('oazaCho')}> ?oaza FILTER(lang(?oaza) = "ja") }}
            OPTIONAL {{ ?town <{m.term('chomeNumber')}> ?chome }}
            OPTIONAL {{ ?town <{m.term('koaza')}> ?koaza FILTER(lang(?koaza) = "ja") }} {more} }} }}"""
        for s in store.query(q):
            muni = s["muni"].value
            if municipalities is not None and muni not in municipalities:
                continue
            town = s["town"].value
            index.add(muni, town, s["oaza"].value if s["oaza"] else "",
                      s["chome"].value if s["chome"] else "", s["koaza"].value if s["koaza"] else "")
            if details:
                index.details[town] = TownDetails(s["label"].value if s["label"] else "",
                                                  s["mid"].value if s["mid"] else "",
                                                  s["wkt"].value if s["wkt"] else None,
                                                  s["flag"] is not None and s["flag"].value == residential)
        return index

    def add(self, municipality: str, town: str, oaza: str, chome_number: str, koaza: str) -> None:
        entry = self.by_municipality[municipality]
        base = address_key(oaza)
        if chome_number:
            entry.add(f"{base}{int(chome_number)}丁目", "town", town)
            entry.add(base, "oaza", None)
            entry.parents.add(base)
        elif koaza:
            entry.add(base + address_key(koaza), "town", town)
            entry.add(base, "oaza", None)
            entry.parents.add(base)
        else:
            entry.add(base, "oaza", town)

    def has_towns(self, municipality: str) -> bool:
        """Whether any town of the municipality is indexed (its 町字 file was loaded)."""
        entry = self.by_municipality.get(municipality)
        return entry is not None and bool(entry.keys)

    @staticmethod
    def _lookup(entry: _Municipality, text: str, shortest: int) -> tuple[str, str | None, int] | None:
        """The town level key longer than ``shortest`` that ``text`` starts with, if any."""
        for length in range(min(len(text), entry.longest), shortest, -1):
            found = entry.keys.get(text[:length])
            if found is not None and found[0] == "town":
                return found[0], found[1], length
        return None

    def match(self, municipality: str, street: str) -> tuple[str, str | None]:
        """(level, town IRI or None) for a street address in a municipality."""
        if municipality not in self.by_municipality:  # its towns are not loaded: nothing to normalise
            return "municipality", None
        found = self.match_key(municipality, address_key(street))
        return found.level, found.town

    def match_key(self, municipality: str, text: str) -> TownMatch:
        """The town an address key (:func:`~kg.text.normalize.address_key`) starts with, in a
        municipality, longest name first; ``length`` counts the characters of ``text`` used."""
        entry = self.by_municipality.get(municipality)
        if entry is None or not text:
            return TownMatch("municipality", None, 0)
        for length in range(min(len(text), entry.longest), 0, -1):
            found = entry.keys.get(text[:length])
            if found is None:
                continue
            level, town = found
            key = text[:length]
            if key not in entry.parents:
                # a 大字・町 with no 丁目 or 小字 under it is itself the town
                return TownMatch("town", town, length)
            # a name with 丁目 or 小字 under it (a 大字, or a 小字-only town of the same name, as
            # 屋久島町 has 安房 and 安房字前岳): a 丁目 or 小字 that follows is the deeper town
            if text[length:length + 1] == "字":
                # "勝浦字汐汲場4番地": the 小字 comes after a 字 marker
                deeper = self._lookup(entry, text[:length] + text[length + 1:], length)
                if deeper is not None:
                    return TownMatch(deeper[0], deeper[1], deeper[2] + 1)
            # "湯島2-6-2": a number right after the 大字 may be its 丁目
            chome = _CHOME_NUMBER.match(text, length)
            if chome:
                better = entry.keys.get(f"{key}{int(chome.group(1))}丁目")
                if better is not None:
                    used = chome.end() if chome.group(2) in ("-", "の") else chome.end(1)
                    return TownMatch(better[0], better[1], used)
            return TownMatch(level, town, length)
        return TownMatch("municipality", None, 0)


@dataclass
class LinkStats:
    corporations: int = 0
    levels: Counter = field(default_factory=Counter)
    local_governments: int = 0
    #: set when a full relink also recomputed the program links
    programs: "ProgramLinkStats | None" = None
    #: references (predicate, object) the links of a partial relink added minus removed, for
    #: the hub counts (:mod:`kg.store.hubs`); None after a full relink (the graph is recounted)
    refs: Counter | None = None

    def rates(self) -> dict[str, float]:
        return {level: (self.levels[level] / self.corporations if self.corporations else 0.0) for level in LEVELS}

    def summary(self) -> str:
        if not self.corporations:
            text = f"links: no corporations to link; {self.local_governments} local governments linked"
        else:
            parts = ", ".join(f"{level} {self.levels[level]:,} ({rate:.1%})" for level, rate in self.rates().items())
            text = (f"links: {self.corporations:,} corporations matched by level: {parts}; "
                    f"{self.local_governments:,} local governments linked to their areas")
        if self.programs is not None and self.programs.programs:
            text += "; " + self.programs.describe()
        return text


def _corporations(store: ReadStore, m: Minter, selection: Iterable[str] | None):
    """(corporation, municipality, street) of the current corporations (all, or a selection)."""
    houjin = m.graph("houjin")
    muni_p, street_p = m.term("municipality"), m.term("streetNumber")
    if selection is None:
        q = f"""SELECT ?c ?muni ?street WHERE {{ GRAPH <{houjin}> {{
            ?c a <{ROV.RegisteredOrganization}> ; <{muni_p}> ?muni .
            OPTIONAL {{ ?c <{LOCN.address}>/<{street_p}> ?street FILTER(lang(?street) = "ja") }} }} }}"""
        for s in store.query(q):
            yield str(s["c"]), str(s["muni"]), s["street"].value if s["street"] else ""
        return
    for corp in selection:
        munis = [str(q.object) for q in store.quads(corp, muni_p, None, houjin)]
        if not munis:
            continue
        street = ""
        for a in store.quads(corp, str(LOCN.address), None, houjin):
            for q in store.quads(a.object, street_p, None, houjin):
                if isinstance(q.object, Literal) and q.object.lang == "ja":
                    street = q.object.value
        yield corp, munis[0], street


def update_links(store: WriteStore, m: Minter, *, corporations: Iterable[str] | None = None,
                 municipalities: set[str] | None = None, full: bool = False, rows=None, tally=None) -> LinkStats:
    """Recompute links: all of them (``full``), or those of some corporations / municipalities.

    ``rows`` (kg.load.written.Summary of what a houjin load wrote) supply municipality and street
    without reading them back from the store; with ``full`` they must cover every corporation.
    ``tally`` (:class:`kg.load.statistics.Tally`) is told every ``kg:town`` and
    ``kg:addressMatchLevel`` link removed and added.
    """
    full = full or (rows is None and corporations is None and municipalities is None)
    links = m.graph("links")
    town_p, level_p = m.term("town"), m.term("addressMatchLevel")
    empty = not store.has(graph=links)
    if full and not empty:
        store.remove_graph(links)
        empty = True
    if full and tally is not None:
        tally.reset_links()
    linked: set[str] | None = None if full else set()  # a corporation selected twice is linked once
    selection: Iterable[str] | None
    if full:
        selection = None
    elif municipalities is not None:
        muni_p, houjin = m.term("municipality"), m.graph("houjin")
        selected = set(corporations or ())
        for muni in municipalities:
            for q in store.quads(None, muni_p, IRI(muni), houjin):
                if isinstance(q.subject, IRI) and "#" not in q.subject:
                    selected.add(str(q.subject))
        selection = selected
    else:
        selection = corporations
    index = TownIndex.from_store(store, m)
    stats = LinkStats(refs=None if full else Counter())
    doomed: list[Quad] = []
    if not empty and selection is not None:
        # every selected corporation loses its old links, including those deleted by this load
        selection = list(selection)
        doomed.extend(store.quads_of(selection, [town_p, level_p], links))
    if rows is not None:
        registered = str(ROV.RegisteredOrganization)

        def from_rows():
            batch: list[str] = []
            for r in rows:
                if not empty:  # the row's corporation loses its old links (also when deleted now)
                    batch.append(r.focus)
                    if len(batch) >= 5000:
                        doomed.extend(store.quads_of(batch, [town_p, level_p], links))
                        batch.clear()
                if r.action == "upsert" and r.cls == registered and r.municipality:
                    yield r.focus, r.municipality, r.street
            doomed.extend(store.quads_of(batch, [town_p, level_p], links))
        source = from_rows()
    else:
        source = _corporations(store, m, selection)
    write = _link_writer(m, index, source, stats, linked, tally)

    # N-Triples into the links graph (a new graph's lines are then the change feed's copy of it),
    # never held in memory whole: a million corporations
    if empty:  # nothing to remove first: the store loads the links as they are matched
        load_as_written(store, links, write)
    else:  # the old links go before the new are added: those wait in a scratch file
        fd, scratch = tempfile.mkstemp(prefix="links-", suffix=".nt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                written = write(out)
            if doomed:
                doomed = list(dict.fromkeys(doomed))
                store.remove(doomed)
                for q in doomed:
                    if stats.refs is not None:
                        stats.refs[(str(q.predicate), str(q.object))] -= 1
                    if tally is not None and q.predicate == town_p:
                        tally.link(str(q.object), -1)
                    elif tally is not None and q.predicate == level_p:
                        tally.level(str(q.object), -1)
            if written:
                store.add(path=scratch, fmt="ntriples", graph=links, bulk=written >= 8 << 20)
        finally:
            os.unlink(scratch)
    return _finish(store, m, stats, full=full)


class LinksAlongside:
    """The links of a fresh corporations dataset (addresses, local governments' areas), written
    into an engine while its records are, instead of after them.

    A thread follows the load's ``summaries`` as its mapping child writes them, until
    :attr:`written` is set (:class:`kg.load.written.SummaryFile` with ``until``), matches each and
    streams the links to the engine on a connection of its own; what it needs of the store (the
    towns, the areas) is read before the records. After the records of a national load the
    engine holds or slows every request while it compacts them: a links step after them took 914 s
    of a 2,989 s load into Oxigraph server on a core of its own (session 22); with nothing but
    small requests after the records the load took 2,178.6 s (session 25, bench/README.md).
    Not for the embedded store, whose bulk loads keep both cores (``loads_in_process``).

    :meth:`start` starts the thread once the mapping child is forked; :meth:`finish` ends it once
    the records are written; :meth:`abandon` when they are not, or when they were not streamed, or
    stopped ascending (then the full relink after the records does it all again).
    """

    def __init__(self, store: WriteStore, m: Minter, summaries: Path, *, tally=None):
        from kg.load.written import SummaryFile

        self.store, self.m = store, m
        # a thread's own event, not the indexer child's: a process killed while it waits on a
        # multiprocessing.Event makes every later set() of it wait for that process forever
        self.written = threading.Event()
        links = m.graph("links")
        if store.has(graph=links):  # program links of an earlier load: a full relink rewrites them
            store.remove_graph(links)
        if tally is not None:
            tally.reset_links()
        self.stats = LinkStats()
        rows = SummaryFile(summaries, dedupe=False, until=self.written)
        governments: dict[str, str] = {}  # local governments: linked to their areas from the rows too

        def source() -> Iterator[tuple[str, str, str]]:
            registered = str(ROV.RegisteredOrganization)
            for r in rows:
                if r.action != "upsert" or r.cls != registered:
                    continue
                if (code := local_government_code(m, r.focus, r.kind)) is not None:
                    governments[r.focus] = code
                if r.municipality:
                    yield r.focus, r.municipality, r.street

        # what the links need of the store is read here, before the records, and not in the thread:
        # the store's own reads stay on one thread, and after a national bulk load the engine
        # answers nothing for minutes while it compacts (bench/README.md, sessions 21-25)
        addresses = _link_writer(m, TownIndex.from_store(store, m), source(), self.stats, None, tally)
        areas = typed_areas(store, m)
        self._programs = store.has(graph=m.graph("programs"))

        def write(out: IO[str]) -> int:
            written = addresses(out)
            lines = area_lines(m, governments, areas, self.stats.refs)
            self.stats.local_governments = len(lines) // 2
            return written + out.write("".join(lines))

        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(links, write), name="kg-links-alongside",
                                        daemon=True)

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def start(self) -> None:
        """Start following, once the load's mapping child is forked (a fork copies no thread)."""
        self._thread.start()

    def _run(self, links: str, write: Callable[[IO[str]], int]) -> None:
        try:
            load_as_written(self.store, links, write)
        except BaseException as exc:  # raised by finish()
            self._failure.append(exc)

    def finish(self) -> LinkStats:
        """Wait for the last links (the records are written), then link what reads the records."""
        self.written.set()
        self._thread.join()
        if self._failure:
            raise self._failure[0]
        if self._programs:  # no request after the records unless there are programs to link
            from kg.link.programs import link_programs

            self.stats.programs = link_programs(self.store, self.m)
        return self.stats

    def abandon(self) -> None:
        """Stop following (the build failed, or is relinked in full): its error is not raised."""
        self.written.set()
        if self.started:
            self._thread.join()


def _finish(store: WriteStore, m: Minter, stats: LinkStats, *, full: bool) -> LinkStats:
    """The links that read the stored corporations (local governments; programs after a full relink)."""
    from kg.link.programs import link_programs

    stats.local_governments = link_local_governments(store, m, stats.refs)
    if full:  # the graph was rebuilt from nothing: program links too
        stats.programs = link_programs(store, m)
    return stats


def _link_writer(m: Minter, index: TownIndex, source: Iterable[tuple[str, str, str]], stats: LinkStats,
                 linked: set[str] | None, tally) -> Callable[[IO[str]], int]:
    """``write(out)``: the N-Triples of the address links of ``source`` (corporation,
    municipality, street), counted in ``stats`` and ``tally``; returns the characters written."""
    town_p, level_p = m.term("town"), m.term("addressMatchLevel")
    # each level's IRI, and its line but for the corporation (made once, not a million times)
    level_iris = {level: m.code("address-match-level", level) for level in LEVELS}
    level_tails = {level: nquad(IRI("x"), level_p, iri)[3:] for level, iri in level_iris.items()}

    def write(out: IO[str]) -> int:
        written = 0
        lines: list[str] = []
        for corp, muni, street in source:
            level, town = index.match(muni, street)
            stats.corporations += 1
            stats.levels[level] += 1
            level_iri = level_iris[level]
            lines.append(f"<{corp}>{level_tails[level]}")
            if town:
                lines.append(nquad(corp, town_p, IRI(town)))
            if linked is not None:
                if corp in linked:
                    continue  # its lines are written twice, stored (and counted) once
                linked.add(corp)
                stats.refs[(str(level_p), str(level_iri))] += 1
                if town:
                    stats.refs[(str(town_p), town)] += 1
            if tally is not None:
                tally.level(str(level_iri), 1)
                if town:
                    tally.link(town, 1)
            if len(lines) >= 50_000:
                written += out.write("".join(lines))
                lines.clear()
        return written + out.write("".join(lines))

    return write
