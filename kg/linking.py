"""Links between registries (データがつながる), kept in graph/links.

* corporation → town: the NTA street address (丁目番地等) normalised — full/half width, 漢数字 and
  arabic 丁目, ケ/ヶ/が/ガ/ヵ, の/ノ/之, 大字/字 prefixes, spaces — and matched against the ABR towns
  of the corporation's municipality, longest name first. The level reached is data:
  ``kg:addressMatchLevel`` → town (大字 + 丁目 or 小字), oaza (大字・町 only) or municipality.
* local government corporation (kind 201, number ``…000020`` + 全国地方公共団体コード) ↔ its
  municipality or prefecture (``kg:localGovernmentArea`` / ``kg:localGovernment``).

* support program → competent authority (``cv:hasCompetentAuthority``) and legal basis
  (``cv:hasLegalResource`` + a ``kg:LegalBasisMatch`` node with the text found): see
  :func:`link_programs`.

Links are recomputed for what a load touched (the corporations it wrote, or every corporation
of the municipalities whose towns it wrote), so a daily diff does not relink millions.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import pyoxigraph as ox

from kg.iri import Minter
from kg.rdf import CPSV, CV, DCTERMS, ELI, IRI, LOCN, RDF, ROV, Literal, nquad

LEVELS = ("town", "oaza", "municipality")

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十百千]+(?=丁目|番|号|地割|線|条)")
_VARIANTS = str.maketrans({"ヶ": "ケ", "ヵ": "ケ", "が": "ケ", "ガ": "ケ", "ノ": "の", "之": "の",
                           "‐": "-", "－": "-", "―": "-", "−": "-", "–": "-", "—": "-"})
_PREFIX = re.compile(r"^(?:大字|字)+")
_SPACE = re.compile(r"\s+")


def kanji_to_int(text: str) -> int:
    """漢数字 → int: 二十三 → 23, 百五 → 105, 二〇 → 20.

    >>> kanji_to_int("二十三"), kanji_to_int("百五"), kanji_to_int("十"), kanji_to_int("二〇")
    (23, 105, 10, 20)
    """
    if all(c in _KANJI_DIGITS for c in text):
        return int("".join(str(_KANJI_DIGITS[c]) for c in text))
    total, current = 0, 0
    for c in text:
        if c in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[c] if current else _KANJI_DIGITS[c]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[c]
            total += (current or 1) * unit
            current = 0
    return total + current


def normalize(text: str) -> str:
    """One spelling for the ways Japanese addresses are written.

    >>> normalize("大字 霞ヶ関 三丁目１－１")
    '霞ケ関3丁目1-1'
    >>> normalize("霞が関３丁目") == normalize("霞ケ関三丁目")
    True
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = _SPACE.sub("", text).translate(_VARIANTS)
    text = _KANJI_NUMBER.sub(lambda m: str(kanji_to_int(m.group())), text)
    return _PREFIX.sub("", text)


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
    def from_store(cls, store: ox.Store, m: Minter, municipalities: set[str] | None = None) -> "TownIndex":
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
        base = normalize(oaza)
        if chome_number:
            entry.add(f"{base}{int(chome_number)}丁目", "town", town)
            entry.add(base, "oaza", None)
            entry.parents.add(base)
        elif koaza:
            entry.add(base + normalize(koaza), "town", town)
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
        text = normalize(street)
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


def _corporations(store: ox.Store, m: Minter, selection: Iterable[str] | None):
    """(corporation, municipality, street) of the current corporations (all, or a selection)."""
    houjin = ox.NamedNode(m.graph("houjin"))
    muni_p, addr_p, street_p = (ox.NamedNode(m.term("municipality")), ox.NamedNode(LOCN.address),
                                ox.NamedNode(m.term("streetNumber")))
    if selection is None:
        q = f"""SELECT ?c ?muni ?street WHERE {{ GRAPH <{houjin.value}> {{
            ?c a <{ROV.RegisteredOrganization}> ; <{muni_p.value}> ?muni .
            OPTIONAL {{ ?c <{LOCN.address}>/<{street_p.value}> ?street FILTER(lang(?street) = "ja") }} }} }}"""
        for s in store.query(q):
            yield s["c"].value, s["muni"].value, s["street"].value if s["street"] else ""
        return
    for corp in selection:
        c = ox.NamedNode(corp)
        munis = [q.object.value for q in store.quads_for_pattern(c, muni_p, None, houjin)]
        if not munis:
            continue
        street = ""
        for a in store.quads_for_pattern(c, addr_p, None, houjin):
            for q in store.quads_for_pattern(a.object, street_p, None, houjin):
                if isinstance(q.object, ox.Literal) and q.object.language == "ja":
                    street = q.object.value
        yield corp, munis[0], street


def update_links(store: ox.Store, m: Minter, *, corporations: Iterable[str] | None = None,
                 municipalities: set[str] | None = None, full: bool = False, rows=None) -> LinkStats:
    """Recompute links: all of them (``full``), or those of some corporations / municipalities.

    ``rows`` (kg.summary.Summary of what a houjin load wrote) supply municipality and street
    without reading them back from the store; with ``full`` they must cover every corporation.
    """
    full = full or (rows is None and corporations is None and municipalities is None)
    links = ox.NamedNode(m.graph("links"))
    town_p, level_p = m.term("town"), m.term("addressMatchLevel")
    empty = next(iter(store.quads_for_pattern(None, None, None, links)), None) is None
    if full and not empty:
        store.remove_graph(links)
        empty = True
    selection: Iterable[str] | None
    if full:
        selection = None
    elif municipalities is not None:
        muni_p = ox.NamedNode(m.term("municipality"))
        houjin = ox.NamedNode(m.graph("houjin"))
        selected = set(corporations or ())
        for muni in municipalities:
            for q in store.quads_for_pattern(None, muni_p, ox.NamedNode(muni), houjin):
                if isinstance(q.subject, ox.NamedNode) and "#" not in q.subject.value:
                    selected.add(q.subject.value)
        selection = selected
    else:
        selection = corporations
    index = TownIndex.from_store(store, m)
    stats = LinkStats()
    lines: list[str] = []
    doomed: list[ox.Quad] = []
    if not empty and selection is not None:
        # every selected corporation loses its old links, including those deleted by this load
        selection = list(selection)
        for corp in selection:
            for p in (town_p, level_p):
                doomed.extend(store.quads_for_pattern(ox.NamedNode(corp), ox.NamedNode(p), None, links))
    if rows is not None:
        registered = str(ROV.RegisteredOrganization)

        def from_rows():
            for r in rows:
                if not empty:  # the row's corporation loses its old links (also when deleted now)
                    for p in (town_p, level_p):
                        doomed.extend(store.quads_for_pattern(ox.NamedNode(r.focus), ox.NamedNode(p), None, links))
                if r.action == "upsert" and r.cls == registered and r.municipality:
                    yield r.focus, r.municipality, r.street
        source = from_rows()
    else:
        source = _corporations(store, m, selection)
    # links go to a scratch file and one bulk load: a million corporations must not sit in memory
    import tempfile

    fd, scratch = tempfile.mkstemp(prefix="links-", suffix=".nq")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for corp, muni, street in source:
                level, town = index.match(muni, street)
                stats.corporations += 1
                stats.levels[level] += 1
                lines.append(nquad(corp, level_p, m.code("address-match-level", level), links.value))
                if town:
                    lines.append(nquad(corp, town_p, IRI(town), links.value))
                if len(lines) >= 50_000:
                    out.write("".join(lines))
                    lines.clear()
            out.write("".join(lines))
            written = out.tell()
        if doomed:
            for start in range(0, len(doomed), 20_000):
                chunk = doomed[start:start + 20_000]
                store.update("DELETE DATA { " + " .\n".join(f"GRAPH <{links.value}> {{ {q.triple} }}" for q in chunk) + " }")
        if written:
            if written < 8 << 20:
                store.load(path=scratch, format=ox.RdfFormat.N_QUADS)
            else:
                store.bulk_load(path=scratch, format=ox.RdfFormat.N_QUADS)
    finally:
        os.unlink(scratch)
    stats.local_governments = _link_local_governments(store, m)
    if full:  # the graph was rebuilt from nothing: program links too
        stats.programs = link_programs(store, m)
    return stats


def _link_local_governments(store: ox.Store, m: Minter) -> int:
    """Kind-201 corporations numbered 000020 + lg_code ↔ the municipality or prefecture of that code."""
    links = m.graph("links")
    area_p, gov_p = m.term("localGovernmentArea"), m.term("localGovernment")
    store.update(f"DELETE WHERE {{ GRAPH <{links}> {{ ?c <{area_p}> ?a }} }} ;"
                 f"DELETE WHERE {{ GRAPH <{links}> {{ ?a <{gov_p}> ?c }} }}")
    q = f"""SELECT ?c ?n WHERE {{ GRAPH <{m.graph('houjin')}> {{
        ?c a <{ROV.RegisteredOrganization}> ; <{ROV.orgType}> <{m.code('corporation-kind', '201')}> ;
           <{DCTERMS.identifier}> ?n FILTER(SUBSTR(?n, 2, 6) = "000020") }} }}"""
    abr = ox.NamedNode(m.graph("abr"))
    lines = []
    for s in store.query(q):
        lg = s["n"].value[7:]
        for area in (m.municipality(lg), m.prefecture(lg)):
            if next(iter(store.quads_for_pattern(ox.NamedNode(area), ox.NamedNode(RDF.type), None, abr)), None):
                lines.append(nquad(s["c"].value, area_p, area, links))
                lines.append(nquad(area, gov_p, IRI(s["c"].value), links))
                break
    if lines:
        store.load(input="".join(lines), format=ox.RdfFormat.N_QUADS)
    return len(lines) // 2


# ---- support programs → competent authority, legal basis ---------------------------------------------

_LAW_NUMERAL = re.compile(r"[〇一二三四五六七八九十百千]+(?=年|号)")
_AFTER_LAW = ("施行令", "施行規則", "施行細則")


def law_text_key(text: str) -> str:
    """One spelling for finding law titles and law numbers in text.

    NFKC, no spaces, 元年 as 1年, 漢数字 before 年/号 as digits (e-Gov writes 平成十一年法律第百二十七号,
    programs often 平成11年法律第127号).

    >>> law_text_key("平成十一年法律第百二十七号") == law_text_key("平成11年 法律第127号")
    True
    """
    text = _SPACE.sub("", unicodedata.normalize("NFKC", text or "")).replace("元年", "1年")
    return _LAW_NUMERAL.sub(lambda m: str(kanji_to_int(m.group())), text)


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


class LawMatcher:
    """Finds laws in a text by their titles and law numbers (法令番号).

    A title or number shared by several laws (e.g. the many 「…の一部を改正する法律」) is ambiguous
    and left out; a match inside a longer match is dropped (行政手続法 in 行政手続法施行令 when that
    law is loaded), and so is one followed by 施行令/施行規則/施行細則 (another law); a title of
    fewer than three characters (民法) must not follow another kanji (住民法 is not 民法).
    """

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, str]] = {}   # key → {law IRI: text as stored}
        self.lengths: dict[str, list[int]] = defaultdict(list)

    def add(self, law: str, text: str) -> None:
        key = law_text_key(text)
        if len(key) < 2:
            return
        laws = self.keys.setdefault(key, {})
        laws.setdefault(law, text)
        if len(key) not in self.lengths[key[-1]]:
            self.lengths[key[-1]].append(len(key))

    def find(self, text: str) -> dict[str, set[str]]:
        """Law IRI → the stored titles/numbers of it that appear in ``text``."""
        norm = law_text_key(text)
        found: list[tuple[int, int, str]] = []
        for end, ch in enumerate(norm, 1):
            for length in self.lengths.get(ch, ()):
                start = end - length
                if start >= 0 and norm[start:end] in self.keys:
                    found.append((start, end, norm[start:end]))
        out: dict[str, set[str]] = defaultdict(set)
        for start, end, key in found:
            if any(s <= start and end <= e and e - s > end - start for s, e, _ in found):
                continue
            if norm.startswith(_AFTER_LAW, end):
                continue
            if len(key) < 3 and start > 0 and _is_kanji(norm[start - 1]):
                continue
            laws = self.keys[key]
            if len(laws) == 1:
                for law, stored in laws.items():
                    out[law].add(stored)
        return dict(out)

    @classmethod
    def from_store(cls, store: ox.Store, m: Minter) -> "LawMatcher":
        """Current titles (dcterms:title), titles of every revision (eli:title) and law numbers
        (eli:number) of the laws (eli:LegalResource; not their subdivisions, which also have
        titles and numbers)."""
        matcher = cls()
        q = f"""SELECT ?law ?text WHERE {{ GRAPH <{m.graph('laws')}> {{
            ?law a <{ELI.LegalResource}> .
            {{ ?law <{DCTERMS.title}> ?text }} UNION {{ ?law <{ELI.number}> ?text }}
            UNION {{ ?rev <{ELI.realizes}> ?law ; <{ELI.title}> ?text }} }} }}"""
        for s in store.query(q):
            matcher.add(s["law"].value, s["text"].value)
        return matcher


@dataclass
class ProgramLinkStats:
    programs: int = 0
    authorities: int = 0      # programs linked to their competent authority
    unmatched: int = 0        # named an institution that matches no kind-101/201 corporation
    ambiguous: int = 0        # named one that matches several (and the target areas do not decide)
    with_legal_basis: int = 0
    legal_bases: int = 0      # program → law links

    def describe(self) -> str:
        return (f"{self.programs:,} programs: competent authority found for {self.authorities:,} "
                f"({self.unmatched:,} names matched no corporation, {self.ambiguous:,} several), "
                f"legal basis for {self.with_legal_basis:,} ({self.legal_bases:,} laws)")

    def summary(self) -> str:
        return "links: " + self.describe()


def _program_link_quads(store: ox.Store, m: Minter) -> list[ox.Quad]:
    """The program links now in graph/links (subjects under id/program/ only)."""
    links = ox.NamedNode(m.graph("links"))
    prefix = m.id + "program/"
    out: list[ox.Quad] = []
    for p in (CV.hasCompetentAuthority, CV.hasLegalResource, m.term("legalBasis")):
        for q in store.quads_for_pattern(None, ox.NamedNode(p), None, links):
            if not q.subject.value.startswith(prefix):
                continue
            out.append(q)
            if p == m.term("legalBasis"):
                out.extend(store.quads_for_pattern(q.object, None, None, links))
    return out


def _authorities(store: ox.Store, m: Minter) -> dict[str, list[tuple[str, str | None, bool]]]:
    """normalize(name) → [(corporation, its prefecture, active)] of kinds 101 (国の機関) and 201 (地方公共団体)."""
    q = f"""SELECT ?c ?name ?pref ?status WHERE {{ GRAPH <{m.graph('houjin')}> {{
        VALUES ?kind {{ <{m.code('corporation-kind', '101')}> <{m.code('corporation-kind', '201')}> }}
        ?c a <{ROV.RegisteredOrganization}> ; <{ROV.orgType}> ?kind ; <{ROV.legalName}> ?name .
        FILTER(lang(?name) = "ja")
        OPTIONAL {{ ?c <{m.term('prefecture')}> ?pref }} OPTIONAL {{ ?c <{ROV.orgStatus}> ?status }} }} }}"""
    closed = m.code("corporation-status", "closed")
    index: dict[str, list[tuple[str, str | None, bool]]] = defaultdict(list)
    for s in store.query(q):
        entry = (s["c"].value, s["pref"].value if s["pref"] else None, not (s["status"] and s["status"].value == closed))
        if entry not in index[normalize(s["name"].value)]:
            index[normalize(s["name"].value)].append(entry)
    return index


def link_programs(store: ox.Store, m: Minter) -> ProgramLinkStats:
    """Recompute every program link in graph/links (programs are few: thousands, not millions).

    * competent authority: the corporation of kind 101 or 201 whose Japanese name equals the
      program's ``kg:institutionName`` after :func:`normalize`; closed ones only if no active one
      matches; several matches are decided by the program's target prefectures, else left out.
    * legal basis: the laws whose title or law number appears in the program's title, catch phrase
      or description (:class:`LawMatcher`): ``cv:hasLegalResource`` to the law, and a node
      ``{program}#legal-basis-{law_id}`` (``kg:LegalBasisMatch``) with ``kg:matchedLaw`` and
      ``kg:matchedText`` (the title or number found), linked by ``kg:legalBasis``.

    Only triples about programs are replaced; the corporation links are left alone.
    """
    links = m.graph("links")
    for q in dict.fromkeys(_program_link_quads(store, m)):
        store.remove(q)
    stats = ProgramLinkStats()
    programs_g = m.graph("programs")
    rows = list(store.query(f"""SELECT ?p ?title ?catch ?desc ?inst WHERE {{ GRAPH <{programs_g}> {{
        ?p a <{CPSV.PublicService}> .
        OPTIONAL {{ ?p <{DCTERMS.title}> ?title }} OPTIONAL {{ ?p <{m.term('catchPhrase')}> ?catch }}
        OPTIONAL {{ ?p <{DCTERMS.description}> ?desc }} OPTIONAL {{ ?p <{m.term('institutionName')}> ?inst }} }} }}"""))
    if not rows:
        return stats
    areas: dict[str, set[str]] = defaultdict(set)
    for s in store.query(f"""SELECT ?p ?a ?part WHERE {{ GRAPH <{programs_g}> {{ ?p <{DCTERMS.spatial}> ?a }}
            OPTIONAL {{ GRAPH <{m.graph('codes')}> {{ ?a <{DCTERMS.hasPart}> ?part }} }} }}"""):
        areas[s["p"].value].add(s["part"].value if s["part"] else s["a"].value)
    authorities = _authorities(store, m)
    laws = LawMatcher.from_store(store, m)
    basis_p, law_p, text_p, match_class = (m.term("legalBasis"), m.term("matchedLaw"), m.term("matchedText"),
                                           m.term("LegalBasisMatch"))
    lines: list[str] = []
    seen: set[str] = set()
    for s in rows:
        program = s["p"].value
        if program in seen:  # the shapes allow one title etc., but do not trust a re-validated store blindly
            continue
        seen.add(program)
        stats.programs += 1
        if s["inst"]:
            candidates = authorities.get(normalize(s["inst"].value), [])
            if any(active for _, _, active in candidates):
                candidates = [c for c in candidates if c[2]]
            if len(candidates) > 1:
                candidates = [c for c in candidates if c[1] in areas[program]] or candidates
            if len(candidates) == 1:
                stats.authorities += 1
                lines.append(nquad(program, CV.hasCompetentAuthority, IRI(candidates[0][0]), links))
            elif candidates:
                stats.ambiguous += 1
            else:
                stats.unmatched += 1
        text = "\n".join(s[v].value for v in ("title", "catch", "desc") if s[v])
        found = laws.find(text)
        if found:
            stats.with_legal_basis += 1
        for law, texts in sorted(found.items()):
            stats.legal_bases += 1
            node = IRI(f"{program}#legal-basis-{law.rsplit('/', 1)[-1]}")
            lines += [nquad(program, CV.hasLegalResource, IRI(law), links), nquad(program, basis_p, node, links),
                      nquad(node, RDF.type, match_class, links), nquad(node, law_p, IRI(law), links)]
            lines += [nquad(node, text_p, Literal(t, None, "ja"), links) for t in sorted(texts)]
    if lines:
        store.load(input="".join(lines), format=ox.RdfFormat.N_QUADS)
    return stats
