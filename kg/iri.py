"""The one place that mints IRIs (DESIGN.md, Identifiers).

Everything is relative to the ``base`` setting, so a store loaded under one base is consistent.

>>> m = Minter("https://kg.example.jp/")
>>> m.corporation("1000011000005")
'https://kg.example.jp/id/corporation/1000011000005'
>>> m.municipality_from_codes("13", "101")
'https://kg.example.jp/id/municipality/131016'
>>> m.code("corporation-kind", "301")
'https://kg.example.jp/id/code/corporation-kind/301'
>>> m.graph("houjin")
'https://kg.example.jp/graph/houjin'
"""

from __future__ import annotations

from .checkdigits import local_government_code
from .rdf import IRI, STANDARD_PREFIXES

DATASETS = ("houjin", "abr", "laws", "programs")
GRAPHS = DATASETS + ("links", "ontology", "codes", "meta")

GBIZINFO = "http://hojin-info.go.jp/data/"
ESTAT_SAC = "http://data.e-stat.go.jp/lod/sac/C"
EGOV_LAW = "https://laws.e-gov.go.jp/law/"
JGRANTS = "https://www.jgrants-portal.go.jp/subsidy/"


class Minter:
    """Mints every IRI of the graph under one base."""

    def __init__(self, base: str):
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base
        self.id = base + "id/"
        self.def_ = base + "def/"

    # vocabulary and infrastructure
    def term(self, name: str) -> IRI:
        return IRI(self.def_ + name)

    def graph(self, name: str) -> IRI:
        if name not in GRAPHS:
            raise ValueError(f"unknown graph {name!r}; one of {', '.join(GRAPHS)}")
        return IRI(f"{self.base}graph/{name}")

    def code(self, scheme: str, code: str) -> IRI:
        return IRI(f"{self.id}code/{scheme}/{code}")

    def scheme(self, scheme: str) -> IRI:
        return IRI(f"{self.id}code/{scheme}")

    def load(self, load_id: str) -> IRI:
        return IRI(f"{self.base}load/{load_id}")

    # registries
    def corporation(self, number: str) -> IRI:
        return IRI(f"{self.id}corporation/{number}")

    def prefecture(self, lg_code: str) -> IRI:
        return IRI(f"{self.id}prefecture/{lg_code}")

    def municipality(self, lg_code: str) -> IRI:
        return IRI(f"{self.id}municipality/{lg_code}")

    def prefecture_from_code(self, pref2: str) -> IRI:
        return self.prefecture(local_government_code(pref2 + "000"))

    def municipality_from_codes(self, pref2: str, city3: str) -> IRI:
        return self.municipality(local_government_code(pref2 + city3))

    def town(self, lg_code: str, machiaza_id: str) -> IRI:
        return IRI(f"{self.id}town/{lg_code}-{machiaza_id}")

    def block(self, lg_code: str, machiaza_id: str, blk_id: str) -> IRI:
        """住居表示 街区: ``id/block/{lg6}-{machiaza7}-{blk_id}``."""
        return IRI(f"{self.id}block/{lg_code}-{machiaza_id}-{blk_id}")

    def residence(self, lg_code: str, machiaza_id: str, blk_id: str, rsdt_id: str, rsdt2_id: str = "") -> IRI:
        """住居表示 住居: ``id/residence/{lg6}-{machiaza7}-{blk_id}-{rsdt_id}[-{rsdt2_id}]``."""
        tail = f"-{rsdt2_id}" if rsdt2_id else ""
        return IRI(f"{self.id}residence/{lg_code}-{machiaza_id}-{blk_id}-{rsdt_id}{tail}")

    def parcel(self, lg_code: str, machiaza_id: str, prc_id: str) -> IRI:
        """地番: ``id/parcel/{lg6}-{machiaza7}-{prc_id 15}``."""
        return IRI(f"{self.id}parcel/{lg_code}-{machiaza_id}-{prc_id}")

    def law(self, law_id: str) -> IRI:
        return IRI(f"{self.id}law/{law_id}")

    def law_revision(self, revision_id: str) -> IRI:
        return IRI(f"{self.id}law-revision/{revision_id}")

    def law_part(self, law_id: str, *path: str) -> IRI:
        """A subdivision of a law's current text: ``law_part(id, "chapter", "1", "section", "2")``.

        Segments are the XML ``Num`` values (branch numbers such as ``38_3_2`` kept); anything
        outside ``[A-Za-z0-9_:.-]`` is percent-encoded.
        """
        from urllib.parse import quote

        return IRI(f"{self.id}law/{law_id}" + "".join("/" + quote(s, safe="_:-.%") for s in path))

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
        return IRI(f"{self.id}program/jgrants-{jgrants_id}")

    def prefixes(self) -> dict[str, str]:
        """Prefixes for queries and serialisations: the standard ones plus ours."""
        ours = {"kg": self.def_, "kgid": self.id, "corp": self.id + "corporation/",
                "muni": self.id + "municipality/", "pref": self.id + "prefecture/",
                "code": self.id + "code/", "graph": self.base + "graph/"}
        return {**STANDARD_PREFIXES, **ours}
