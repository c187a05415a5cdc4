"""jGrants 支援制度 (support programs): saved responses of the Digital Agency's public API.

FORMATS.md §4.1. Three response shapes, told apart by their content (never by the file name):

* the list ``GET /subsidies`` — ``result[]`` of summaries (id, name, title, areas, employees,
  maximum amount, acceptance period, sometimes institution_name);
* the v1 detail ``GET /subsidies/id/{id}`` — ``result[0]`` with every field (HTML ``detail``,
  purposes, industries, subsidy rate, attachments as ``{name, data(base64)}`` …);
* the v2 detail — the v1 fields plus ``workflow[]`` (application rounds).

Model (CPSV-AP / CCCEV): a program is a ``cpsv:PublicService`` at ``id/program/jgrants-{id}``.
Purposes are ``cv:thematicArea``, industries (JSIC sections) ``cv:sector``, target areas
``dcterms:spatial`` (the ABR prefecture IRI, or the 全国 / region concepts of
``ontologies/codes/programs.ttl``), the employee-count limit a ``cv:hasCriterion`` node. The code
lists are read from that file, so the loader and the graph share one definition of each value.

A list and a detail of the same program merge into one entity, the detail winning in whichever
order they are loaded: each response is a *versioned upsert* (:class:`Entity.version`) keyed by
``def:sourceResponse`` → ``…/jgrants-response/1-list`` < ``2-detail`` < ``3-detail-v2``. A
fuller response replaces whatever a poorer one wrote; a poorer one arriving later is not
applied. Every field a list states is also in the detail, so both orders give the same graph.

Attachments are base64 files of up to megabytes: only their names are kept (the data is dropped
as soon as the file is parsed). Dates become ``xsd:dateTime`` in Japan time (+09:00): the API's
UTC instants are converted, a value without a zone is taken as Japan time, and a date alone means
the start (acceptance start) or the end (acceptance end, project deadline) of that day.

Closed programs: ``def:acceptanceEnd`` compared with ``NOW()`` in a query is the status *now*;
``def:acceptanceStatus`` (open / closed / upcoming / unknown) is computed at load time and
records its time in ``def:acceptanceStatusDate`` (a snapshot for simple filters and pages).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import Callable, Iterator

from kg.rdf.checkdigits import local_government_code
from kg.rdf.iri import Minter
from kg.text.normalize import label_key, nfkc
from kg.rdf import CPSV, CV, DCTERMS, IRI, RDF, RDFS, XSD, Literal, Triple, boolean

from kg.load.contract import DatasetInfo, Entity, Problem, Record
from kg.load.sources import SourceFile
from kg.errors import InputError
from .reading import read_json

INFO = DatasetInfo(
    name="programs",
    title_ja="支援制度（Jグランツ）",
    title_en="Government support programs (jGrants)",
    publisher="デジタル庁（Jグランツ）",
    publisher_url="https://www.jgrants-portal.go.jp/",
    license_url="https://developers.digital.go.jp/documents/jgrants/api/",
    license_name="Jグランツ公開APIの利用条件（取得した情報を利用・公開する際は「Jグランツ（jGrants）からの出典」である旨を明記）",
    attribution="出典：Jグランツ（jGrants）（https://www.jgrants-portal.go.jp/）の補助金情報を加工して作成",
    source_url="https://developers.digital.go.jp/documents/jgrants/api/",
)

JST = dt.timezone(dt.timedelta(hours=9), "JST")

#: the 47 prefectures in JIS X 0401 order (code = position); lg_code = code + "000" + check digit
PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 新潟県 "
    "富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 "
    "鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 "
    "鹿児島県 沖縄県").split()
PREFECTURE_CODES: dict[str, str] = {name: local_government_code(f"{i:02d}000") for i, name in enumerate(PREFECTURES, 1)}

LIST, DETAIL, DETAIL_V2 = "1-list", "2-detail", "3-detail-v2"
#: keys only a detail response has (a list item has none of them)
_DETAIL_KEYS = frozenset({
    "detail", "subsidy_catch_phrase", "use_purpose", "industry", "target_industry", "target_area_detail",
    "subsidy_rate", "project_end_deadline", "request_reception_presence", "is_enable_multiple_request",
    "front_subsidy_detail_page_url", "application_guidelines", "outline_of_grant", "application_form",
})
#: attachment arrays → the property that keeps their file names
ATTACHMENTS = {"application_guidelines": "applicationGuidelines", "outline_of_grant": "outlineOfGrant",
               "application_form": "applicationForm"}
_JGRANTS_ID = re.compile(r"[0-9A-Za-z]{1,18}")


def now() -> dt.datetime:
    """The clock the acceptance status is computed against (tests replace it)."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class JgrantsItem:
    """One program as one response states it."""

    where: str        # e.g. "result[0]", for messages
    level: str        # LIST, DETAIL or DETAIL_V2
    item: dict


class JgrantsLoader:
    dataset = "programs"
    info = INFO
    suffixes = (".json",)
    relinks = "programs"
    summarised = False
    streamable = False
    tallied = False

    # ---- parsing ----------------------------------------------------------------------------
    def records(self, source: SourceFile, on_read: Callable[[int], None] | None = None) -> Iterator[Record | Problem]:
        data = read_json(source, on_read, what="a jGrants API response")
        by_id: dict[str, Record] = {}
        for index, item in enumerate(response_items(data, source.name), 1):
            where = f"result[{index - 1}]"
            if not isinstance(item, dict):
                yield Problem(source.name, index, "", f"{source.name}: {where} is not a JSON object", "structure")
                continue
            program_id = item.get("id")
            program_id = str(program_id).strip() if isinstance(program_id, (str, int)) and not isinstance(program_id, bool) else ""
            if not program_id:
                yield Problem(source.name, index, "", f"{source.name}: {where} has no id", "id")
                continue
            # a program listed twice in one response: the later item wins
            by_id[program_id] = Record(source.name, index, program_id,
                                       JgrantsItem(where, response_level(item), _drop_attachment_data(item)))
        yield from by_id.values()

    # ---- mapping ----------------------------------------------------------------------------
    def entities(self, records: Iterator[Record | Problem], minter: Minter) -> Iterator[Entity | Problem]:
        at = now()
        for item in records:
            if isinstance(item, Problem):
                yield item
                continue
            yield program_entity(item, minter, at)


def response_items(data, name: str) -> list:
    """The program items of a list or detail response (``result`` is a list, or one object)."""
    if not isinstance(data, dict):
        raise InputError(f"{name}: not a jGrants API response (the top level is a JSON {type(data).__name__}, "
                         f"not an object with a result array)")
    result = data.get("result")
    if isinstance(result, list):
        return result
    if isinstance(result, dict):
        return [result]
    message = api_error_message(data)
    if message:
        raise InputError(f"{name}: a jGrants API error response, not programs ({message})")
    keys = ", ".join(sorted(map(str, data))[:8]) or "none"
    raise InputError(f"{name}: not a jGrants API response (no result array; keys: {keys})")


def api_error_message(data) -> str | None:
    """The message of an API error body (``message``, ``error``, ``errors`` …), if it is one."""
    if not isinstance(data, dict):
        return None
    for key in ("message", "error_message", "errorMessage", "error", "errors", "detail", "title"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, dict):
            inner = api_error_message(value)
            if inner:
                return inner
        if isinstance(value, list) and value:
            parts = [api_error_message(v) if isinstance(v, dict) else str(v) for v in value]
            return "; ".join(p for p in parts if p)
    return None


def response_level(item: dict) -> str:
    if "workflow" in item:
        return DETAIL_V2
    if _DETAIL_KEYS & item.keys():
        return DETAIL
    return LIST


def _drop_attachment_data(item: dict) -> dict:
    """Keep attachment names only: the base64 data is never needed and can be megabytes."""
    out = dict(item)
    for key in ATTACHMENTS:
        files = out.get(key)
        if isinstance(files, list):
            out[key] = [{"name": f.get("name")} if isinstance(f, dict) else f for f in files]
    return out


# ---- HTML → plain text ----------------------------------------------------------------------------

class _TextExtractor(HTMLParser):
    """Text of an HTML fragment: tags dropped, entities decoded, no script/style content."""

    SKIP = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "head", "title"})
    BLOCK = frozenset({"p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "thead", "tbody",
                       "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "blockquote",
                       "pre", "hr", "address", "figure", "figcaption", "caption"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif not self.skipping:
            self._open(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        if not self.skipping and tag not in self.SKIP:
            self._open(tag)
            self.handle_endtag(tag)

    def _open(self, tag: str) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("・")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif not self.skipping and tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


_SPACES = re.compile(r"[ \t\u00a0\u200b]+")


def html_to_text(html: str) -> str:
    """Plain text of the HTML ``detail``: one line per block, runs of spaces folded.

    >>> html_to_text("<p>補助率&nbsp;2/3<br>上限&lt;1億円&gt;</p><script>alert(1)</script><ul><li>A</li><li><b>B</b></li></ul>")
    '補助率 2/3\\n上限<1億円>\\n・A\\n・B'
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# ---- values ----------------------------------------------------------------------------------------

def split_values(value) -> list[str]:
    """jGrants joins several values with " / "; a JSON array is accepted too."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.extend(v.strip() for v in re.split(r"\s*[/／]\s*", item) if v.strip())
        elif item is not None:
            out.append(str(item))
    return list(dict.fromkeys(out))


@lru_cache(maxsize=8)
def code_tables(base: str) -> dict[str, dict[str, IRI]]:
    """Label → concept IRI for each code list of ontologies/codes/programs.ttl, plus prefectures."""
    from rdflib import SKOS as R_SKOS, URIRef

    from kg.resources import graph_of, package_dir

    graph = graph_of([package_dir("ontologies") / "codes" / "programs.ttl"], base)
    m = Minter(base)
    tables: dict[str, dict[str, IRI]] = {}
    for scheme in ("industry", "program-purpose", "employee-class", "program-area"):
        table = tables[scheme] = {}
        for concept in graph.subjects(R_SKOS.inScheme, URIRef(m.scheme(scheme))):
            for prop in (R_SKOS.prefLabel, R_SKOS.altLabel):
                for label in graph.objects(concept, prop):
                    if getattr(label, "language", None) == "ja":
                        table[label_key(str(label))] = IRI(str(concept))
    for name, lg in PREFECTURE_CODES.items():
        tables["program-area"][label_key(name)] = m.prefecture(lg)
    return tables


def parse_datetime(text: str, *, end_of_day: bool = False) -> dt.datetime:
    """An aware datetime; no zone means Japan time, a date alone its first (or last) second."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = dt.date.fromisoformat(text)
        return dt.datetime.combine(day, dt.time(23, 59, 59) if end_of_day else dt.time(0), JST)
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JST)


def datetime_literal(value: dt.datetime) -> Literal:
    value = value.astimezone(JST)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return Literal(text, XSD.dateTime)


def _yen(value) -> tuple[Literal | None, str | None]:
    """subsidy_max_limit → (xsd:decimal yen, None), (None, None) when unset (0/null), or (None, why)."""
    if value is None or isinstance(value, bool) and not value:
        return None, None
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        return None, f"{json.dumps(value, ensure_ascii=False)[:40]} is not an amount of yen"
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        text = nfkc(str(value)).strip().replace(",", "").removesuffix("円").strip()
        if not text:
            return None, None
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            return None, f"{str(value)[:40]!r} is not an amount of yen"
    if re.fullmatch(r"-?0+(\.0+)?", text):
        return None, None
    return Literal(text, XSD.decimal), None


# ---- mapping ---------------------------------------------------------------------------------------

class _Fields:
    """Reads one item's fields, collecting what is wrong with them (field name and reason)."""

    def __init__(self, item: dict):
        self.item = item
        self.problems: list[str] = []

    def text(self, key: str) -> str | None:
        value = self.item.get(key)
        if value is None or isinstance(value, bool) and not value:
            return None
        if isinstance(value, (list, dict)) or isinstance(value, bool):
            self.problems.append(f"{key}: expected text, got {json.dumps(value, ensure_ascii=False)[:40]}")
            return None
        text = str(value).strip()
        return text or None

    def datetime(self, key: str, *, end_of_day: bool = False) -> dt.datetime | None:
        text = self.text(key)
        if text is None:
            return None
        try:
            return parse_datetime(text, end_of_day=end_of_day)
        except ValueError:
            self.problems.append(f"{key}: {text[:40]!r} is not an ISO 8601 date-time")
            return None

    def codes(self, key: str, table: dict[str, IRI], expected: str, value=None) -> list[IRI]:
        out = []
        for v in split_values(self.item.get(key) if value is None else value):
            found = table.get(label_key(v))
            if found is None:
                self.problems.append(f"{key}: unknown value {v[:40]!r} (expected {expected})")
            else:
                out.append(found)
        return out


def program_entity(record: Record, m: Minter, at: dt.datetime) -> Entity | Problem:
    """One program as one response states it → a versioned upsert (the fuller response wins)."""
    it: JgrantsItem = record.data  # type: ignore[assignment]
    k = m.terms
    tables = code_tables(m.base)
    f = _Fields(it.item)
    key = record.key
    prog = m.program(key)
    ja = lambda text: Literal(text, None, "ja")  # noqa: E731
    level = m.code("jgrants-response", it.level)
    t: list[Triple] = [
        (prog, RDF.type, CPSV.PublicService),
        (prog, DCTERMS.identifier, Literal(key)),
        (prog, k.sourceResponse, level),
        (prog, RDFS.seeAlso, m.jgrants_page(key)),
    ]
    add = t.append
    if (name := f.text("name")) is not None:
        add((prog, k.managementNumber, Literal(name)))
    if (title := f.text("title")) is not None:
        add((prog, DCTERMS.title, ja(title)))
        add((prog, RDFS.label, ja(title)))
    if (catch := f.text("subsidy_catch_phrase")) is not None:
        add((prog, k.catchPhrase, ja(catch)))
    if (html := f.text("detail")) is not None and (text := html_to_text(html)):
        add((prog, DCTERMS.description, ja(text)))
    for concept in f.codes("use_purpose", tables["program-purpose"], "one of the 15 jGrants purposes"):
        add((prog, CV.thematicArea, concept))
    industry_key = "industry" if it.item.get("industry") is not None else "target_industry"
    for concept in f.codes(industry_key, tables["industry"], "a JSIC section name such as 製造業"):
        add((prog, CV.sector, concept))
    areas = "全国, a region such as 近畿地方 or a prefecture name"
    for concept in f.codes("target_area_search", tables["program-area"], areas):
        add((prog, DCTERMS.spatial, concept))
    if (detail := f.text("target_area_detail")) is not None:
        add((prog, k.targetAreaDetail, ja(detail)))
    employees = f.codes("target_number_of_employees", tables["employee-class"], "a jGrants employee class such as 20名以下")
    if employees:
        crit = m.fragment(prog, "employees")
        add((prog, CV.hasCriterion, crit))
        add((crit, RDF.type, CV.CriterionRequirement))
        add((crit, RDFS.label, ja("対象従業員数：" + "、".join(split_values(it.item.get("target_number_of_employees"))))))
        for concept in employees:
            add((crit, k.employeeClass, concept))
    if (rate := f.text("subsidy_rate")) is not None:
        add((prog, k.subsidyRate, ja(rate)))
    amount, why = _yen(it.item.get("subsidy_max_limit"))
    if why:
        f.problems.append(f"subsidy_max_limit: {why}")
    elif amount is not None:
        add((prog, k.subsidyMaxLimit, amount))
    start = f.datetime("acceptance_start_datetime")
    end = f.datetime("acceptance_end_datetime", end_of_day=True)
    if start is not None:
        add((prog, k.acceptanceStart, datetime_literal(start)))
    if end is not None:
        add((prog, k.acceptanceEnd, datetime_literal(end)))
    if (deadline := f.datetime("project_end_deadline", end_of_day=True)) is not None:
        add((prog, k.projectEndDeadline, datetime_literal(deadline)))
    if (updated := f.datetime("update_datetime")) is not None:
        add((prog, DCTERMS.modified, datetime_literal(updated)))
    add((prog, k.acceptanceStatus, m.code("program-status", acceptance_status(start, end, at))))
    add((prog, k.acceptanceStatusDate, datetime_literal(at.replace(microsecond=0))))
    if (institution := f.text("institution_name")) is not None:
        add((prog, k.institutionName, ja(institution)))
    if (page := f.text("front_subsidy_detail_page_url")) is not None:
        if re.match(r"https?://[^\s<>\"{}|\\^`]+$", page):
            add((prog, RDFS.seeAlso, IRI(page)))
        else:
            f.problems.append(f"front_subsidy_detail_page_url: {page[:60]!r} is not an http(s) URL")
    for field_name, term in ATTACHMENTS.items():
        files = it.item.get(field_name)
        if files is None:
            continue
        if not isinstance(files, list):
            f.problems.append(f"{field_name}: expected an array of files")
            continue
        for file in files:
            name = file.get("name") if isinstance(file, dict) else None
            if isinstance(name, str) and name.strip():
                add((prog, getattr(k, term), Literal(name.strip())))
    if (reception := f.text("request_reception_presence")) is not None:
        add((prog, k.requestReception, Literal(reception)))
    multiple = it.item.get("is_enable_multiple_request")
    if isinstance(multiple, bool):
        add((prog, k.multipleApplications, boolean(multiple)))
    elif multiple is not None:
        f.problems.append(f"is_enable_multiple_request: expected true or false, got {json.dumps(multiple, ensure_ascii=False)[:20]}")
    if (grant_type := f.text("granttype")) is not None:
        add((prog, k.grantType, Literal(grant_type)))
    t.extend(_rounds(prog, it.item.get("workflow"), f, tables, k, areas))
    if f.problems:
        return Problem(record.source, record.line, key,
                       f"{record.source}: {it.where} (id {key}): " + "; ".join(f.problems), "field")
    return Entity(prog, list(dict.fromkeys(t)), record.source, record.line, key,
                  version=(k.sourceResponse, level))


def _rounds(prog: IRI, workflow, f: _Fields, tables, k, areas: str) -> list[Triple]:
    """v2 workflow[]: one node per application round; its areas also count for the program."""
    if workflow is None:
        return []
    if not isinstance(workflow, list):
        f.problems.append("workflow: expected an array of application rounds")
        return []
    t: list[Triple] = []
    for i, w in enumerate(workflow):
        if not isinstance(w, dict):
            f.problems.append(f"workflow[{i}]: not a JSON object")
            continue
        rf = _Fields(w)
        wid = rf.text("id") or str(i + 1)
        node = Minter.program_round(prog, wid)
        t += [(prog, k.applicationRound, node), (node, RDF.type, k.ApplicationRound), (node, DCTERMS.identifier, Literal(wid))]
        for concept in rf.codes("target_area_search", tables["program-area"], areas):
            t.append((node, DCTERMS.spatial, concept))
            t.append((prog, DCTERMS.spatial, concept))
        if (detail := rf.text("target_area_detail")) is not None:
            t.append((node, k.targetAreaDetail, Literal(detail, None, "ja")))
        if (start := rf.datetime("acceptance_start_datetime")) is not None:
            t.append((node, k.acceptanceStart, datetime_literal(start)))
        if (end := rf.datetime("acceptance_end_datetime", end_of_day=True)) is not None:
            t.append((node, k.acceptanceEnd, datetime_literal(end)))
        f.problems.extend(f"workflow[{i}].{p}" for p in rf.problems)
    return t


def acceptance_status(start: dt.datetime | None, end: dt.datetime | None, at: dt.datetime) -> str:
    """open / closed / upcoming / unknown at ``at`` (a program without an end stays open)."""
    if end is not None and end < at:
        return "closed"
    if start is not None and start > at:
        return "upcoming"
    if start is None and end is None:
        return "unknown"
    return "open"
