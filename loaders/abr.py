"""Digital Agency's Address Base Registry (アドレス・ベース・レジストリ, ABR): every CSV of FORMATS.md §2.

One loader reads all ABR file kinds — 都道府県 mt_pref, 市区町村 mt_city (政令市 and their wards),
町字 mt_town / mt_town_fullset, 住居表示 街区 mt_rsdtdsp_blk and 住居 mt_rsdtdsp_rsdt, 地番 mt_parcel —
and each one's ``_pos`` file (representative points). The kind is read from the HEADER, because
published file names vary (``mt_town_pref30.csv``, ``town.csv``, cached download names) while
the column names are fixed by the specification. Headers are mapped by name, in the current
English form (2024-01 仕様確定版) and the 2022 trial's Japanese form; extra columns are ignored.

How rows become entities:

* The hierarchy is stored upwards with ``dcterms:isPartOf`` (the child's file states it; a
  prefecture would otherwise carry millions of ``hasPart`` links): prefecture ⊃ municipality
  (⊃ ward, whose parent is its 政令市) ⊃ town ⊃ block ⊃ residence, and town ⊃ parcel.
* One key, one row. A row repeated with the same values (real _pos files repeat about 100) loads
  once. Rows of one key that disagree (the real mt_town_pref30 gives 19 towns a row with
  住居表示フラグ 0 and one with 1) are ALL rejected, each reported (constraint ``conflict``) with
  the file, both line numbers and the columns that differ; none is merged and none is kept. A
  registry row must be unique, and nothing says which of two is right: keeping the first would
  let the order of the rows decide what the graph states, merging would state both. An entity an
  earlier load stored under that key stays as it was (a rejected row changes nothing).
  Published files are sorted by key, so such rows are adjacent (true of every real sample); a
  first pass over the key cells checks that, and a file that is not sorted is sorted on disk in
  runs first (:func:`key_sorted_rows`): the rule holds for rows far apart, and memory stays flat.
* Nothing refers to what was never loaded (``Entity.requires``, checked against the store): a
  town requires its municipality; a 街区 row, a 住居 row and a 地番 row their town; a ward its
  政令市 unless the city's row came earlier in the same file; every ``_pos`` row the entity it
  locates. A row whose referent is missing is reported (constraint ``reference``: "… which no
  loaded file describes (load that file first)") and writes nothing, so no untyped town carries
  a point and no parcel is part of a town that does not exist. THE RULE: load each base file
  before its ``_pos`` file and before the files that refer to it: pref, city, town, 街区, 住居,
  地番 (:meth:`AbrLoader.order` sorts a load's files so; a directory's name order puts
  ``mt_town_pos_pref30`` before ``mt_town_pref30`` and ``mt_parcel`` before ``mt_town``).
  A municipality does not require its prefecture (the 47 are a closed list, and name order loads
  mt_city before mt_pref); ``kg validate`` reports one whose prefecture was never loaded.
* Residence rows require their town, not their block: no real 街区 (mt_rsdtdsp_blk) file was
  found, and each residence row states its block itself (below).
* A ``_pos`` row describes the node ``{entity}#point`` (``geo:Geometry``, ``geo:asWKT`` with the
  CRS of its ``rep_srid``: EPSG:6668 and EPSG:4612 occur in one file) and adds the link
  ``{entity} geo:hasGeometry {entity}#point`` as an extra triple. Base entities list
  ``geo:hasGeometry`` in ``Entity.keep``: reloading a base file after its ``_pos`` file keeps the
  points (a ``_pos`` file before its base file is reported, see above).
* Residence rows carry the block number, so each residence row also states its block (as extra
  triples that add up), which gives blocks when no mt_rsdtdsp_blk file is loaded. The block file
  states the same core facts plus its own.
* Polygon references (plygn_*), Ministry of Justice map keys (moj_map_*), the MLIT block-level
  name columns (pos_pref … pos_blk_prc_num) and the data-year columns are not mapped: they point to
  files this graph does not hold.
"""

from __future__ import annotations

import csv
import heapq
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import IO, Callable, Iterator

from kg.rdf.checkdigits import local_government_code, local_government_code_problem
from kg.rdf.iri import Minter, Terms
from kg.text.normalize import header_key
from kg.rdf import DCTERMS, GEO, IRI, LOCN, RDF, RDFS, SKOS, XSD, Literal, Triple, date

from kg.load.contract import DatasetInfo, Entity, Problem, Record
from kg.load.sources import SourceFile
from kg.errors import InputError
from .reading import adjacent_groups, csv_rows

INFO = DatasetInfo(
    name="abr",
    title_ja="アドレス・ベース・レジストリ（デジタル庁）",
    title_en="Address Base Registry (Digital Agency)",
    publisher="デジタル庁",
    publisher_url="https://www.digital.go.jp/",
    license_url="https://www.digital.go.jp/policies/base_registry_address_tos",
    license_name="アドレス・ベース・レジストリ利用規約（CC BY 4.0 互換）",
    attribution="出典：デジタル庁「アドレス・ベース・レジストリ」（https://www.digital.go.jp/policies/base_registry_address）を加工して作成",
    source_url="https://data.address-br.digital.go.jp/",
)

# ---- header names ---------------------------------------------------------------------------

#: Japanese column names (2022 trial edition and later Japanese-header variants) → current names.
JAPANESE_NAMES: dict[str, str] = {
    "全国地方公共団体コード": "lg_code", "町字id": "machiaza_id", "町字区分コード": "machiaza_type",
    "都道府県名": "pref", "都道府県名_カナ": "pref_kana", "都道府県名_英字": "pref_roma",
    "郡名": "county", "郡名_カナ": "county_kana", "郡名_英字": "county_roma",
    "市区町村名": "city", "市区町村名_カナ": "city_kana", "市区町村名_英字": "city_roma",
    "政令市区名": "ward", "政令市区名_カナ": "ward_kana", "政令市区名_英字": "ward_roma",
    "大字・町名": "oaza_cho", "大字・町名_カナ": "oaza_cho_kana", "大字・町名_英字": "oaza_cho_roma",
    "丁目名": "chome", "丁目名_カナ": "chome_kana", "丁目名_数字": "chome_number",
    "小字名": "koaza", "小字名_カナ": "koaza_kana", "小字名_英字": "koaza_roma",
    "同一町字識別情報": "machiaza_dist", "住居表示フラグ": "rsdt_addr_flg", "住居表示方式コード": "rsdt_addr_mtd_code",
    "大字・町名_通称フラグ": "oaza_cho_aka_flg", "大字・町_通称フラグ": "oaza_cho_aka_flg",
    "小字名_通称コード": "koaza_aka_code", "小字_通称フラグ": "koaza_aka_code", "小字名_通称フラグ": "koaza_aka_code",
    "大字・町名_電子国土基本図外字": "oaza_cho_gsi_uncmn", "大字・町外字フラグ": "oaza_cho_gsi_uncmn",
    "大字・町_外字フラグ": "oaza_cho_gsi_uncmn",
    "小字名_電子国土基本図外字": "koaza_gsi_uncmn", "小字_電子国土基本図外字": "koaza_gsi_uncmn",
    "小字外字フラグ": "koaza_gsi_uncmn", "小字_外字フラグ": "koaza_gsi_uncmn",
    "状態フラグ": "status_flg", "起番フラグ": "wake_num_flg", "効力発生日": "efct_date", "廃止日": "ablt_date",
    "原典資料コード": "src_code", "郵便番号": "post_code", "備考": "remarks",
    "大字・町名_登記統一文字": "oaza_cho_uncmn_reg", "大字・町名_mj文字図形名": "oaza_cho_uncmn_mj",
    "大字・町名_任意外字コード種別": "oaza_cho_uncmn_type", "大字・町名_任意外字コード": "oaza_cho_uncmn_code",
    "小字名_登記統一文字": "koaza_uncmn_reg", "小字名_mj文字図形名": "koaza_uncmn_mj",
    "小字名_任意外字コード種別": "koaza_uncmn_type", "小字名_任意外字コード": "koaza_uncmn_code",
    "別名称大字・町名": "alias_oaza", "別名称大字・町名_カナ": "alias_oaza_kana", "別名称大字・町名_英字": "alias_oaza_roma",
    "別名称小字名": "alias_koaza", "別名称小字名_カナ": "alias_koaza_kana", "別名称小字名_英字": "alias_koaza_roma",
    "街区id": "blk_id", "街区符号": "blk_num", "住居id": "rsdt_id", "住居2id": "rsdt2_id",
    "住居番号": "rsdt_num", "住居番号2": "rsdt_num2", "基礎番号・住居番号区分": "basic_rsdt_div",
    "地番id": "prc_id", "地番1": "prc_num1", "地番2": "prc_num2", "地番3": "prc_num3",
    "地番レコード区分フラグ": "prc_rec_flg", "地番区域コード": "prc_area_code", "不動産番号": "real_prop_num",
    "代表点_経度": "rep_lon", "代表点_緯度": "rep_lat", "代表点_座標参照系": "rep_srid",
    "代表点_地図情報レベル": "rep_scale", "代表点_原典資料コード": "rep_src_code",
    "位置参照情報_大字町丁目コード": "pos_oaza_cho_chome_code", "位置参照情報_データ整備年度": "pos_data_mnt_year",
    "国勢調査_境界_小地域(町丁・字等別)_key_code": "cns_bnd_s_area_kcode", "国勢調査_境界_データ整備年度": "cns_bnd_year",
    "電子国土基本図(地名情報)「住居表示住所」_住所コード(可読)": "rsdt_addr_code_rdbl",
    "電子国土基本図(地名情報)「住居表示住所」_データ整備日": "rsdt_addr_data_mnt_date",
}

#: Current (English) column names this loader reads; any other column is ignored.
ENGLISH_NAMES = frozenset(JAPANESE_NAMES.values())


_ALIASES: dict[str, str] = {header_key(k): v for k, v in JAPANESE_NAMES.items()}
_ALIASES.update({name: name for name in ENGLISH_NAMES})

#: 全国地方公共団体コード of the 20 designated cities (政令指定都市), seen in mt_city_all.csv: the
#: fallback parent of a ward whose city row is not in the same file.
DESIGNATED_CITIES = ("011002", "041009", "111007", "121002", "141003", "141305", "141500", "151009", "221007",
                     "221309", "231002", "261009", "271004", "271403", "281000", "331007", "341002", "401005",
                     "401307", "431001")


@dataclass(frozen=True)
class Kind:
    """One ABR file kind: what its header must contain and what its key is made of."""

    name: str           # mt_pref, mt_city, mt_town, ... ("mt_lg_pos" covers mt_pref_pos and mt_city_pos)
    title: str          # for messages
    key: tuple[str, ...]
    required: tuple[str, ...] = ()
    pos: bool = False

    @property
    def lg_keyed(self) -> bool:
        """Kinds below the municipality: their lg_code may come from the file name (trimmed files)."""
        return "machiaza_id" in self.key


_POS = ("rep_lon", "rep_lat", "rep_srid")
KINDS = {k.name: k for k in (
    Kind("mt_pref", "都道府県 (mt_pref)", ("lg_code",), ("pref",)),
    Kind("mt_city", "市区町村 (mt_city)", ("lg_code",), ("city",)),
    Kind("mt_lg_pos", "都道府県・市区町村 位置参照 (mt_pref_pos / mt_city_pos)", ("lg_code",), _POS, True),
    Kind("mt_town", "町字 (mt_town)", ("lg_code", "machiaza_id"), ("machiaza_type",)),
    Kind("mt_town_pos", "町字 位置参照 (mt_town_pos)", ("lg_code", "machiaza_id"), _POS, True),
    Kind("mt_rsdtdsp_blk", "住居表示-街区 (mt_rsdtdsp_blk)", ("lg_code", "machiaza_id", "blk_id")),
    Kind("mt_rsdtdsp_blk_pos", "住居表示-街区 位置参照 (mt_rsdtdsp_blk_pos)", ("lg_code", "machiaza_id", "blk_id"), _POS, True),
    Kind("mt_rsdtdsp_rsdt", "住居表示-住居 (mt_rsdtdsp_rsdt)", ("lg_code", "machiaza_id", "blk_id", "rsdt_id"), ("rsdt_num",)),
    Kind("mt_rsdtdsp_rsdt_pos", "住居表示-住居 位置参照 (mt_rsdtdsp_rsdt_pos)",
         ("lg_code", "machiaza_id", "blk_id", "rsdt_id"), _POS, True),
    Kind("mt_parcel", "地番 (mt_parcel)", ("lg_code", "machiaza_id", "prc_id"), ("prc_num1",)),
    Kind("mt_parcel_pos", "地番 位置参照 (mt_parcel_pos)", ("lg_code", "machiaza_id", "prc_id"), _POS, True),
)}
_JA_OF = {v: k for k, v in reversed(list(JAPANESE_NAMES.items()))}


def detect_kind(columns: set[str]) -> Kind | None:
    """The file kind from its (mapped) column names, or None when it is no ABR file."""
    pos = bool(columns & {"rep_lon", "rep_lat", "rep_srid"})
    if "prc_id" in columns:
        return KINDS["mt_parcel_pos" if pos else "mt_parcel"]
    if "rsdt_id" in columns:
        return KINDS["mt_rsdtdsp_rsdt_pos" if pos else "mt_rsdtdsp_rsdt"]
    if "blk_id" in columns:
        return KINDS["mt_rsdtdsp_blk_pos" if pos else "mt_rsdtdsp_blk"]
    if "machiaza_id" in columns:
        return KINDS["mt_town_pos" if pos else "mt_town"]
    if pos:
        return KINDS["mt_lg_pos"]
    if "city" in columns:
        return KINDS["mt_city"]
    if "pref" in columns:
        return KINDS["mt_pref"]
    return None


def _column_label(name: str) -> str:
    ja = _JA_OF.get(name)
    return f"{name} ({ja})" if ja else name


_LG_IN_NAME = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")


def lg_code_from_name(source: SourceFile) -> tuple[str | None, list[str]]:
    """A municipality code named by the file (or zip member / parent directory) name.

    Some republished town files drop the lg_code column (the real 2022 鯖江市 file does) but keep
    it in their path, e.g. ``180009/182079/town.csv`` or ``town_182079_sabae.csv``. Only codes
    with a valid check digit that name a municipality (not a prefecture) count, and only when
    exactly one such code is found. Returns (code or None, the candidates found).
    """
    if source.member is not None:
        names = list(PurePosixPath(source.member).parts) + [source.path.name]
    else:
        names = [source.path.name, source.path.parent.name]
    found: list[str] = []
    for name in names:
        for code in _LG_IN_NAME.findall(name):
            if local_government_code_problem(code) is None and code[2:5] != "000" and code not in found:
                found.append(code)
    return (found[0] if len(found) == 1 else None), found


@dataclass
class Layout:
    """How one file's columns are read: its kind, column positions and a file-level lg_code."""

    kind: Kind
    index: dict[str, int]
    width: int
    lg_code: str | None = None   # from the file name when the lg_code column is missing


def read_layout(source: SourceFile, header: list[str]) -> Layout:
    """Map the header to column names and detect the kind; raise InputError naming what is wrong."""
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = _ALIASES.get(header_key(cell))
        if name is not None and name not in index:
            index[name] = i
    kind = detect_kind(set(index))
    if kind is None:
        shown = ", ".join(c.strip() for c in header[:6]) + (", …" if len(header) > 6 else "")
        raise InputError(f"{source.name}: not an アドレス・ベース・レジストリ (ABR) CSV: line 1 ({shown}) has none of "
                         f"the ABR column names (lg_code/全国地方公共団体コード, machiaza_id/町字ID, pref/都道府県名, …)")
    layout = Layout(kind, index, len(header))
    missing = [c for c in kind.key + kind.required if c not in index]
    if "lg_code" in missing and kind.lg_keyed:
        code, found = lg_code_from_name(source)
        if code is not None:
            layout.lg_code = code
            missing.remove("lg_code")
        elif missing == ["lg_code"]:
            seen = f"found {', '.join(found)}" if found else "found none"
            raise InputError(
                f"{source.name}: line 1: this {kind.title} file has no column lg_code (全国地方公共団体コード), and its "
                f"file or directory name does not name exactly one municipality code to use instead ({seen})")
    if missing:
        cells = {header_key(c) for c in header}
        hint = (" (it looks like MLIT 位置参照情報, which is not an ABR file)"
                if {"都道府県コード", "市区町村コード"} <= cells else "")
        raise InputError(f"{source.name}: line 1: the header looks like an ABR {kind.title} file but lacks the "
                         f"column(s) {', '.join(_column_label(c) for c in missing)}{hint}")
    return layout


@dataclass
class Row:
    """The mapped cells of one row (stripped; missing columns read as empty)."""

    kind: Kind
    values: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")


KEEP = frozenset({str(GEO.hasGeometry)})
_SRID = re.compile(r"^(?:EPSG:?)?\s*([0-9]{4,6})$", re.IGNORECASE)
CRS_BASE = "http://www.opengis.net/def/crs/EPSG/0/"
_POINT_SOURCE = {"mt_town_pos": "town-point-source", "mt_rsdtdsp_blk_pos": "block-point-source",
                 "mt_rsdtdsp_rsdt_pos": "residence-point-source", "mt_parcel_pos": "parcel-point-source"}
_ID_DIGITS = {"machiaza_id": 7, "blk_id": 3, "rsdt_id": 3, "rsdt2_id": 5, "prc_id": 15}


@dataclass
class _FileState:
    """What mapping one file needs to remember: designated cities seen, the last derived block."""

    cities: dict[tuple[str, str], str] = field(default_factory=dict)
    last_block: str | None = None


class AbrLoader:
    dataset = "abr"
    info = INFO
    suffixes = (".csv",)
    relinks = "towns"
    summarised = False
    streamable = False
    tallied = False

    # ---- parsing ----------------------------------------------------------------------------
    def records(self, source: SourceFile, on_read: Callable[[int], None] | None = None) -> Iterator[Record | Problem]:
        """Rows of one ABR CSV in key order, so that the rows of one key are adjacent: as published
        (a first pass checks), or sorted on disk first. Raises InputError for non-ABR files."""
        layout, ascending = survey(source)
        rows = _body(source, on_read) if ascending else key_sorted_rows(source, layout, on_read)
        for item in rows:
            yield item if isinstance(item, Problem) else self._record(source, layout, *item)

    @staticmethod
    def _record(source: SourceFile, layout: Layout, line: int, cells: list[str]) -> Record | Problem:
        kind = layout.kind
        if len(cells) != layout.width:
            return Problem(source.name, line, ",".join(cells[:2]),
                           f"{len(cells)} columns, the header has {layout.width}", "columns")
        values = {name: cells[i].strip() for name, i in layout.index.items()}
        if layout.lg_code is not None:
            values["lg_code"] = layout.lg_code
        key = _key(kind, values)
        empty = [c for c in kind.key if not values[c]]
        if empty:
            return Problem(source.name, line, key, f"{', '.join(_column_label(c) for c in empty)} is empty", "key")
        return Record(source.name, line, key, Row(kind, values))

    # ---- mapping ----------------------------------------------------------------------------
    def entities(self, records: Iterator[Record | Problem], minter: Minter) -> Iterator[Entity | Problem]:
        """One entity per key: copies of a row load once, rows that disagree are all rejected."""
        terms = minter.terms
        state = _FileState()
        for group in adjacent_groups(records):
            if isinstance(group, Problem):
                yield group
                continue
            conflict = duplicate_conflict(group)
            if conflict is not None:
                yield from (Problem(r.source, r.line, r.key, conflict, "conflict") for r in group)
            else:
                item = _entity(group[0], len(group), minter, terms, state)
                # copies of a bad row are each reported (every row read is loaded or rejected)
                yield from ((replace(item, line=r.line) for r in group) if isinstance(item, Problem) else (item,))

    @staticmethod
    def order(sources: list[SourceFile]) -> list[SourceFile]:
        """The sources in the order their references need: each base file before its ``_pos`` file and
        the files that refer to it (pref, city, town, block, residence, parcel); files of one kind keep
        their order (later diffs win). A file that is no ABR CSV goes last, to be refused when read."""
        rank = {name: i for i, name in enumerate(KINDS)}

        def kind_of(source: SourceFile) -> int:
            try:
                return rank[survey(source, header_only=True)[0].kind.name]
            except InputError:
                return len(rank)

        return [s for _, _, s in sorted((kind_of(s), i, s) for i, s in enumerate(sources))]


WHAT = "an アドレス・ベース・レジストリ (ABR) CSV"
#: rows of an unsorted file sorted in memory at a time (then merged from temporary files)
SORT_CHUNK = 50_000


def _key(kind: Kind, values: dict[str, str]) -> str:
    """The record key: the kind's key columns joined by '-' (a residence's 住居2 ID only when given)."""
    parts = [values.get(c, "") for c in kind.key]
    if "rsdt_id" in kind.key and values.get("rsdt2_id"):
        parts.append(values["rsdt2_id"])
    return "-".join(parts)


def row_key(layout: Layout, cells: list[str]) -> str:
    """The key of a raw row (missing cells read as empty), without mapping the rest of it."""
    wanted = layout.kind.key + (("rsdt2_id",) if "rsdt_id" in layout.kind.key else ())
    values = {c: cells[layout.index[c]].strip() for c in wanted if c in layout.index and layout.index[c] < len(cells)}
    if layout.lg_code is not None:
        values["lg_code"] = layout.lg_code
    return _key(layout.kind, values)


def _body(source: SourceFile, on_read: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]] | Problem]:
    """``(line, cells)`` of every row after the header, and problems, in file order."""
    header = True
    for item in csv_rows(source, on_read, what=WHAT):
        if header and not isinstance(item, Problem):
            header = False
            continue
        yield item


def survey(source: SourceFile, *, header_only: bool = False) -> tuple[Layout, bool]:
    """(layout, whether the keys ascend): a first pass over the file, reading only the key cells.

    Published ABR files are sorted by key, so the rows of one key (a town with both 住居表示
    flags, a repeated point) are adjacent and grouping needs no memory; a file that is not sorted
    is sorted on disk first (:func:`key_sorted_rows`). The pass stops at the first descending key.
    """
    layout: Layout | None = None
    last: str | None = None
    for item in csv_rows(source, None, what=WHAT):
        if isinstance(item, Problem):
            continue
        if layout is None:
            layout = read_layout(source, item[1])
            if header_only:
                break
            continue
        key = row_key(layout, item[1])
        if last is not None and key < last:
            return layout, False
        last = key
    if layout is None:
        raise InputError(f"{source.name}: empty file, not {WHAT}")
    return layout, True


def key_sorted_rows(source: SourceFile, layout: Layout,
                    on_read: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]] | Problem]:
    """The rows of an unsorted file in (key, line) order: runs of :data:`SORT_CHUNK` rows are sorted
    and spilled to temporary files, then merged, so memory stays flat however long the file is."""
    runs: list[IO[str]] = []
    buffer: list[tuple[str, int, list[str]]] = []
    try:
        for item in _body(source, on_read):
            if isinstance(item, Problem):
                yield item
                continue
            buffer.append((row_key(layout, item[1]), item[0], item[1]))
            if len(buffer) >= SORT_CHUNK:
                runs.append(_spill(buffer))
                buffer = []
        buffer.sort(key=lambda r: (r[0], r[1]))
        for _, line, cells in heapq.merge(*map(_read_run, runs), buffer, key=lambda r: (r[0], r[1])):
            yield line, cells
    finally:
        for run in runs:
            run.close()


def _spill(rows: list[tuple[str, int, list[str]]]) -> IO[str]:
    rows.sort(key=lambda r: (r[0], r[1]))
    run = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
    writer = csv.writer(run)
    for key, line, cells in rows:
        writer.writerow([key, line, *cells])
    run.seek(0)
    return run


def _read_run(run: IO[str]) -> Iterator[tuple[str, int, list[str]]]:
    for key, line, *cells in csv.reader(run):
        yield key, int(line), cells


def duplicate_conflict(rows: list[Record]) -> str | None:
    """Why the rows of one key cannot be loaded (they disagree), or None (one row, or copies of it).

    A registry row names one thing once; two rows with one key and different values (a town with
    住居表示フラグ 0 and 1) leave no way to tell which is right, and merging them would state both.
    So every row of such a key is rejected, the first as well: keeping it would let the order of
    the rows decide what the graph says. Compared are the columns this loader reads.
    """
    first: Row = rows[0].data
    if len(rows) == 1 or all(r.data.values == first.values for r in rows[1:]):
        return None
    columns = [c for c in first.values if any(r.data[c] != first[c] for r in rows[1:])]
    differ = "; ".join(f"{_column_label(c)} " + " vs ".join(f"{r.data[c]!r} (line {r.line})" for r in rows)
                       for c in columns)
    lines = ", ".join(str(r.line) for r in rows[:-1]) + f" and {rows[-1].line}"
    return (f"{rows[0].source}: lines {lines} give the same {first.kind.title} key {rows[0].key} with different "
            f"values ({differ}); a registry row must be unique and neither says which is right, so no row of "
            f"this key is loaded")


def _entity(record: Record, copies: int, m: Minter, t: Terms, state: _FileState) -> Entity | Problem:
    """The entity of one key (``copies`` identical rows of it); what it requires is loaded already."""
    kind = record.data.kind
    if kind.pos:
        return _point(record, copies, m, t)
    result = _BASE[kind.name](record, m, t, state)
    if isinstance(result, Problem):
        return result
    focus, triples, extra, requires = result
    return Entity(focus, triples, record.source, record.line, record.key, "upsert", extra, records=copies,
                  keep=KEEP, requires=requires)


# ---- helpers shared by the mappings -----------------------------------------------------------

#: what a row mapping returns: (focus, its triples, extra triples about other subjects, the IRIs it
#: requires: entities an earlier file must have loaded, see the module docstring)
Mapped = tuple[IRI, list[Triple], list[Triple], tuple[IRI, ...]]


def _names(out: list[Triple], s: IRI, p: str, ja: str, kana: str = "", en: str = "") -> None:
    if ja:
        out.append((s, p, Literal(ja, None, "ja")))
    if kana:
        out.append((s, p, Literal(kana, None, "ja-Hrkt")))
    if en:
        out.append((s, p, Literal(en, None, "en")))


def _code(out: list[Triple], s: IRI, p: str, t: Terms, scheme: str, value: str) -> None:
    if value:
        out.append((s, p, t.code(scheme, value)))


def _common(out: list[Triple], s: IRI, row: Row, t: Terms) -> None:
    """Columns every ABR base file has: efct/ablt dates and remarks."""
    if row["efct_date"]:
        out.append((s, t.effectiveDate, date(row["efct_date"])))
    if row["ablt_date"]:
        out.append((s, t.abolishedDate, date(row["ablt_date"])))
    if row["remarks"]:
        out.append((s, SKOS.note, Literal(row["remarks"], None, "ja")))


def _prefecture_of(m: Minter, lg: str) -> IRI | None:
    if len(lg) >= 2 and lg[:2].isascii() and lg[:2].isdigit():
        return m.prefecture(local_government_code(lg[:2] + "000"))
    return None


def _place(out: list[Triple], s: IRI, lg: str, m: Minter, t: Terms) -> None:
    """def:municipality and def:prefecture shortcuts of everything below a municipality."""
    out.append((s, t.municipality, m.municipality(lg)))
    pref = _prefecture_of(m, lg)
    if pref is not None:
        out.append((s, t.prefecture, pref))


def _joined(parts: list[tuple[str, str]], sep: str = "") -> str:
    """Join the reading (or romaji) of each present name part; empty unless every present part has one."""
    present = [(name, other) for name, other in parts if name]
    if not present or not all(other for _, other in present):
        return ""
    return sep.join(other for _, other in present)


def town_name(row: Row) -> tuple[str, str, str]:
    """(kanji, kana, romaji) of a town: 大字・町 + 丁目 + 小字; a reading only when every part has one."""
    chome_en = f"{row['chome_number']}-chome" if row["chome_number"] else ""
    parts = [(row["oaza_cho"], row["oaza_cho_kana"], row["oaza_cho_roma"]),
             (row["chome"], row["chome_kana"], chome_en),
             (row["koaza"], row["koaza_kana"], row["koaza_roma"])]
    ja = "".join(p[0] for p in parts if p[0])
    kana = _joined([(p[0], p[1]) for p in parts])
    en = _joined([(p[0], p[2]) for p in parts], " ")
    return ja, kana, en


# ---- prefectures and municipalities -----------------------------------------------------------

def _prefecture(record: Record, m: Minter, t: Terms, state: _FileState) -> Mapped | Problem:
    row: Row = record.data
    lg = row["lg_code"]
    s = m.prefecture(lg)
    out: list[Triple] = [(s, RDF.type, t.Prefecture), (s, DCTERMS.identifier, Literal(lg))]
    _names(out, s, RDFS.label, row["pref"], row["pref_kana"], row["pref_roma"])
    _common(out, s, row, t)
    return s, out, [], ()


def _designated_city(lg: str) -> str | None:
    candidates = [c for c in DESIGNATED_CITIES if c[:2] == lg[:2] and c[:5] <= lg[:5]]
    return max(candidates) if candidates else None


def _municipality(record: Record, m: Minter, t: Terms, state: _FileState) -> Mapped | Problem:
    row: Row = record.data
    lg = row["lg_code"]
    s = m.municipality(lg)
    out: list[Triple] = [(s, RDF.type, t.Municipality), (s, DCTERMS.identifier, Literal(lg))]
    city, ward = row["city"], row["ward"]
    pref = _prefecture_of(m, lg)
    requires: tuple[IRI, ...] = ()
    if ward:
        in_file = state.cities.get((row["pref"], city))
        parent_code = in_file or _designated_city(lg)
        if parent_code is None:
            return Problem(record.source, record.line, record.key,
                           f"ward {city}{ward} ({lg}): its designated city is neither in this file nor a known 政令市",
                           "parent")
        out.append((s, RDF.type, t.Ward))
        out.append((s, DCTERMS.isPartOf, m.municipality(parent_code)))
        if in_file is None:  # its city row is written with this file; otherwise an earlier file's
            requires = (m.municipality(parent_code),)
        _names(out, s, RDFS.label, city + ward,
               _joined([(city, row["city_kana"]), (ward, row["ward_kana"])]),
               _joined([(city, row["city_roma"]), (ward, row["ward_roma"])], " "))
        _names(out, s, SKOS.altLabel, ward, row["ward_kana"], row["ward_roma"])
    else:
        state.cities[(row["pref"], city)] = lg
        if pref is not None:
            out.append((s, DCTERMS.isPartOf, pref))
        _names(out, s, RDFS.label, city, row["city_kana"], row["city_roma"])
    county = row["county"]
    if county:
        _names(out, s, t.county, county, row["county_kana"], row["county_roma"])
        _names(out, s, SKOS.altLabel, county + city,
               _joined([(county, row["county_kana"]), (city, row["city_kana"])]),
               _joined([(county, row["county_roma"]), (city, row["city_roma"])], " "))
    if pref is not None:
        out.append((s, t.prefecture, pref))
    if len(lg) == 6 and lg.isascii() and lg.isdigit():
        out.append((s, RDFS.seeAlso, m.estat_area(lg[:5])))
    _common(out, s, row, t)
    return s, out, [], requires


# ---- towns ------------------------------------------------------------------------------------

def _town(record: Record, m: Minter, t: Terms, state: _FileState) -> Mapped | Problem:
    row: Row = record.data
    lg, mid = row["lg_code"], row["machiaza_id"]
    s = m.town(lg, mid)
    out: list[Triple] = [
        (s, RDF.type, t.Town),
        (s, DCTERMS.identifier, Literal(f"{lg}-{mid}")),
        (s, t.machiazaId, Literal(mid)),
        (s, DCTERMS.isPartOf, m.municipality(lg)),
    ]
    _place(out, s, lg, m, t)
    _code(out, s, t.machiazaType, t, "machiaza-type", row["machiaza_type"])
    ja, kana, en = town_name(row)
    _names(out, s, RDFS.label, ja, kana if ja else "", en if ja else "")
    _names(out, s, t.oazaCho, row["oaza_cho"], row["oaza_cho_kana"], row["oaza_cho_roma"])
    _names(out, s, t.chome, row["chome"], row["chome_kana"])
    if row["chome_number"]:
        out.append((s, t.chomeNumber, Literal(row["chome_number"], XSD.integer)))
    _names(out, s, t.koaza, row["koaza"], row["koaza_kana"], row["koaza_roma"])
    if row["machiaza_dist"]:
        out.append((s, t.machiazaDistinction, Literal(row["machiaza_dist"], None, "ja")))
    if row["alias_oaza"] or row["alias_koaza"]:
        alias = Row(row.kind, {**row.values,
                               "oaza_cho": row["alias_oaza"] or row["oaza_cho"],
                               "oaza_cho_kana": row["alias_oaza_kana"] if row["alias_oaza"] else row["oaza_cho_kana"],
                               "oaza_cho_roma": row["alias_oaza_roma"] if row["alias_oaza"] else row["oaza_cho_roma"],
                               "koaza": row["alias_koaza"] or row["koaza"],
                               "koaza_kana": row["alias_koaza_kana"] if row["alias_koaza"] else row["koaza_kana"],
                               "koaza_roma": row["alias_koaza_roma"] if row["alias_koaza"] else row["koaza_roma"]})
        aja, akana, aen = town_name(alias)
        _names(out, s, SKOS.altLabel, aja, akana, aen)
    _code(out, s, t.residentialAddressIndication, t, "rsdt-addr-flag", row["rsdt_addr_flg"])
    _code(out, s, t.residentialAddressMethod, t, "rsdt-addr-method", row["rsdt_addr_mtd_code"])
    _code(out, s, t.oazaChoAlias, t, "oaza-cho-alias", row["oaza_cho_aka_flg"])
    _code(out, s, t.koazaAlias, t, "koaza-alias", row["koaza_aka_code"])
    for column, p in (("oaza_cho_gsi_uncmn", t.oazaChoGsiGaiji), ("koaza_gsi_uncmn", t.koazaGsiGaiji)):
        if row[column] not in ("", "0"):
            out.append((s, p, Literal(row[column])))
    for column, p in (("oaza_cho_uncmn_reg", t.oazaChoGaijiRegistry), ("oaza_cho_uncmn_mj", t.oazaChoGaijiMJ),
                      ("oaza_cho_uncmn_code", t.oazaChoGaijiCode), ("koaza_uncmn_reg", t.koazaGaijiRegistry),
                      ("koaza_uncmn_mj", t.koazaGaijiMJ), ("koaza_uncmn_code", t.koazaGaijiCode)):
        if row[column]:
            out.append((s, p, Literal(row[column])))
    _code(out, s, t.oazaChoGaijiCodeType, t, "gaiji-code-type", row["oaza_cho_uncmn_type"])
    _code(out, s, t.koazaGaijiCodeType, t, "gaiji-code-type", row["koaza_uncmn_type"])
    _code(out, s, t.confirmationStatus, t, "status-flag", row["status_flg"])
    _code(out, s, t.lotNumbering, t, "wake-num-flag", row["wake_num_flg"])
    _code(out, s, t.sourceMaterial, t, "town-source", row["src_code"])
    for post in row["post_code"].split(";"):
        if post.strip():
            out.append((s, LOCN.postCode, Literal(post.strip())))
    _common(out, s, row, t)
    return s, out, [], (m.municipality(lg),)


# ---- 住居表示: blocks and residences; 地番: parcels ------------------------------------------------

def _block_core(row: Row, m: Minter, t: Terms) -> tuple[IRI, list[Triple]]:
    """What both a block row and a residence row say about a block (so derived blocks match)."""
    lg, mid, blk = row["lg_code"], row["machiaza_id"], row["blk_id"]
    s = m.block(lg, mid, blk)
    out: list[Triple] = [
        (s, RDF.type, t.Block),
        (s, DCTERMS.identifier, Literal(f"{lg}-{mid}-{blk}")),
        (s, t.blockId, Literal(blk)),
        (s, DCTERMS.isPartOf, m.town(lg, mid)),
    ]
    _place(out, s, lg, m, t)
    if row["blk_num"]:
        out.append((s, t.blockNumber, Literal(row["blk_num"])))
        out.append((s, RDFS.label, Literal(f"{town_name(row)[0]}{row['blk_num']}番", None, "ja")))
    return s, out


def _rsdtdsp_facts(out: list[Triple], s: IRI, row: Row, m: Minter, t: Terms) -> None:
    _code(out, s, t.residentialAddressIndication, t, "rsdt-addr-flag", row["rsdt_addr_flg"])
    _code(out, s, t.residentialAddressMethod, t, "rsdt-addr-method", row["rsdt_addr_mtd_code"])
    _code(out, s, t.confirmationStatus, t, "status-flag", row["status_flg"])
    _code(out, s, t.sourceMaterial, t, "rsdtdsp-source", row["src_code"])
    _common(out, s, row, t)


def _block(record: Record, m: Minter, t: Terms, state: _FileState) -> Mapped | Problem:
    row: Row = record.data
    s, out = _block_core(row, m, t)
    _rsdtdsp_facts(out, s, row, m, t)
    return s, out, [], (m.town(row["lg_code"], row["machiaza_id"]),)


def _residence(record: Record, m: Minter, t: Terms, state: _FileState) -> Mapped | Problem:
    row: Row = record.data
    lg, mid, blk, rsdt, rsdt2 = (row[c] for c in ("lg_code", "machiaza_id", "blk_id", "rsdt_id", "rsdt2_id"))
    s = m.residence(lg, mid, blk, rsdt, rsdt2 if rsdt2 else "")
    block, block_triples = _block_core(row, m, t)
    out: list[Triple] = [
        (s, RDF.type, t.Residence),
        (s, DCTERMS.identifier, Literal(record.key)),
        (s, t.blockId, Literal(blk)),
        (s, t.residenceId, Literal(rsdt)),
        (s, DCTERMS.isPartOf, block),
    ]
    if rsdt2:
        out.append((s, t.residence2Id, Literal(rsdt2)))
    _place(out, s, lg, m, t)
    if row["rsdt_num"]:
        out.append((s, t.residenceNumber, Literal(row["rsdt_num"])))
    if row["rsdt_num2"]:
        out.append((s, t.residenceNumber2, Literal(row["rsdt_num2"])))
    number = row["rsdt_num"] + (f"-{row['rsdt_num2']}" if row["rsdt_num2"] else "")
    block_part = f"{row['blk_num']}番" if row["blk_num"] else ""
    out.append((s, RDFS.label, Literal(f"{town_name(row)[0]}{block_part}{number}号", None, "ja")))
    _code(out, s, t.basicResidenceDivision, t, "basic-rsdt-div", row["basic_rsdt_div"])
    _rsdtdsp_facts(out, s, row, m, t)
    extra: list[Triple] = []
    if state.last_block != block:   # rows are sorted by block: state each block once per run
        state.last_block = block
        extra = block_triples
    # its block is stated by this file (the block file may never come): what must exist is the town
    return s, out, extra, (m.town(lg, mid),)


def _parcel(record: Record, m: Minter, t: Terms, state: _FileState) -> Mapped | Problem:
    row: Row = record.data
    lg, mid, prc = row["lg_code"], row["machiaza_id"], row["prc_id"]
    s = m.parcel(lg, mid, prc)
    out: list[Triple] = [
        (s, RDF.type, t.Parcel),
        (s, DCTERMS.identifier, Literal(record.key)),
        (s, t.parcelId, Literal(prc)),
        (s, DCTERMS.isPartOf, m.town(lg, mid)),
    ]
    _place(out, s, lg, m, t)
    n1, n2, n3 = row["prc_num1"], row["prc_num2"], row["prc_num3"]
    for value, p in ((n1, t.parcelNumber), (n2, t.parcelBranch), (n3, t.parcelSubBranch)):
        if value:
            out.append((s, p, Literal(value)))
    if n1:
        label = f"{town_name(row)[0]}{n1}番" + (n2 or "") + (f"-{n3}" if n3 else "")
        out.append((s, RDFS.label, Literal(label, None, "ja")))
    _code(out, s, t.residentialAddressIndication, t, "rsdt-addr-flag", row["rsdt_addr_flg"])
    _code(out, s, t.parcelRecordLevel, t, "parcel-record-flag", row["prc_rec_flg"])
    _code(out, s, t.parcelArea, t, "parcel-area-code", row["prc_area_code"])
    _code(out, s, t.sourceMaterial, t, "parcel-source", row["src_code"])
    if row["real_prop_num"]:
        out.append((s, t.realPropertyNumber, Literal(row["real_prop_num"])))
    _common(out, s, row, t)
    return s, out, [], (m.town(lg, mid),)


_BASE: dict[str, Callable] = {
    "mt_pref": _prefecture, "mt_city": _municipality, "mt_town": _town, "mt_rsdtdsp_blk": _block,
    "mt_rsdtdsp_rsdt": _residence, "mt_parcel": _parcel,
}


# ---- representative points (_pos files) -------------------------------------------------------

def _pos_entity(row: Row, m: Minter) -> tuple[IRI, str | None]:
    """The entity a _pos row locates, and why its key is malformed (None when fine)."""
    lg = row["lg_code"]
    problem = local_government_code_problem(lg)
    for column, digits in _ID_DIGITS.items():
        value = row[column]
        if problem is None and (value or column in row.kind.key) and not (
                len(value) == digits and value.isascii() and value.isdigit()):
            problem = f"{column} must be {digits} digits, got {value!r}"
    name = row.kind.name
    if name == "mt_lg_pos":
        s = m.prefecture(lg) if lg[2:5] == "000" else m.municipality(lg)
    elif name == "mt_town_pos":
        s = m.town(lg, row["machiaza_id"])
    elif name == "mt_rsdtdsp_blk_pos":
        s = m.block(lg, row["machiaza_id"], row["blk_id"])
    elif name == "mt_rsdtdsp_rsdt_pos":
        rsdt2 = row["rsdt2_id"]
        s = m.residence(lg, row["machiaza_id"], row["blk_id"], row["rsdt_id"], rsdt2 if rsdt2 else "")
    else:
        s = m.parcel(lg, row["machiaza_id"], row["prc_id"])
    return s, problem


def wkt_point(lon: str, lat: str, srid: str) -> tuple[str | None, str | None]:
    """(WKT literal text with its CRS IRI, None) or (None, the reason it cannot be made)."""
    if not (lon and lat):
        return None, f"only one of rep_lon {lon!r} / rep_lat {lat!r} (代表点_経度/緯度) is given"
    try:
        x, y = float(lon), float(lat)
    except ValueError:
        return None, f"rep_lon {lon!r} / rep_lat {lat!r} is not a number"
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0) or x != x or y != y:
        return None, f"rep_lon {lon} / rep_lat {lat} is out of range (longitude, latitude in degrees)"
    match = _SRID.match(srid)
    if not match:
        why = "is empty: the CRS of the point is unknown" if not srid else "is not an EPSG code"
        return None, f"rep_srid (代表点_座標参照系) {srid!r} {why}"
    return f"<{CRS_BASE}{int(match.group(1))}> POINT({lon} {lat})", None


def point_triples(row: Row, entity: IRI, wkt: str, m: Minter, t: Terms) -> list[Triple]:
    p = m.point(entity)
    out: list[Triple] = [(p, RDF.type, GEO.Geometry), (p, GEO.asWKT, Literal(wkt, GEO.wktLiteral))]
    if row["rep_scale"]:
        out.append((p, t.mapLevel, Literal(row["rep_scale"], XSD.integer)))
    scheme = _POINT_SOURCE.get(row.kind.name)
    if scheme:
        _code(out, p, t.pointSource, t, scheme, row["rep_src_code"])
    if row["pos_oaza_cho_chome_code"]:
        out.append((p, t.mlitOazaChomeCode, Literal(row["pos_oaza_cho_chome_code"])))
    for code in row["cns_bnd_s_area_kcode"].split(";"):
        if code.strip():
            out.append((p, t.censusAreaKeyCode, Literal(code.strip())))
    rdbl = row["rsdt_addr_code_rdbl"]
    if rdbl.startswith(("http://", "https://")) and not any(c in rdbl for c in ' <>"{}|\\^`'):
        out.append((p, RDFS.seeAlso, IRI(rdbl)))
    elif rdbl:
        out.append((p, t.gsiAddressCode, Literal(rdbl)))
    if row["rsdt_addr_data_mnt_date"]:
        out.append((p, t.gsiDataDate, date(row["rsdt_addr_data_mnt_date"])))
    return out


def _point(record: Record, copies: int, m: Minter, t: Terms) -> Entity | Problem:
    """The point of one _pos key; it requires the entity it locates (loaded by its base file)."""
    row: Row = record.data
    entity, problem = _pos_entity(row, m)
    if problem is not None:
        return Problem(record.source, record.line, record.key, problem, "key")
    if not row["rep_lon"] and not row["rep_lat"]:
        # the spec makes the point optional ("代表点座標を収録する場合"): nothing to load, nothing wrong
        return Entity(m.point(entity), [], record.source, record.line, record.key, "append", [], records=copies)
    wkt, problem = wkt_point(row["rep_lon"], row["rep_lat"], row["rep_srid"])
    if problem is not None:
        return Problem(record.source, record.line, record.key, problem, "coordinates")
    point = m.point(entity)
    return Entity(point, point_triples(row, entity, wkt, m, t), record.source, record.line, record.key, "upsert",
                  [(entity, GEO.hasGeometry, point)], records=copies, requires=(entity,))
