"""National Tax Agency corporate numbers (法人番号): bulk 全件 and daily 差分 CSV, Web-API CSV/XML.

Files have no header, 30 columns (FORMATS.md §1.2), UTF-8 (Unicode版) or CP932 (Shift_JIS版).
A diff file holds every event of a day, so one corporation can have several rows: rows with
latest=1 give the current state (the last one wins), the others are history and become
:class:`def:CorporationRecord` nodes. NTA files are sorted by corporate number, so the rows of
one corporation are adjacent and are grouped while streaming (memory stays flat).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from typing import Iterator, Sequence

from kg.rdf.iri import Minter
from kg.rdf import ADMS, DCTERMS, IRI, LOCN, OWL, PROV, RDF, RDFS, ROV, SKOS, Literal, Triple, XSD, boolean, date

from kg.load.contract import DatasetInfo, Entity, Mapped, Problem, Record
from kg.load.sources import SourceFile
from kg.errors import InputError
from .reading import CountingReader, adjacent_groups, csv_rows

from .houjin_format import (ADDR_IMG, ASSIGNED, CHANGE, CHANGE_CAUSE, CITY, CITY_CODE, CLOSE_CAUSE, CLOSE_DATE,
                            COLUMNS, CORRECT, EN_CITY, EN_NAME, EN_OUTSIDE, EN_PREF, FURIGANA, HIHYOJI, KIND, LATEST,
                            NAME, NAME_IMG, NUMBER, OUTSIDE, OUTSIDE_IMG, POST, PREF, PREF_CODE, PROCESS, SEQ, STREET,
                            SUCCESSOR,
                            UPDATE)

A = RDF.type
LABEL = RDFS.label
LEGAL_NAME = ROV.legalName
ORG_TYPE = ROV.orgType
ORG_STATUS = ROV.orgStatus
REGISTRATION = ROV.registration
REGISTERED_ORGANIZATION = ROV.RegisteredOrganization
MODIFIED = DCTERMS.modified
IDENTIFIER = DCTERMS.identifier
ISSUED = DCTERMS.issued
ADDRESS = LOCN.address
ADDRESS_CLASS = LOCN.Address
FULL_ADDRESS = LOCN.fullAddress
ADMIN_L1 = LOCN.adminUnitL1
ADMIN_L2 = LOCN.adminUnitL2
POST_CODE = LOCN.postCode
IDENTIFIER_CLASS = ADMS.Identifier
NOTATION = SKOS.notation
SAME_AS = OWL.sameAs
SPECIALIZATION_OF = PROV.specializationOf

# columns that say how a state was published, not what it is (they change when it is republished)
_STATE_COLUMNS = tuple(i for i in range(30) if i not in (SEQ, CORRECT, UPDATE, LATEST))
_API_HEADER = re.compile(r"^\d{4}-\d{2}-\d{2}$")

INFO = DatasetInfo(
    name="houjin",
    title_ja="法人番号（国税庁 法人番号公表サイト）",
    title_en="Corporate numbers (National Tax Agency)",
    publisher="国税庁",
    publisher_url="https://www.nta.go.jp/",
    license_url="https://www.houjin-bangou.nta.go.jp/riyokiyaku/",
    license_name="国税庁法人番号公表サイト利用規約（公共データ利用規約 第1.0版 / CC BY 4.0 互換）",
    attribution="出典：国税庁法人番号公表サイト（https://www.houjin-bangou.nta.go.jp/）の情報を加工して作成",
    source_url="https://www.houjin-bangou.nta.go.jp/download/",
)


class HoujinLoader:
    dataset = "houjin"
    info = INFO
    suffixes = (".csv", ".xml")
    relinks = "corporations"
    summarised = True
    #: entities are independent of the store, so a load into an empty dataset may stream
    streamable = True
    #: corporations count in the load-time statistics (per prefecture and kind, closures per year, ...)
    tallied = True
    #: the NTA signs every download (X.csv.asc in its zip): KG_SIGNATURE_POLICY=require refuses
    #: a file without a verified signature
    signed = True

    # ---- parsing ----------------------------------------------------------------------------
    def records(self, source: SourceFile, on_read=None) -> Iterator[Record | Problem]:
        if source.name.lower().endswith(".xml"):
            yield from self._xml_records(source, on_read)
        else:
            yield from self._csv_records(source, on_read)

    def _csv_records(self, source: SourceFile, on_read) -> Iterator[Record | Problem]:
        first = True
        for item in csv_rows(source, on_read, what="an NTA corporate-number CSV"):
            if isinstance(item, Problem):
                yield item
                continue
            line, row = item
            if first and len(row) == 4 and _API_HEADER.match(row[0]):
                first = False  # Web-API CSV: lastUpdateDate,count,divideNumber,divideSize
                continue
            if len(row) != 30:
                if first:
                    raise InputError(f"{source.name}: line {line}: not an NTA corporate-number CSV "
                                     f"({len(row)} columns, expected 30)")
                yield Problem(source.name, line, row[1] if len(row) > 1 else "", f"{len(row)} columns, expected 30",
                              "columns")
                continue
            first = False
            yield Record(source.name, line, row[NUMBER], row)
        if first:
            raise InputError(f"{source.name}: no corporate-number rows")

    def _xml_records(self, source: SourceFile, on_read) -> Iterator[Record | Problem]:
        index = 0
        try:
            for _, elem in ET.iterparse(CountingReader(source.open(), on_read), events=("end",)):
                if elem.tag != "corporation":
                    continue
                index += 1
                row = [(elem.findtext(col) or "").strip() for col in COLUMNS]
                elem.clear()
                yield Record(source.name, index, row[NUMBER], row)
        except ET.ParseError as exc:
            raise InputError(f"{source.name}: not well-formed XML ({exc})") from None
        if index == 0:
            raise InputError(f"{source.name}: no <corporation> elements (not an NTA Web-API XML response)")

    def column_records(self, source: SourceFile, minter: Minter, validator, on_read, *,
                       batch_bytes: int) -> "Iterator[Mapped | Record] | None":
        """The file's plain rows mapped as columns, the rest as records (:mod:`loaders.houjin_columns`),
        or None when the file is not regular enough to be read so."""
        from . import houjin_columns as columns
        if not columns.column_plan(source, block_size=batch_bytes):
            return None
        return columns.column_records(source, minter, validator, on_read, block_size=batch_bytes)

    # ---- mapping ----------------------------------------------------------------------------
    def entities(self, records: Iterator[Record | Problem], minter: Minter) -> Iterator[Entity | Problem]:
        for group in adjacent_groups(records):
            if isinstance(group, Problem):
                yield group
            else:
                yield from self._group(group, minter)

    def _group(self, rows: list[Record], minter: Minter) -> Iterator[Entity | Problem]:
        for record in rows:
            problem = _flag_problem(record)
            if problem:
                yield problem
                return
        number = rows[0].key
        corp = minter.corporation(number)
        latest = [r for r in rows if r.data[LATEST] == "1"]
        current = latest[-1] if latest else None
        history = [record_entity(corp, r, minter) for r in rows if r is not current]
        anchor = current or rows[-1]
        if current is not None and current.data[PROCESS] == "99":
            yield Entity(corp, [], anchor.source, anchor.line, number, "delete", records=len(rows))
        elif current is not None:
            # versioned like its past states: an older file loaded after a newer one does not undo it
            yield Entity(corp, corporation_triples(corp, current.data, minter), anchor.source, anchor.line,
                         number, "upsert", records=len(rows), parts=history,
                         version=(str(MODIFIED), current.data[UPDATE]))
        else:
            yield Entity(corp, [], anchor.source, anchor.line, number, "append", records=len(rows), parts=history)


def _flag_problem(record: Record) -> Problem | None:
    row = record.data
    for col, allowed in ((LATEST, ("0", "1")), (CORRECT, ("0", "1", "")), (HIHYOJI, ("0", "1", ""))):
        if row[col] not in allowed:
            return Problem(record.source, record.line, record.key,
                           f"column {COLUMNS[col]} must be {' or '.join(a or 'empty' for a in allowed)}, got {row[col]!r}",
                           "flag")
    return None


def _state_triples(s: IRI, row: Sequence[str], m: Minter) -> list[Triple]:
    """The columns that describe a published state, for a corporation or one of its records."""
    v = m.terms
    t: list[Triple] = []
    add = t.append
    name = row[NAME]
    if name:
        add((s, LEGAL_NAME, Literal(name, None, "ja")))
        add((s, LABEL, Literal(name, None, "ja")))
    if row[EN_NAME]:
        add((s, LEGAL_NAME, Literal(row[EN_NAME], None, "en")))
        add((s, LABEL, Literal(row[EN_NAME], None, "en")))
    if row[FURIGANA]:
        add((s, LABEL, Literal(row[FURIGANA], None, "ja-Hrkt")))
    if row[NAME_IMG]:
        add((s, v.imageId, Literal(row[NAME_IMG])))
    if row[KIND]:
        add((s, ORG_TYPE, m.code("corporation-kind", row[KIND])))
    if row[PROCESS]:
        add((s, v.process, m.code("process", row[PROCESS])))
    if row[CORRECT] == "1":
        add((s, v.correction, boolean(True)))
    if row[UPDATE]:
        add((s, MODIFIED, date(row[UPDATE])))
    if row[CHANGE]:
        add((s, v.changeDate, date(row[CHANGE])))
    if any(row[i] for i in (PREF, CITY, STREET, POST, ADDR_IMG, EN_PREF, EN_CITY)):
        a = Minter.fragment(s, "address")
        add((s, ADDRESS, a))
        add((a, A, ADDRESS_CLASS))
        full = row[PREF] + row[CITY] + row[STREET]
        if full:
            add((a, FULL_ADDRESS, Literal(full, None, "ja")))
        if row[PREF]:
            add((a, ADMIN_L1, Literal(row[PREF], None, "ja")))
        if row[CITY]:
            add((a, ADMIN_L2, Literal(row[CITY], None, "ja")))
        if row[STREET]:
            add((a, v.streetNumber, Literal(row[STREET], None, "ja")))
        if row[EN_PREF]:
            add((a, ADMIN_L1, Literal(row[EN_PREF], None, "en")))
        if row[EN_CITY]:
            add((a, v.streetNumber, Literal(row[EN_CITY], None, "en")))
        if row[EN_CITY] or row[EN_PREF]:
            add((a, FULL_ADDRESS, Literal(", ".join(x for x in (row[EN_CITY], row[EN_PREF]) if x), None, "en")))
        if row[POST]:
            add((a, POST_CODE, Literal(row[POST])))
        if row[ADDR_IMG]:
            add((a, v.imageId, Literal(row[ADDR_IMG])))
    if row[PREF_CODE]:
        pref = row[PREF_CODE]
        add((s, v.prefecture, m.local_government_area("prefecture", pref, "000")))
        if row[CITY_CODE]:
            add((s, v.municipality, m.local_government_area("municipality", pref, row[CITY_CODE])))
    if row[OUTSIDE] or row[EN_OUTSIDE] or row[OUTSIDE_IMG]:
        f = Minter.fragment(s, "foreign-address")
        add((s, v.foreignAddress, f))
        add((f, A, ADDRESS_CLASS))
        if row[OUTSIDE]:
            add((f, FULL_ADDRESS, Literal(row[OUTSIDE], None, "ja")))
        if row[EN_OUTSIDE]:
            add((f, FULL_ADDRESS, Literal(row[EN_OUTSIDE], None, "en")))
        if row[OUTSIDE_IMG]:
            add((f, v.imageId, Literal(row[OUTSIDE_IMG])))
    if row[CLOSE_DATE]:
        add((s, v.closeDate, date(row[CLOSE_DATE])))
    if row[CLOSE_CAUSE]:
        add((s, v.closeCause, m.code("close-cause", row[CLOSE_CAUSE])))
    if row[SUCCESSOR]:
        add((s, v.successor, m.corporation(row[SUCCESSOR])))
    if row[CHANGE_CAUSE]:
        add((s, v.changeCause, Literal(row[CHANGE_CAUSE], None, "ja")))
    if row[HIHYOJI] == "1":
        add((s, v.searchExcluded, boolean(True)))
    if row[SEQ]:
        add((s, v.sequenceNumber, Literal(row[SEQ], XSD.integer)))
    return t


def corporation_triples(corp: IRI, row: Sequence[str], m: Minter) -> list[Triple]:
    """The current state of a corporation (its row with latest=1)."""
    number = row[NUMBER]
    reg = Minter.fragment(corp, "registration")
    closed = bool(row[CLOSE_DATE] or row[CLOSE_CAUSE])
    t: list[Triple] = [
        (corp, A, REGISTERED_ORGANIZATION),
        (corp, IDENTIFIER, Literal(number)),
        (corp, REGISTRATION, reg),
        (reg, A, IDENTIFIER_CLASS),
        (reg, NOTATION, Literal(number)),
        (corp, ORG_STATUS, m.code("corporation-status", "closed" if closed else "active")),
    ]
    if row[ASSIGNED]:
        t.append((reg, ISSUED, date(row[ASSIGNED])))
    if number.isdigit() and len(number) == 13:
        t.append((corp, SAME_AS, m.gbizinfo(number)))
    t.extend(_state_triples(corp, row, m))
    return t


def record_key(row: Sequence[str]) -> str:
    """What a past state says, without how it was published: the NTA republishes a
    corporation's whole history (``correct=1``, a new ``updateDate`` and row number), and a
    republished state is the same state."""
    return hashlib.sha1("\x1f".join(row[i] for i in _STATE_COLUMNS).encode("utf-8")).hexdigest()[:16]


def record_entity(corp: IRI, record: Record, m: Minter) -> Entity:
    """A past state of ``corp``, keyed by its content and versioned by ``updateDate``: publishing
    it again replaces its publication facts (date, row number, correction flag) instead of adding
    a second value of each, and an older file loaded later changes nothing."""
    row = record.data
    triples = record_triples(corp, row, m)
    return Entity(triples[0][0], triples, record.source, record.line, record.key, "upsert", records=0,
                  version=(str(MODIFIED), row[UPDATE]))


def record_triples(corp: IRI, row: Sequence[str], m: Minter) -> list[Triple]:
    """A past state (its row with latest=0, or an earlier latest=1 row of the same file)."""
    rec = m.corporation_record(corp, record_key(row))
    t: list[Triple] = [(rec, A, m.terms.CorporationRecord), (rec, SPECIALIZATION_OF, corp)]
    t.extend(_state_triples(rec, row, m))
    return t
