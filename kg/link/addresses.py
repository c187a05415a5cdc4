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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from kg.link.local_governments import link_local_governments
from kg.rdf import DCTERMS, IRI, LOCN, ROV, Literal, nquad
from kg.rdf.iri import Minter
from kg.store.interface import Quad, ReadStore, WriteStore
from kg.text.normalize import address_key

if TYPE_CHECKING:
    from kg.link.programs import ProgramLinkStats

LEVELS = ("town", "oaza", "municipality")

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


class TownIndex:
    """ABR towns by municipality, under normalised names (大字, 大字+丁目, 大字+小字)."""

    def __init__(self) -> None:
        self.by_municipality: dict[str, _Municipality] = defaultdict(_Municipality)

    @classmethod
    def from_store(cls, store: ReadStore, m: Minter, municipalities: set[str] | None = None) -> "TownIndex":
        index = cls()
        q = f"""SELECT ?town ?muni ?oaza ?chome ?koaza WHERE {{ GRAPH <{m.graph('abr')}> {{
            ?town a <{m.term('Town')}> ; <{DCTERMS.isPartOf}> ?muni .
            OPTIONAL {{ ?town <{m.term('oazaCho')}> ?oaza FILTER(lang(?oaza) = "ja") }}
            OPTIONAL {{ ?town <{m.term('chomeNumber')}> ?chome }}
            OPTIONAL {{ ?town <{m.term('koaza')}> ?koaza FILTER(lang(?koaza) = "ja") }} }} }}"""
        for s in store.query(q):
            muni = s["muni"].value
            if municipalities is not None and muni not in municipalities:
                continue
            index.add(muni, s["town"].value, s["oaza"].value if s["oaza"] else "",
                      s["chome"].value if s["chome"] else "", s["koaza"].value if s["koaza"] else "")
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

    @staticmethod
    def _lookup(entry: _Municipality, text: str, shortest: int) -> tuple[str, str | None] | None:
        """The town level key longer than ``shortest`` that ``text`` starts with, if any."""
        for length in range(min(len(text), entry.longest), shortest, -1):
            found = entry.keys.get(text[:length])
            if found is not None and found[0] == "town":
                return found
        return None

    def match(self, municipality: str, street: str) -> tuple[str, str | None]:
        """(level, town IRI or None) for a street address in a municipality."""
        entry = self.by_municipality.get(municipality)
        if entry is None or not street:
            return "municipality", None
        text = address_key(street)
        for length in range(min(len(text), entry.longest), 0, -1):
            found = entry.keys.get(text[:length])
            if found is None:
                continue
            level, town = found
            key = text[:length]
            if level == "oaza" and key not in entry.parents:
                return "town", town  # a 大字・町 with no 丁目 or 小字 under it is itself the town
            if level == "oaza" and text[length:length + 1] == "字":
                # "勝浦字汐汲場4番地": the 小字 comes after a 字 marker
                deeper = self._lookup(entry, text[:length] + text[length + 1:], length)
                if deeper is not None:
                    return deeper
            if level == "oaza":
                # "湯島2-6-2": a number right after the 大字 may be its 丁目
                chome = re.match(r"(\d+)(?:丁目|-|の|番)", text[length:])
                if chome:
                    better = entry.keys.get(f"{text[:length]}{int(chome.group(1))}丁目")
                    if better is not None:
                        return better
            return level, town
        return "municipality", None


@dataclass
class LinkStats:
    corporations: int = 0
    levels: Counter = field(default_factory=Counter)
    local_governments: int = 0
    #: set when a full relink also recomputed the program links
    programs: "ProgramLinkStats | None" = None

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
                 municipalities: set[str] | None = None, full: bool = False, rows=None) -> LinkStats:
    """Recompute links: all of them (``full``), or those of some corporations / municipalities.

    ``rows`` (kg.load.written.Summary of what a houjin load wrote) supply municipality and street
    without reading them back from the store; with ``full`` they must cover every corporation.
    """
    from kg.link.programs import link_programs

    full = full or (rows is None and corporations is None and municipalities is None)
    links = m.graph("links")
    town_p, level_p = m.term("town"), m.term("addressMatchLevel")
    empty = not store.has(graph=links)
    if full and not empty:
        store.remove_graph(links)
        empty = True
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
    stats = LinkStats()
    lines: list[str] = []
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
    # links go to a scratch file and one bulk load: a million corporations must not sit in memory
    fd, scratch = tempfile.mkstemp(prefix="links-", suffix=".nq")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for corp, muni, street in source:
                level, town = index.match(muni, street)
                stats.corporations += 1
                stats.levels[level] += 1
                lines.append(nquad(corp, level_p, m.code("address-match-level", level), links))
                if town:
                    lines.append(nquad(corp, town_p, IRI(town), links))
                if len(lines) >= 50_000:
                    out.write("".join(lines))
                    lines.clear()
            out.write("".join(lines))
            written = out.tell()
        store.remove(doomed)
        if written:
            store.add(path=scratch, fmt="nquads", bulk=written >= 8 << 20)
    finally:
        os.unlink(scratch)
    stats.local_governments = link_local_governments(store, m)
    if full:  # the graph was rebuilt from nothing: program links too
        stats.programs = link_programs(store, m)
    return stats
