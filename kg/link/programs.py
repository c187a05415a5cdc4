"""Support program → competent authority (``cv:hasCompetentAuthority``) and legal basis
(``cv:hasLegalResource`` + a ``kg:LegalBasisMatch`` node with the text found)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from kg.rdf import CPSV, CV, DCTERMS, ELI, IRI, RDF, ROV, Literal, nquad
from kg.rdf.iri import Minter
from kg.store.interface import Quad, ReadStore, WriteStore
from kg.text.normalize import address_key, is_kanji, law_text_key


_AFTER_LAW = ("施行令", "施行規則", "施行細則")


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
            if len(key) < 3 and start > 0 and is_kanji(norm[start - 1]):
                continue
            laws = self.keys[key]
            if len(laws) == 1:
                for law, stored in laws.items():
                    out[law].add(stored)
        return dict(out)

    @classmethod
    def from_store(cls, store: ReadStore, m: Minter) -> "LawMatcher":
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
    #: references (predicate, object) added minus removed, for the hub counts (kg.store.hubs)
    refs: Counter = field(default_factory=Counter)

    def describe(self) -> str:
        return (f"{self.programs:,} programs: competent authority found for {self.authorities:,} "
                f"({self.unmatched:,} names matched no corporation, {self.ambiguous:,} several), "
                f"legal basis for {self.with_legal_basis:,} ({self.legal_bases:,} laws)")

    def summary(self) -> str:
        return "links: " + self.describe()


def _program_link_quads(store: ReadStore, m: Minter) -> list[Quad]:
    """The program links now in graph/links (subjects under id/program/ only)."""
    links = m.graph("links")
    prefix = m.id + "program/"
    out: list[Quad] = []
    for p in (CV.hasCompetentAuthority, CV.hasLegalResource, m.term("legalBasis")):
        for q in store.quads(None, p, None, links):
            if not q.subject.startswith(prefix):
                continue
            out.append(q)
            if p == m.term("legalBasis"):
                out.extend(store.quads(q.object, None, None, links))
    return out


def _authorities(store: ReadStore, m: Minter) -> dict[str, list[tuple[str, str | None, bool]]]:
    """address_key(name) → [(corporation, its prefecture, active)] of kinds 101 (国の機関) and 201 (地方公共団体)."""
    q = f"""SELECT ?c ?name ?pref ?status WHERE {{ GRAPH <{m.graph('houjin')}> {{
        VALUES ?kind {{ <{m.code('corporation-kind', '101')}> <{m.code('corporation-kind', '201')}> }}
        ?c a <{ROV.RegisteredOrganization}> ; <{ROV.orgType}> ?kind ; <{ROV.legalName}> ?name .
        FILTER(lang(?name) = "ja")
        OPTIONAL {{ ?c <{m.term('prefecture')}> ?pref }} OPTIONAL {{ ?c <{ROV.orgStatus}> ?status }} }} }}"""
    closed = m.code("corporation-status", "closed")
    index: dict[str, list[tuple[str, str | None, bool]]] = defaultdict(list)
    for s in store.query(q):
        entry = (s["c"].value, s["pref"].value if s["pref"] else None, not (s["status"] and s["status"].value == closed))
        if entry not in index[address_key(s["name"].value)]:
            index[address_key(s["name"].value)].append(entry)
    return index


def link_programs(store: WriteStore, m: Minter) -> ProgramLinkStats:
    """Recompute every program link in graph/links (programs are few: thousands, not millions).

    * competent authority: the corporation of kind 101 or 201 whose Japanese name equals the
      program's ``kg:institutionName`` after :func:`~kg.text.normalize.address_key`; closed ones only if no active one
      matches; several matches are decided by the program's target prefectures, else left out.
    * legal basis: the laws whose title or law number appears in the program's title, catch phrase
      or description (:class:`LawMatcher`): ``cv:hasLegalResource`` to the law, and a node
      ``{program}#legal-basis-{law_id}`` (``kg:LegalBasisMatch``) with ``kg:matchedLaw`` and
      ``kg:matchedText`` (the title or number found), linked by ``kg:legalBasis``.

    Only triples about programs are replaced; the corporation links are left alone.
    """
    links = m.graph("links")
    old = list(dict.fromkeys(_program_link_quads(store, m)))
    store.remove(old)
    stats = ProgramLinkStats()
    for q in old:
        if isinstance(q.object, IRI):
            stats.refs[(str(q.predicate), str(q.object))] -= 1
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
            candidates = authorities.get(address_key(s["inst"].value), [])
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
            node = m.legal_basis_match(program, law)
            lines += [nquad(program, CV.hasLegalResource, IRI(law), links), nquad(program, basis_p, node, links),
                      nquad(node, RDF.type, match_class, links), nquad(node, law_p, IRI(law), links)]
            lines += [nquad(node, text_p, Literal(t, None, "ja"), links) for t in sorted(texts)]
    lines = list(dict.fromkeys(lines))
    for line in lines:  # <s> <p> <o> <g> .: an IRI object holds no space
        _, p, o, _ = line.split(" ", 3)
        if o.startswith("<"):
            stats.refs[(p[1:-1], o[1:-1])] += 1
    if lines:
        store.add(text="".join(lines), fmt="nquads", bulk=True)  # a build's (not served): see kg.load.pipeline
    return stats
