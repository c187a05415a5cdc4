"""e-Gov 法令: 法令標準XML texts (single files, directories, the bulk zip) and the law lists of
法令API v1 (``lawlists``, ``updatelawlists`` XML) and v2 (``/laws``, ``/law_revisions``, ``/keyword``,
``/law_data`` JSON, and ``/law_data`` XML: the same fields as elements of ``<law_data_response>``).
FORMATS.md §3.

Model (ELI): a law is an ``eli:LegalResource`` at ``id/law/{law_id}``; every ``law_revision_id``
an ``eli:LegalExpression`` at ``id/law-revision/{id}``; containers, articles, paragraphs, 附則 and
appendices of the law's *current text* are ``eli:LegalResourceSubdivision`` under the law's IRI
(``…/article/{Num}/paragraph/{Num}``, 附則 under ``…/suppl/{key}/…``). Only one text per law is
kept, because article IRIs are not versioned: the text of the latest revision (by enforcement
date) that was loaded with text.

One source record (a law file, or one law of a list) becomes one entity with parts, each
replaced on its own terms when files are loaded in any order (see :class:`Entity`):

* the law's identity (from its ID: invariant, appended) and the links to its revisions;
* ``current``: title, kana, abbreviations, type, 法令番号, category … of the latest revision known
  (versioned by ``kg:currentRevision``; predicates this source does not state are kept);
* ``text``: the structure and plain text (versioned by ``kg:textRevision``, owns ``…/law/X/``
  so a newer text removes every stale subdivision);
* one entity per revision (predicates this source does not state are kept, so a list's category
  survives loading the XML of the same revision, and the other way round).
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import quote

from kg.rdf.iri import Minter, Terms
from kg.rdf import DCTERMS, ELI, IRI, RDF, RDFS, Literal, Triple, XSD, boolean, date, integer

from kg.load.contract import DatasetInfo, Entity, Problem, Record
from kg.load.sources import SourceFile
from kg.errors import InputError
from .lawtext import (ERA_BY_DIGIT, ERA_BY_NAME, ERA_START, LawDocument, LawStructureError, LawXMLError, TextNode,
                      LawBuilder, int_to_kanji, law_from_json_tree, parse_law_number, xml_events)
from .reading import CountingReader, read_json

INFO = DatasetInfo(
    name="laws",
    title_ja="法令（e-Gov 法令検索）",
    title_en="Laws and regulations of Japan (e-Gov)",
    publisher="デジタル庁（e-Gov 法令検索）",
    publisher_url="https://laws.e-gov.go.jp/",
    license_url="https://laws.e-gov.go.jp/terms/",
    license_name="e-Gov 法令検索 利用規約（政府標準利用規約 第2.0版準拠、CC BY 4.0 互換）。法令の本文は著作権法第13条により著作権の目的とならない",
    attribution="出典：e-Gov法令検索（https://laws.e-gov.go.jp/）の法令データを加工して作成",
    source_url="https://laws.e-gov.go.jp/bulkdownload/",
)

LAW_ID = re.compile(r"[1-5][0-9]{2}[0-9A-Z]{12}")
REVISION_ID = re.compile(r"([1-5][0-9]{2}[0-9A-Z]{12})_([0-9]{8})_([0-9A-Z]{15})")
ORIGINAL = "000000000000000"
#: the parts of an API v2 response that describe the law (``attached_files_info`` describes images)
V2_SECTIONS = ("law_info", "revision_info", "current_revision_info")
#: law-ID layouts with era + year + 2-letter kind + 7 category digits + 3-digit number
_STANDARD_ID = re.compile(r"[1-5]([0-9]{2})(AC|CO|IO|DF|DT|DH)[0-9]{7}([0-9]{3})")
_ORDINANCE_ID = re.compile(r"[1-5]([0-9]{2})([MR])([0-9A-F]{8})([0-9]{3})")
LAW_TYPE_NAMES = {"憲法": "Constitution", "法律": "Act", "政令": "CabinetOrder", "勅令": "ImperialOrder",
                  "府省令": "MinisterialOrdinance", "省令": "MinisterialOrdinance", "府令": "MinisterialOrdinance",
                  "規則": "Rule", "閣令": "Misc", "太政官布告": "Misc", "太政官達": "Misc", "太政官布達": "Misc", "その他": "Misc"}
LAW_TYPES = {"Constitution", "Act", "CabinetOrder", "ImperialOrder", "MinisterialOrdinance", "Rule", "Misc"}
CATEGORIES = {name: code for code, name in (line.split(" ", 1) for line in """001 憲法
002 刑事
003 財務通則
004 水産業
005 観光
006 国会
007 警察
008 国有財産
009 鉱業
010 郵務
011 行政組織
012 消防
013 国税
014 工業
015 電気通信
016 国家公務員
017 国土開発
018 事業
019 商業
020 労働
021 行政手続
022 土地
023 国債
024 金融・保険
025 環境保全
026 統計
027 都市計画
028 教育
029 外国為替・貿易
030 厚生
031 地方自治
032 道路
033 文化
034 陸運
035 社会福祉
036 地方財政
037 河川
038 産業通則
039 海運
040 社会保険
041 司法
042 災害対策
043 農業
044 航空
045 防衛
046 民事
047 建築・住宅
048 林業
049 貨物運送
050 外事""".splitlines())}


# ---- what the sources say, before IRIs ----------------------------------------------------------

@dataclass
class Revision:
    """One law_revision_id and what a source says about it (absent fields: the source is silent)."""

    id: str
    title: str | None = None
    kana: str | None = None
    abbrevs: list[str] = field(default_factory=list)
    category: str | None = None
    law_type: str | None = None
    updated: str | None = None
    amendment_promulgation: str | None = None      # the amending law's promulgation date
    amendment_law_num: str | None = None           # the amending law's 法令番号
    amendment_type: str | None = None
    enforcement_comment: str | None = None
    scheduled_enforcement: str | None = None
    repeal_status: str | None = None
    repeal_date: str | None = None
    mission: str | None = None
    status: str | None = None                      # current_revision_status
    url: str | None = None

    @property
    def law_id(self) -> str:
        return self.id.split("_")[0]

    @property
    def enforcement_date(self) -> str:
        d = self.id.split("_")[1]
        return f"{d[:4]}-{d[4:6]}-{d[6:8]}"

    @property
    def amending_law_id(self) -> str | None:
        amend = self.id.split("_")[2]
        return None if amend == ORIGINAL else amend


@dataclass
class LawRecord:
    """Everything one source record says about one law."""

    law_id: str
    kind: str                                        # xml | v1 | v2
    law_type: str | None = None
    law_num: str | None = None
    promulgation_date: str | None = None
    title: str | None = None                          # for records without revisions (v1 lawlists)
    kana: str | None = None
    revisions: list[Revision] = field(default_factory=list)
    current: str | None = None                        # the revision the source calls current
    text: LawDocument | None = None
    text_revision: str | None = None
    lang: str = "ja"


# ---- predicates, and which part of a record owns them -----------------------------------------------

def _law_predicates(k: Terms) -> frozenset[str]:
    """Every predicate the loader writes on a law, so each part can keep the others'."""
    return frozenset({
        RDF.type, DCTERMS.identifier, ELI.id_local, RDFS.seeAlso, k.lawNumberEra, k.lawNumberYear,
        k.lawNumberNum, k.issuerCode, ELI.is_realized_by, ELI.amended_by,
        k.currentRevision, DCTERMS.title, RDFS.label, DCTERMS.alternative, ELI.type_document, ELI.number,
        ELI.date_document, k.category, k.repealStatus, ELI.date_no_longer_in_force,
        k.textRevision, ELI.has_part,
    })


def _revision_predicates(k: Terms) -> frozenset[str]:
    return frozenset({
        RDF.type, DCTERMS.identifier, ELI.realizes, ELI.version_date, k.amendingLaw, ELI.title, RDFS.label,
        ELI.title_alternative, k.category, k.revisionStatus, k.repealStatus, ELI.date_no_longer_in_force,
        k.amendmentType, k.mission, DCTERMS.modified, k.enforcementComment, k.scheduledEnforcementDate,
        RDFS.seeAlso,
    })


def _iso_date(text: str | None) -> str | None:
    """YYYYMMDD or YYYY-MM-DD → YYYY-MM-DD (SHACL judges the value; this only reformats)."""
    if not text:
        return None
    text = text.strip()
    if re.fullmatch(r"[0-9]{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text or None


def _clean(value) -> str | None:
    if value is None or value is False:
        return None
    text = str(value).strip()
    return text or None


def _abbrevs(text: str | None) -> list[str]:
    return [a.strip() for a in re.split(r"[,，、]", text or "") if a.strip()]


def _revision_id_in(name: str) -> str | None:
    found = REVISION_ID.findall(name)
    return "_".join(found[-1]) if found else None


# ---- the loader -------------------------------------------------------------------------------------

class LawsLoader:
    dataset = "laws"
    info = INFO
    suffixes = (".xml", ".json")
    relinks = None
    summarised = False
    streamable = False
    tallied = False

    # ---- parsing ----------------------------------------------------------------------------
    def records(self, source: SourceFile, on_read: Callable[[int], None] | None = None) -> Iterator[Record | Problem]:
        if source.name.lower().endswith(".json"):
            yield from self._json_records(source, on_read)
        else:
            yield from self._xml_records(source, on_read)

    def _xml_records(self, source: SourceFile, on_read) -> Iterator[Record | Problem]:
        stream = CountingReader(source.open(), on_read)
        try:
            events = xml_events(stream, source.name)
            try:
                first = next(events)
            except StopIteration:
                raise InputError(f"{source.name}: empty file") from None
            root = first[1].tag
            if root == "Law":
                yield self._law_text_record(source, first, events)
            elif root == "DataRoot":
                yield from self._v1_records(source, first, events)
            elif root == "law_data_response":
                yield from self._v2_xml_records(source, first, events)
            else:
                raise InputError(f"{source.name}: the root element is <{root}>: neither 法令標準XML (<Law>), "
                                 f"an e-Gov 法令API v1 response (<DataRoot>) nor an API v2 law_data response "
                                 f"(<law_data_response>)")
        except LawXMLError as exc:
            raise InputError(str(exc)) from None
        finally:
            stream.close()

    def _law_text_record(self, source: SourceFile, first, events) -> Record | Problem:
        builder = LawBuilder(source.name)
        try:
            builder.start(first[1])
            for event, elem in events:
                if event == "start":
                    builder.start(elem)
                else:
                    builder.end(elem)
        except LawStructureError as exc:
            for _ in events:  # read to the end: the rest must still be well-formed XML
                pass
            return Problem(source.name, 1, "", str(exc), "structure")
        doc = builder.doc
        revision_id = _revision_id_in(source.name)
        key = revision_id or ""
        if revision_id is None:
            return Problem(source.name, 1, key,
                           f"{source.name}: the file name holds no law revision ID ({{law_id}}_{{YYYYMMDD}}_{{amending law ID}}, "
                           f"e.g. 405AC0000000088_20240401_504AC0100000052.xml, as e-Gov names its downloads); "
                           f"without it the text cannot be placed among the law's revisions", "file-name")
        problem = _check_law_attributes(doc, revision_id.split("_")[0])
        if problem:
            return Problem(source.name, 1, key, f"{source.name}: {problem}", "law-id")
        return Record(source.name, 1, revision_id.split("_")[0], _record_from_document(doc, revision_id))

    def _v1_records(self, source: SourceFile, first, events) -> Iterator[Record | Problem]:
        """法令API v1 ``lawlists`` / ``updatelawlists``: one record per law (grouped: a law can be listed twice)."""
        code = message = None
        index = 0
        by_law: dict[str, LawRecord] = {}
        line_of: dict[str, int] = {}
        path: list[str] = [first[1].tag]
        for event, elem in events:
            if event == "start":
                path.append(elem.tag)
                continue
            path.pop()
            tag = elem.tag
            if tag == "Code" and path[-1:] == ["Result"]:
                code = (elem.text or "").strip()
            elif tag == "Message" and path[-1:] == ["Result"]:
                message = (elem.text or "").strip()
            elif tag in ("LawNameListInfo",):
                index += 1
                row = {child.tag: (child.text or "").strip() for child in elem}
                elem.clear()
                law_id = row.get("LawId", "")
                if not law_id:
                    yield Problem(source.name, index, "", f"{source.name}: ApplData/LawNameListInfo[{index}] has no LawId",
                                  "law-id")
                    continue
                record = by_law.get(law_id)
                if record is None:
                    record = by_law[law_id] = LawRecord(law_id, "v1")
                    line_of[law_id] = index
                _merge_v1(record, row)
            elif tag in ("LawFullText", "LawContents"):
                raise InputError(f"{source.name}: an API v1 lawdata/articles response: it names no revision, so "
                                 f"load the law's XML file (bulk download or API v2 law_file) instead")
        if code != "0":
            raise InputError(f"{source.name}: the API v1 response reports an error (Result/Code {code!r}: {message or 'no message'})")
        if index == 0:
            raise InputError(f"{source.name}: an API v1 response without LawNameListInfo (not lawlists/updatelawlists)")
        for law_id, record in by_law.items():
            yield Record(source.name, line_of[law_id], law_id, record)

    def _v2_xml_records(self, source: SourceFile, first, events) -> Iterator[Record | Problem]:
        """法令API v2 ``/law_data`` as XML: read as it streams, then mapped exactly as the JSON form is."""
        item, text = _read_law_data_xml(source.name, first[1].tag, events)
        law_id = _clean(item.get("law_info", {}).get("law_id"))
        if not law_id:
            yield Problem(source.name, 1, "", f"{source.name}: the response has no law_info.law_id", "law-id")
            return
        record = LawRecord(law_id, "v2")
        try:
            _merge_v2(record, item, source.name, "", text=text)
        except LawStructureError as exc:
            yield Problem(source.name, 1, law_id, str(exc), "structure")
            return
        yield Record(source.name, 1, law_id, record)

    def _json_records(self, source: SourceFile, on_read) -> Iterator[Record | Problem]:
        data = read_json(source, on_read, what="an e-Gov 法令API response")
        if not isinstance(data, dict):
            raise InputError(f"{source.name}: not an e-Gov 法令API v2 response (top level is not an object)")
        if isinstance(data.get("laws"), list):             # GET /laws
            items = [(f"laws[{i}]", item) for i, item in enumerate(data["laws"])]
        elif isinstance(data.get("items"), list):          # GET /keyword
            items = [(f"items[{i}]", item) for i, item in enumerate(data["items"])]
        elif isinstance(data.get("law_info"), dict):       # GET /law_revisions, /law_data
            items = [("", data)]
        else:
            raise InputError(f"{source.name}: not an e-Gov 法令API v2 response (no laws, items or law_info)")
        by_law: dict[str, LawRecord] = {}
        line_of: dict[str, int] = {}
        for index, (where, item) in enumerate(items, 1):
            info = item.get("law_info") if isinstance(item, dict) else None
            law_id = _clean(info.get("law_id")) if isinstance(info, dict) else None
            if not law_id:
                yield Problem(source.name, index, "", f"{source.name}: {where or 'the response'} has no law_info.law_id", "law-id")
                continue
            record = by_law.get(law_id)
            if record is None:
                record = by_law[law_id] = LawRecord(law_id, "v2")
                line_of[law_id] = index
            try:
                _merge_v2(record, item, source.name, where)
            except LawStructureError as exc:
                yield Problem(source.name, index, law_id, str(exc), "structure")
                by_law.pop(law_id)
            except LawXMLError as exc:
                raise InputError(str(exc)) from None
        for law_id, record in by_law.items():
            yield Record(source.name, line_of[law_id], law_id, record)

    # ---- mapping ----------------------------------------------------------------------------
    def entities(self, records: Iterator[Record | Problem], minter: Minter) -> Iterator[Entity | Problem]:
        k = minter.terms
        law_preds, rev_preds = _law_predicates(k), _revision_predicates(k)
        for item in records:
            if isinstance(item, Problem):
                yield item
                continue
            yield law_entity(item, minter, k, law_preds, rev_preds)


# ---- reading the sources into LawRecords -----------------------------------------------------------

def _check_law_attributes(doc: LawDocument, law_id: str) -> str | None:
    """The file name's law ID and the XML's Era/Year/Num must name the same law."""
    m = _STANDARD_ID.fullmatch(law_id) or _ORDINANCE_ID.fullmatch(law_id)
    era = ERA_BY_NAME.get(doc.attrs.get("Era", ""))
    if not m or era is None:
        return None
    year, num = doc.attrs.get("Year", ""), doc.attrs.get("Num", "")
    id_num = m.group(m.lastindex)
    if (era[1] != law_id[0] or not year.isdigit() or int(year) != int(m.group(1))
            or not num.isdigit() or int(num) != int(id_num)):
        return (f"the file name says law {law_id}, but <Law Era={doc.attrs.get('Era')!r} Year={year!r} Num={num!r}> "
                f"is another law")
    return None


def _record_from_document(doc: LawDocument, revision_id: str) -> LawRecord:
    attrs, ta = doc.attrs, doc.title_attrs
    law_id = revision_id.split("_")[0]
    promulgated = None
    era = attrs.get("Era", "")
    if era in ERA_START and attrs.get("Year", "").isdigit() and attrs.get("PromulgateMonth") and attrs.get("PromulgateDay"):
        year = ERA_START[era] + int(attrs["Year"]) - 1
        promulgated = f"{year:04d}-{attrs['PromulgateMonth'].zfill(2)}-{attrs['PromulgateDay'].zfill(2)}"
    revision = Revision(revision_id, title=doc.title or None, kana=_clean(ta.get("Kana")),
                        abbrevs=_abbrevs(ta.get("Abbrev")), law_type=_clean(attrs.get("LawType")))
    return LawRecord(law_id, "xml", law_type=_clean(attrs.get("LawType")), law_num=doc.law_num or None,
                     promulgation_date=promulgated, revisions=[revision], text=doc, text_revision=revision_id,
                     lang=doc.lang)


def _merge_v1(record: LawRecord, row: dict[str, str]) -> None:
    record.law_num = row.get("LawNo") or record.law_num
    record.promulgation_date = _iso_date(row.get("PromulgationDate")) or record.promulgation_date
    if row.get("LawTypeName"):
        record.law_type = LAW_TYPE_NAMES.get(row["LawTypeName"], row["LawTypeName"])
    revision_id = _revision_id_in(row.get("LawUrl", ""))
    if revision_id is None or not revision_id.startswith(record.law_id):
        record.title = row.get("LawName") or record.title
        record.kana = row.get("LawNameKana") or record.kana
        return
    record.revisions = [r for r in record.revisions if r.id != revision_id]
    record.revisions.append(Revision(
        revision_id, title=_clean(row.get("LawName")), kana=_clean(row.get("LawNameKana")),
        law_type=record.law_type, amendment_promulgation=_iso_date(row.get("AmendPromulgationDate")) if row.get("AmendNo") else None,
        amendment_law_num=_clean(row.get("AmendNo")), enforcement_comment=_clean(row.get("EnforcementComment")),
        url=_clean(row.get("LawUrl"))))


def _xml_fields(section: ET.Element, name: str) -> dict[str, str]:
    """``<revision_info><law_title>…</law_title>…`` → the JSON form's ``{"law_title": "…"}`` (empty: null)."""
    fields: dict[str, str] = {}
    for child in section:
        if child.tag in fields:
            raise InputError(f"{name}: <{section.tag}> has two <{child.tag}> elements")
        fields[child.tag] = (child.text or "").strip()
    return fields


def _read_law_data_xml(name: str, root: str, events) -> tuple[dict[str, dict[str, str]], Callable[[], LawDocument] | None]:
    """The sections of ``<law_data_response>`` as the JSON form's dicts, and its text (see
    :func:`_law_in_response`); each section is dropped once read, so memory stays bounded."""
    item: dict[str, dict[str, str]] = {}
    text: Callable[[], LawDocument] | None = None
    path: list[str] = [root]
    for event, elem in events:
        if event == "start":
            path.append(elem.tag)
            if len(path) == 3 and path[1] == "law_full_text":
                if text is not None:
                    raise InputError(f"{name}: <law_full_text> holds more than one element")
                text = _law_in_response(name, elem, events)
                path.pop()
            continue
        path.pop()
        if len(path) == 1:                      # a section of the response has ended
            if elem.tag in V2_SECTIONS and len(elem):  # an empty element is the JSON form's null
                if elem.tag in item:
                    raise InputError(f"{name}: the response has two <{elem.tag}> elements")
                item[elem.tag] = _xml_fields(elem, name)
            elem.clear()                        # drops the text (and any image data) already read
    return item, text


def _law_in_response(name: str, first: ET.Element, events) -> Callable[[], LawDocument]:
    """The ``<Law>`` inside ``<law_full_text>``, built while it streams (consumes it to ``</Law>``).

    Returns what the JSON form's lazy tree parse would: the document, or the structure error
    raised only when the text is used, so both forms reject the same responses the same way."""
    if first.tag != "Law":
        raise InputError(f"{name}: <law_full_text> holds <{first.tag}>, not a 法令標準XML <Law> element")
    builder = LawBuilder(f"{name}: law_full_text")
    error: LawStructureError | None = None
    depth = 0
    for event, elem in itertools.chain([("start", first)], events):
        depth += 1 if event == "start" else -1
        if error is None:
            try:
                builder.start(elem) if event == "start" else builder.end(elem)
            except LawStructureError as exc:
                error = exc
        elif event == "end":
            elem.clear()                        # no longer building: keep memory bounded anyway
        if depth == 0:
            break

    def document() -> LawDocument:
        if error is not None:
            raise error
        return builder.doc
    return document


def _merge_v2(record: LawRecord, item: dict, name: str, where: str,
              text: Callable[[], LawDocument] | None = None) -> None:
    """One API v2 item into the record. ``text`` gives the law's text when it was read already (XML
    form); else the JSON tree is parsed. Either is used only for a response that names its revision."""
    info = item["law_info"]
    record.law_type = _clean(info.get("law_type")) or record.law_type
    record.law_num = _clean(info.get("law_num")) or record.law_num
    record.promulgation_date = _iso_date(_clean(info.get("promulgation_date"))) or record.promulgation_date
    revisions = []
    for key in ("revision_info", "current_revision_info"):
        if isinstance(item.get(key), dict):
            revisions.append((key, item[key]))
    for i, rev in enumerate(item.get("revisions") or []):
        if isinstance(rev, dict):
            revisions.append((f"revisions[{i}]", rev))
    known = {r.id: r for r in record.revisions}
    for key, rev in revisions:
        revision_id = _clean(rev.get("law_revision_id"))
        if not revision_id:
            raise LawStructureError(f"{name}: {where}{'.' if where else ''}{key} has no law_revision_id")
        revision = Revision(
            revision_id, title=_clean(rev.get("law_title")), kana=_clean(rev.get("law_title_kana")),
            abbrevs=_abbrevs(_clean(rev.get("abbrev"))), category=_clean(rev.get("category")),
            law_type=_clean(rev.get("law_type")), updated=_clean(rev.get("updated")),
            amendment_promulgation=_iso_date(_clean(rev.get("amendment_promulgate_date"))) if _clean(rev.get("amendment_law_id")) else None,
            amendment_law_num=_clean(rev.get("amendment_law_num")), amendment_type=_clean(rev.get("amendment_type")),
            enforcement_comment=_clean(rev.get("amendment_enforcement_comment")),
            scheduled_enforcement=_iso_date(_clean(rev.get("amendment_scheduled_enforcement_date"))),
            repeal_status=_clean(rev.get("repeal_status")), repeal_date=_iso_date(_clean(rev.get("repeal_date"))),
            mission=_clean(rev.get("mission")), status=_clean(rev.get("current_revision_status")))
        known[revision_id] = revision
        if key == "current_revision_info":
            record.current = revision_id
    record.revisions = list(known.values())
    rev = item.get("revision_info")
    revision_id = _clean(rev.get("law_revision_id")) if isinstance(rev, dict) else None
    if not revision_id:
        return
    tree = item.get("law_full_text")
    if text is None and isinstance(tree, dict):
        doc = law_from_json_tree(tree, f"{name}: {where or 'law_full_text'}")
    else:
        doc = text() if text is not None else None
    if doc is not None:
        record.text, record.text_revision, record.lang = doc, revision_id, doc.lang


# ---- mapping a LawRecord to entities -----------------------------------------------------------------

def _law_type(value: str | None) -> str | None:
    if not value:
        return None
    return value if value in LAW_TYPES else LAW_TYPE_NAMES.get(value, value)


def identity_triples(law: IRI, law_id: str, m: Minter, k: Terms) -> list[Triple]:
    """What the law ID alone says: the same from every source, so it is appended, never replaced."""
    t: list[Triple] = [
        (law, RDF.type, ELI.LegalResource),
        (law, DCTERMS.identifier, Literal(law_id)),
        (law, ELI.id_local, Literal(law_id)),
        (law, RDFS.seeAlso, m.egov_law(law_id)),
    ]
    if LAW_ID.fullmatch(law_id):
        era = ERA_BY_DIGIT.get(law_id[0])
        if era:
            t.append((law, k.lawNumberEra, m.code("era", era[1])))
        t.append((law, k.lawNumberYear, integer(int(law_id[1:3]))))
        standard = _STANDARD_ID.fullmatch(law_id)
        ordinance = _ORDINANCE_ID.fullmatch(law_id)
        if standard:
            t.append((law, k.lawNumberNum, integer(int(standard.group(3)))))
        elif ordinance:
            t.append((law, k.lawNumberNum, integer(int(ordinance.group(4)))))
            t.append((law, k.issuerCode, Literal(ordinance.group(3))))
    return t


def _current_revision(record: LawRecord) -> Revision | None:
    """The latest revision by enforcement date (= by revision ID) among those in force or past."""
    candidates = [r for r in record.revisions if r.status != "UnEnforced"]
    return max(candidates, key=lambda r: r.id) if candidates else None


def revision_triples(rev: Revision, law: IRI, m: Minter, k: Terms, lang: str) -> list[Triple]:
    """One revision (eli:LegalExpression): dates and amending law from its ID, the rest as the source says."""
    r = m.law_revision(rev.id)
    t: list[Triple] = [
        (r, RDF.type, ELI.LegalExpression),
        (r, DCTERMS.identifier, Literal(rev.id)),
        (r, ELI.realizes, law),
        (r, ELI.version_date, date(rev.enforcement_date)),
    ]
    if rev.amending_law_id:
        t.append((r, k.amendingLaw, m.law(rev.amending_law_id)))
    if rev.title:
        t.append((r, ELI.title, Literal(rev.title, None, lang)))
        t.append((r, RDFS.label, Literal(rev.title, None, lang)))
    if rev.kana:
        t.append((r, RDFS.label, Literal(rev.kana, None, "ja-Hrkt")))
    for a in rev.abbrevs:
        t.append((r, ELI.title_alternative, Literal(a, None, lang)))
    if rev.category:
        t.append((r, k.category, m.code("law-category", CATEGORIES.get(rev.category) or rev.category)))
    if rev.status:
        t.append((r, k.revisionStatus, m.code("revision-status", rev.status)))
    if rev.repeal_status:
        t.append((r, k.repealStatus, m.code("repeal-status", rev.repeal_status)))
    if rev.repeal_date:
        t.append((r, ELI.date_no_longer_in_force, date(rev.repeal_date)))
    if rev.amendment_type:
        t.append((r, k.amendmentType, Literal(rev.amendment_type)))
    if rev.mission:
        t.append((r, k.mission, Literal(rev.mission)))
    if rev.updated:
        t.append((r, DCTERMS.modified, Literal(rev.updated, XSD.dateTime)))
    if rev.enforcement_comment:
        t.append((r, k.enforcementComment, Literal(rev.enforcement_comment, None, "ja")))
    if rev.scheduled_enforcement:
        t.append((r, k.scheduledEnforcementDate, date(rev.scheduled_enforcement)))
    if rev.url and rev.url.startswith(("https://", "http://")):
        t.append((r, RDFS.seeAlso, IRI(quote(rev.url, safe=":/?=&%#_.-~"))))
    return t


def current_triples(record: LawRecord, rev: Revision | None, law: IRI, m: Minter, k: Terms) -> list[Triple]:
    """The law's current metadata: from its latest revision, plus the 法令番号 and dates."""
    lang = record.lang
    t: list[Triple] = []
    if rev is not None:
        t.append((law, k.currentRevision, m.law_revision(rev.id)))
    title = rev.title if rev and rev.title else record.title
    kana = rev.kana if rev and rev.kana else record.kana
    if title:
        t.append((law, DCTERMS.title, Literal(title, None, lang)))
        t.append((law, RDFS.label, Literal(title, None, lang)))
    if kana:
        t.append((law, RDFS.label, Literal(kana, None, "ja-Hrkt")))
    for a in (rev.abbrevs if rev else []):
        t.append((law, DCTERMS.alternative, Literal(a, None, lang)))
    law_type = _law_type((rev.law_type if rev else None) or record.law_type)
    if law_type:
        t.append((law, ELI.type_document, m.code("law-type", law_type)))
    if record.law_num:
        t.append((law, ELI.number, Literal(record.law_num, None, "ja")))
    if record.promulgation_date:
        t.append((law, ELI.date_document, date(record.promulgation_date)))
    if rev and rev.category:
        t.append((law, k.category, m.code("law-category", CATEGORIES.get(rev.category) or rev.category)))
    if rev and rev.repeal_status:
        t.append((law, k.repealStatus, m.code("repeal-status", rev.repeal_status)))
    if rev and rev.repeal_date:
        t.append((law, ELI.date_no_longer_in_force, date(rev.repeal_date)))
    return t


def _short_label(node: TextNode) -> str:
    if node.kind == "article":
        return node.number or f"第{_kanji_num(node.num)}条"
    if node.kind == "paragraph":
        return f"第{_kanji_num(node.num)}項"
    if node.kind == "suppl":
        label = (node.title or "附則").replace("　", "").replace(" ", "")
        return f"{label}（{node.amend_law_num}）" if node.amend_law_num else label
    return node.title or node.kind


def _kanji_num(num: str | None) -> str:
    parts = (num or "").split("_")
    if parts and all(p.isdigit() for p in parts):
        return "の".join(int_to_kanji(int(p)) for p in parts)
    return num or ""


def text_triples(record: LawRecord, law: IRI, law_id: str, m: Minter, k: Terms) -> list[Triple]:
    """The current text: every subdivision with its place, numbering, caption and plain text."""
    doc = record.text
    assert doc is not None and record.text_revision
    lang = record.lang
    title = doc.title or record.title or law_id
    iris: dict[tuple[str, ...], IRI] = {(): law}

    def iri(path: tuple[str, ...]) -> IRI:
        found = iris.get(path)
        if found is None:
            found = iris[path] = m.law_part(law_id, *path)
        return found

    by_path = {n.path: n for n in doc.nodes}
    t: list[Triple] = [(law, k.textRevision, m.law_revision(record.text_revision))]
    t.extend((law, ELI.has_part, iri(p)) for p in doc.top)
    for n in doc.nodes:
        s = iri(n.path)
        t.append((s, RDF.type, ELI.LegalResourceSubdivision))
        t.append((s, ELI.type_subdivision, m.code("subdivision-type", n.kind)))
        t.append((s, ELI.is_part_of, iri(n.parent)))
        t.append((s, k.order, integer(n.order)))
        if n.num:
            t.append((s, ELI.id_local, Literal(n.num)))
        if n.number:
            t.append((s, ELI.number, Literal(n.number, None, lang)))
        if n.title:
            t.append((s, DCTERMS.title, Literal(n.title, None, lang)))
        if n.caption:
            t.append((s, k.caption, Literal(n.caption, None, lang)))
        if n.text:
            t.append((s, k.text, Literal(n.text, None, lang)))
        if n.amend_law_num:
            t.append((s, k.amendLawNum, Literal(n.amend_law_num, None, lang)))
            parsed = parse_law_number(n.amend_law_num)
            if parsed:
                t.append((s, k.amendingLawNumber, Literal(parsed.canonical(), None, "ja")))
        if n.extract:
            t.append((s, k.extract, boolean(True)))
        chain = []
        node: TextNode | None = n
        while node is not None:
            if node.kind in ("article", "paragraph", "suppl") or node is n:
                chain.append(_short_label(node))
            node = by_path.get(node.parent) if node.parent else None
        t.append((s, RDFS.label, Literal(f"{title} {''.join(reversed(chain))}", None, lang)))
        t.extend((s, ELI.has_part, iri(p)) for p in n.parts)
    return t


def _dedupe(triples: list[Triple]) -> list[Triple]:
    return list(dict.fromkeys(triples))


def law_entity(record: Record, m: Minter, k: Terms, law_preds: frozenset[str],
               rev_preds: frozenset[str]) -> Entity:
    """One source record → the law (identity, appended) with its current/text/revision parts."""
    lr: LawRecord = record.data  # type: ignore[assignment]
    law_id = lr.law_id
    law = m.law(law_id)
    base = dict(source=record.source, line=record.line, key=law_id)
    extra = identity_triples(law, law_id, m, k)
    parts: list[Entity] = []
    for rev in sorted(lr.revisions, key=lambda r: r.id):
        rev_iri = m.law_revision(rev.id)
        extra.append((law, ELI.is_realized_by, rev_iri))
        triples = _dedupe(revision_triples(rev, law, m, k, lr.lang))
        stated = {p for _, p, _ in triples}
        parts.append(Entity(rev_iri, triples, **base, keep=rev_preds - stated))
        if rev.amending_law_id:
            amender = m.law(rev.amending_law_id)
            extra.append((law, ELI.amended_by, amender))
            extra.extend(identity_triples(amender, rev.amending_law_id, m, k))
            if rev.amendment_law_num:
                extra.append((amender, ELI.number, Literal(rev.amendment_law_num, None, "ja")))
            if rev.amendment_promulgation:
                extra.append((amender, ELI.date_document, date(rev.amendment_promulgation)))
    current = _current_revision(lr)
    triples = _dedupe(current_triples(lr, current, law, m, k))
    if triples:
        version = m.law_revision(current.id) if current else ""
        stated = {p for _, p, _ in triples}
        parts.append(Entity(law, triples, **base, keep=law_preds - stated, version=(k.currentRevision, version)))
    if lr.text is not None and lr.text_revision:
        triples = _dedupe(text_triples(lr, law, law_id, m, k))
        text_preds = {k.textRevision, ELI.has_part}
        parts.append(Entity(law, triples, **base, keep=law_preds - text_preds, owns=(law + "/",),
                            version=(k.textRevision, m.law_revision(lr.text_revision))))
    return Entity(law, [], **base, action="append", extra=_dedupe(extra), parts=parts)
