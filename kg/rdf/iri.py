"""The one place that mints IRIs (the README's table "What the graph looks like"), and reads them back.

Everything is relative to the ``base`` setting, so a store loaded under one base is consistent.
Each method quotes its own arguments (:func:`segment`): callers pass source values as they are,
and a malformed value still yields a well-formed IRI that the shapes then reject with a reason.
Fragment nodes (an address, a past record, a point) are ``{entity}#{name}``, and fragments of a
fragment ``{fragment}-{name}``: "an entity is its subject plus its fragment nodes" rests on that.

>>> m = Minter("https://kg.example.jp/")
>>> m.corporation("1000011000005")
'https://kg.example.jp/id/corporation/1000011000005'
>>> m.municipality_from_codes("13", "101")
'https://kg.example.jp/id/municipality/131016'
>>> m.code("corporation-kind", "301")
'https://kg.example.jp/id/code/corporation-kind/301'
>>> m.fragment(m.corporation("1000011000005"), "address")
'https://kg.example.jp/id/corporation/1000011000005#address'
>>> m.law_article("405AC0000000088", "38_3", suppl="original")
'https://kg.example.jp/id/law/405AC0000000088/suppl/original/article/38_3'
>>> m.local_path("https://kg.example.jp/id/town/131016-0001001"), m.local_path("http://elsewhere/x")
('/id/town/131016-0001001', None)
>>> m.parse("https://kg.example.jp/id/town/131016-0001001#point")
('town', '131016-0001001', 'point')
>>> m.shorten("http://www.w3.org/ns/regorg#legalName")
'rov:legalName'
"""

from __future__ import annotations

import re
from urllib.parse import quote

from kg.rdf.checkdigits import local_government_code
from kg.rdf.terms import IRI
from kg.rdf.vocab import STANDARD_PREFIXES

#: a character no IRI holds (SPARQL's IRIREF excludes controls, space and <>"{}|^`\)
NOT_IN_AN_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')

DATASETS = ("houjin", "abr", "laws", "programs")
GRAPHS = DATASETS + ("links", "statistics", "ontology", "codes", "meta")

#: the publishers' own pages and LOD that entities link out to
GBIZINFO = "http://hojin-info.go.jp/data/"
ESTAT_SAC = "http://data.e-stat.go.jp/lod/sac/C"
EGOV_LAW = "https://laws.e-gov.go.jp/law/"
JGRANTS = "https://www.jgrants-portal.go.jp/subsidy/"


def segment(text: str, *, keep: str = "") -> str:
    """``text`` as one path segment: ``A-Z a-z 0-9 _ . - ~`` (and ``keep``) as is, the rest
    percent-encoded (UTF-8).

    >>> segment("131016"), segment("新宿区"), segment("1:3", keep=":")
    ('131016', '%E6%96%B0%E5%AE%BF%E5%8C%BA', '1:3')
    """
    if text.isascii() and text.isalnum():
        return text
    return quote(text, safe=keep)


def fragment_prefix(iri: str) -> str:
    """What the fragment nodes of ``iri`` start with (``#`` for an entity, ``-`` for a fragment)."""
    return iri + ("-" if "#" in iri else "#")


class Terms:
    """Our vocabulary terms and code concepts under one base, minted once: mapping runs per row.

    ``terms.effectiveDate`` is ``{base}def/effectiveDate`` (an attribute from its first use on);
    ``terms.code(scheme, value)`` memoises :meth:`Minter.code`.

    >>> t = Minter("https://kg.example.jp/").terms
    >>> t.effectiveDate, t.code("era", "4")
    ('https://kg.example.jp/def/effectiveDate', 'https://kg.example.jp/id/code/era/4')
    """

    def __init__(self, minter: "Minter"):
        self._minter = minter
        self._codes: dict[tuple[str, str], IRI] = {}

    def __getattr__(self, name: str) -> IRI:
        if name.startswith("_"):
            raise AttributeError(name)
        iri = self._minter.term(name)
        setattr(self, name, iri)
        return iri

    def code(self, scheme: str, value: str) -> IRI:
        iri = self._codes.get((scheme, value))
        if iri is None:
            iri = self._codes[(scheme, value)] = self._minter.code(scheme, value)
        return iri


class Minter:
    """Mints every IRI of the graph under one base."""

    def __init__(self, base: str):
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base
        self.id = base + "id/"
        self.def_ = base + "def/"
        self.terms = Terms(self)

    # ---- vocabulary and infrastructure -------------------------------------------------------
    def term(self, name: str) -> IRI:
        return IRI(self.def_ + name)

    def graph(self, name: str) -> IRI:
        if name not in GRAPHS:
            raise ValueError(f"unknown graph {name!r}; one of {', '.join(GRAPHS)}")
        return IRI(f"{self.base}graph/{name}")

    def engine_graph(self, graph: str, generation: str) -> IRI:
        """The graph of a remote engine that holds ``generation``'s version of ``graph``
        (:mod:`kg.store.remote_generations`); never served under this name."""
        return IRI(f"{graph}/{generation}")

    def generations_graph(self) -> IRI:
        """The remote engine's pointer graph: which generation is current, and its graphs."""
        return IRI(f"{self.base}graph/generations")

    def generation(self, name: str) -> IRI:
        return IRI(f"{self.base}graph/generations#{name}")

    def code(self, scheme: str, code: str) -> IRI:
        return IRI(f"{self.id}code/{scheme}/{segment(code)}")

    def scheme(self, scheme: str) -> IRI:
        return IRI(f"{self.id}code/{scheme}")

    def endpoint(self) -> IRI:
        """This service's SPARQL endpoint, as configured (never as a request's Host header says)."""
        return IRI(self.base + "sparql")

    def load(self, load_id: str) -> IRI:
        return IRI(f"{self.base}load/{load_id}")

    def load_source(self, load_id: str, index: int) -> IRI:
        """The ``index``-th file a load used (its checksum is the fragment ``#sha256``)."""
        return IRI(f"{self.load(load_id)}/source/{index}")

    @staticmethod
    def fragment(iri: str, name: str) -> IRI:
        """A node that belongs to ``iri``: ``{iri}#{name}`` (``{iri}-{name}`` under a fragment)."""
        return IRI(fragment_prefix(iri) + name)

    # ---- registries ----------------------------------------------------------------------------
    def corporation(self, number: str) -> IRI:
        return IRI(f"{self.id}corporation/{segment(number)}")

    @classmethod
    def corporation_record(cls, corporation: str, key: str) -> IRI:
        """A past state of a corporation (a history row), keyed by a hash of its content."""
        return cls.fragment(corporation, f"record-{key}")

    def prefecture(self, lg_code: str) -> IRI:
        return IRI(f"{self.id}prefecture/{segment(lg_code)}")

    def municipality(self, lg_code: str) -> IRI:
        return IRI(f"{self.id}municipality/{segment(lg_code)}")

    def prefecture_from_code(self, pref2: str) -> IRI:
        return self.prefecture(local_government_code(pref2 + "000"))

    def municipality_from_codes(self, pref2: str, city3: str) -> IRI:
        return self.municipality(local_government_code(pref2 + city3))

    def local_government_area(self, kind: str, pref2: str, city3: str) -> IRI:
        """The prefecture or municipality of NTA codes; a malformed code still mints an IRI
        (under the same kind, its text quoted) so that the shapes can say what is wrong."""
        code5 = pref2 + city3
        if len(code5) == 5 and code5.isdigit() and code5.isascii():
            return self.prefecture_from_code(pref2) if kind == "prefecture" else self.municipality_from_codes(pref2, city3)
        return IRI(f"{self.id}{kind}/{segment(code5)}")

    def town(self, lg_code: str, machiaza_id: str) -> IRI:
        return IRI(f"{self.id}town/{segment(lg_code)}-{segment(machiaza_id)}")

    def statistics(self, slug: str) -> IRI:
        """A load-time statistics cube (:mod:`kg.load.statistics`): ``id/statistics/{slug}``."""
        return IRI(f"{self.id}statistics/{segment(slug)}")

    def municipality_of_town(self, town: str) -> IRI:
        """The municipality a 町字 IRI (:meth:`town`) belongs to, read from the IRI itself.

        >>> Minter("http://x/").municipality_of_town("http://x/id/town/131059-0001001")
        'http://x/id/municipality/131059'
        """
        return self.municipality(town.rsplit("/", 1)[-1].split("-", 1)[0])

    def block(self, lg_code: str, machiaza_id: str, blk_id: str) -> IRI:
        """住居表示 街区: ``id/block/{lg6}-{machiaza7}-{blk_id}``."""
        return IRI(f"{self.id}block/{segment(lg_code)}-{segment(machiaza_id)}-{segment(blk_id)}")

    def residence(self, lg_code: str, machiaza_id: str, blk_id: str, rsdt_id: str, rsdt2_id: str = "") -> IRI:
        """住居表示 住居: ``id/residence/{lg6}-{machiaza7}-{blk_id}-{rsdt_id}[-{rsdt2_id}]``."""
        tail = f"-{segment(rsdt2_id)}" if rsdt2_id else ""
        return IRI(f"{self.id}residence/{segment(lg_code)}-{segment(machiaza_id)}-{segment(blk_id)}-"
                   f"{segment(rsdt_id)}{tail}")

    def parcel(self, lg_code: str, machiaza_id: str, prc_id: str) -> IRI:
        """地番: ``id/parcel/{lg6}-{machiaza7}-{prc_id 15}``."""
        return IRI(f"{self.id}parcel/{segment(lg_code)}-{segment(machiaza_id)}-{segment(prc_id)}")

    @classmethod
    def point(cls, entity: str) -> IRI:
        """The representative point (``geo:Geometry``) of a place."""
        return cls.fragment(entity, "point")

    def law(self, law_id: str) -> IRI:
        return IRI(f"{self.id}law/{segment(law_id)}")

    def law_revision(self, revision_id: str) -> IRI:
        return IRI(f"{self.id}law-revision/{segment(revision_id)}")

    def law_part(self, law_id: str, *path: str) -> IRI:
        """A subdivision of a law's current text: ``law_part(id, "chapter", "1", "section", "2")``.

        Segments are the XML ``Num`` values (branch numbers such as ``38_3_2`` and ranges such
        as ``1:3`` kept); anything else is percent-encoded.
        """
        return IRI(self.law(law_id) + "".join("/" + segment(s, keep=":%") for s in path))

    def law_suppl(self, law_id: str, key: str) -> IRI:
        """附則: ``…/suppl/{key}``, ``key`` from its AmendLawNum (``original`` for the law's own)."""
        return self.law_part(law_id, "suppl", key)

    def law_article(self, law_id: str, num: str, suppl: str | None = None) -> IRI:
        """``…/article/{Num}`` in the main provision, ``…/suppl/{key}/article/{Num}`` in a 附則."""
        return self.law_part(law_id, *(("suppl", suppl) if suppl else ()), "article", num)

    def law_paragraph(self, law_id: str, article: str, num: str, suppl: str | None = None) -> IRI:
        """``…/article/{Num}/paragraph/{Num}`` (and the same under ``…/suppl/{key}``)."""
        return self.law_part(law_id, *(("suppl", suppl) if suppl else ()), "article", article, "paragraph", num)

    def program(self, jgrants_id: str) -> IRI:
        return IRI(f"{self.id}program/jgrants-{segment(jgrants_id)}")

    @classmethod
    def program_round(cls, program: str, round_id: str) -> IRI:
        """An application round (workflow) of a program."""
        return cls.fragment(program, f"round-{segment(round_id)}")

    @classmethod
    def legal_basis_match(cls, program: str, law: str) -> IRI:
        """The node recording that a program's text names a law (``kg:LegalBasisMatch``)."""
        return cls.fragment(program, f"legal-basis-{law.rsplit('/', 1)[-1]}")

    # ---- links out -----------------------------------------------------------------------------
    @staticmethod
    def gbizinfo(number: str) -> IRI:
        return IRI(GBIZINFO + segment(number))

    @staticmethod
    def estat_area(code5: str) -> IRI:
        """e-Stat's statistical area code (5 digits, no check digit)."""
        return IRI(ESTAT_SAC + segment(code5))

    @staticmethod
    def egov_law(law_id: str) -> IRI:
        return IRI(EGOV_LAW + segment(law_id))

    @staticmethod
    def jgrants_page(jgrants_id: str) -> IRI:
        return IRI(JGRANTS + quote(jgrants_id, safe=""))

    # ---- reading IRIs back ---------------------------------------------------------------------
    def local_path(self, iri: str) -> str | None:
        """The path under which this server serves ``iri`` (``/id/…``, ``/def/…``), or None
        for an IRI outside the base: pages link by local path so a copy browses under any host."""
        return "/" + iri[len(self.base):] if iri.startswith(self.base) else None

    def document_path(self, iri: str) -> str | None:
        """The page of an entity (``/doc/…`` for ``/id/…``; ``/def/…`` is its own page)."""
        local = self.local_path(iri)
        if local is None:
            return None
        return "/doc/" + local[len("/id/"):] if local.startswith("/id/") else local

    def parse(self, iri: str) -> tuple[str, str, str | None] | None:
        """``(kind, identifier, fragment)`` of one of our entity IRIs, or None."""
        if not iri.startswith(self.id):
            return None
        rest, _, frag = iri[len(self.id):].partition("#")
        kind, _, ident = rest.partition("/")
        return kind, ident, frag or None

    def prefixes(self) -> dict[str, str]:
        """Prefixes for queries and serialisations: the standard ones plus ours."""
        ours = {"kg": self.def_, "kgid": self.id, "corp": self.id + "corporation/",
                "muni": self.id + "municipality/", "pref": self.id + "prefecture/",
                "code": self.id + "code/", "graph": self.base + "graph/",
                "stat": self.id + "statistics/"}
        return {**STANDARD_PREFIXES, **ours}

    def shorten(self, iri: str) -> str:
        """``prefix:local`` when a known prefix covers ``iri`` with a simple local name."""
        for prefix, ns in self.prefixes().items():
            if iri.startswith(ns) and "/" not in iri[len(ns):] and "#" not in iri[len(ns):]:
                return f"{prefix}:{iri[len(ns):]}"
        return iri
