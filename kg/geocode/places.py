"""What the geocoder knows, read once per store generation: prefectures, municipalities, towns
(the links' :class:`~kg.link.addresses.TownIndex`, with labels and points) and, per town on
first use, its 住居表示 街区 and 住居 (bounded cache: a country's residences do not fit in memory).

Everything comes from the ABR data loaded in the store; nothing is fetched.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from kg.link.addresses import TownIndex
from kg.rdf import DCTERMS, GEO, RDFS
from kg.rdf.checkdigits import local_government_code
from kg.rdf.iri import Minter
from kg.store.interface import ReadStore
from kg.text.normalize import address_key

#: the 47 prefectures (JIS X 0401 order): a closed list, so that an address in a prefecture whose
#: ABR files were never loaded is told apart from one that names no prefecture at all
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県",
    "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県",
    "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県",
    "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県",
    "宮崎県", "鹿児島県", "沖縄県")

_WKT = re.compile(r"^\s*(?:<([^>]*)>)?\s*POINT\s*\(\s*([-\d.eE+]+)\s+([-\d.eE+]+)\s*\)", re.IGNORECASE)
#: GeoSPARQL's default CRS when a WKT literal names none
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float
    crs: str

    @classmethod
    def from_wkt(cls, wkt: str | None) -> "Point | None":
        m = _WKT.match(wkt or "")
        if not m:
            return None
        return cls(float(m.group(2)), float(m.group(3)), m.group(1) or CRS84)


@dataclass(frozen=True)
class Place:
    """A prefecture or municipality: IRI, name, 全国地方公共団体コード, representative point."""

    iri: str
    name: str
    code: str
    point: Point | None = None
    prefecture: str | None = None   # a municipality's prefecture IRI


@dataclass
class Residence:
    iri: str
    point: Point | None


@dataclass
class Block:
    iri: str
    number: str
    point: Point | None
    residences: dict[str, Residence] = field(default_factory=dict)   # "2" or "2-1" (住居番号-住居番号2)


class Places:
    """The gazetteer of one generation. Thread-safe for readers (the block cache takes a lock)."""

    def __init__(self, store: ReadStore, m: Minter, *, block_cache: int = 10_000):
        self.store, self.m = store, m
        self.block_cache = block_cache
        self.prefectures: dict[str, Place] = {}            # IRI → place
        self.municipalities: dict[str, Place] = {}
        self.municipality_keys: dict[str, list[str]] = {}  # address key of a name → municipality IRIs
        self.longest_municipality = 0
        self.prefecture_keys: dict[str, str] = {}          # address key of a name → prefecture IRI
        self.towns = TownIndex.from_store(store, m, details=True)
        self._blocks: OrderedDict[str, dict[str, Block]] = OrderedDict()
        self._lock = threading.Lock()
        self._read_places()
        for number, name in enumerate(PREFECTURES, 1):
            iri = m.prefecture(local_government_code(f"{number:02d}000"))
            self.prefecture_keys[address_key(name)] = iri
            if iri not in self.prefectures:   # known by name, not loaded: answers say so
                self.prefectures[iri] = Place(iri, name, local_government_code(f"{number:02d}000"))
        self.loaded_prefectures = {self.municipalities[muni].prefecture for muni in self.towns.by_municipality
                                   if muni in self.municipalities and self.towns.has_towns(muni)}

    def _read_places(self) -> None:
        m, abr = self.m, self.m.graph("abr")
        q = f"""SELECT ?p ?code ?label ?wkt WHERE {{ GRAPH <{abr}> {{
            ?p a <{m.term('Prefecture')}> ; <{DCTERMS.identifier}> ?code ; <{RDFS.label}> ?label
            FILTER(lang(?label) = "ja")
            OPTIONAL {{ ?p <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt }} }} }}"""
        for s in self.store.query(q):
            iri = s["p"].value
            self.prefectures[iri] = Place(iri, s["label"].value, s["code"].value,
                                          Point.from_wkt(s["wkt"].value if s["wkt"] else None))
        q = f"""SELECT ?c ?code ?label ?county ?wkt WHERE {{ GRAPH <{abr}> {{
            ?c a <{m.term('Municipality')}> ; <{DCTERMS.identifier}> ?code ; <{RDFS.label}> ?label
            FILTER(lang(?label) = "ja")
            OPTIONAL {{ ?c <{m.term('county')}> ?county FILTER(lang(?county) = "ja") }}
            OPTIONAL {{ ?c <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt }} }} }}"""
        for s in self.store.query(q):
            iri, code, name = s["c"].value, s["code"].value, s["label"].value
            pref = self.m.prefecture(local_government_code(code[:2] + "000"))
            self.municipalities[iri] = Place(iri, name, code, Point.from_wkt(s["wkt"].value if s["wkt"] else None),
                                             pref)
            names = [name] + ([s["county"].value + name] if s["county"] else [])
            for text in names:
                key = address_key(text)
                found = self.municipality_keys.setdefault(key, [])
                if iri not in found:
                    found.append(iri)
                self.longest_municipality = max(self.longest_municipality, len(key))
        for found in self.municipality_keys.values():   # candidates in code order, whatever the store's
            found.sort(key=lambda iri: self.municipalities[iri].code)
        # a ward is keyed by its full name (札幌市中央区), never alone: 中央区 is in several cities

    def blocks(self, town: str) -> dict[str, Block]:
        """The 住居表示 街区 of a town by block number, with their residences (read on first use)."""
        with self._lock:
            found = self._blocks.get(town)
            if found is not None:
                self._blocks.move_to_end(town)
                return found
        found = self._read_blocks(town)
        with self._lock:
            self._blocks[town] = found
            while len(self._blocks) > self.block_cache:
                self._blocks.popitem(last=False)
        return found

    def _read_blocks(self, town: str) -> dict[str, Block]:
        m = self.m
        part, wkt = f"<{DCTERMS.isPartOf}>", f"<{GEO.hasGeometry}>/<{GEO.asWKT}>"
        q = f"""SELECT ?b ?bn ?bw ?r ?rn ?rn2 ?rw WHERE {{ GRAPH <{m.graph('abr')}> {{
            ?b {part} <{town}> ; a <{m.term('Block')}> ; <{m.term('blockNumber')}> ?bn .
            OPTIONAL {{ ?b {wkt} ?bw }}
            OPTIONAL {{ ?r {part} ?b ; <{m.term('residenceNumber')}> ?rn .
                       OPTIONAL {{ ?r <{m.term('residenceNumber2')}> ?rn2 }}
                       OPTIONAL {{ ?r {wkt} ?rw }} }} }} }}"""
        out: dict[str, Block] = {}
        for s in self.store.query(q):
            number = _number(s["bn"].value)
            block = out.get(number)
            if block is None:
                block = out[number] = Block(s["b"].value, number, Point.from_wkt(s["bw"].value if s["bw"] else None))
            if s["r"] is not None:
                key = _number(s["rn"].value) + (f"-{_number(s['rn2'].value)}" if s["rn2"] else "")
                block.residences[key] = Residence(s["r"].value, Point.from_wkt(s["rw"].value if s["rw"] else None))
        return out


def _number(text: str) -> str:
    """A block or residence number as the geocoder compares it ("０１" and "1" alike)."""
    key = address_key(text)
    return str(int(key)) if key.isdigit() else key
