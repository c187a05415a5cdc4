"""法令標準XML (e-Gov law XML, schema v3): safe streaming parse into the law's structure and text.

Why a module of its own: the law loader (:mod:`kg.loaders.laws`) maps *records* to triples; this
module turns one XML document (a file, a bulk-zip member, or the JSON tree of API v2
``law_data``) into a flat list of :class:`TextNode` — containers, articles, paragraphs,
supplementary provisions and appendices — each with the path that its IRI is minted from.

Safety: a law file is untrusted input. A DOCTYPE (and so any ENTITY declaration: billion-laughs
bombs, external entities) is refused before the parser sees it — the e-Gov schema never uses one —
and the document is parsed incrementally with the elements of each finished article/paragraph
dropped, so memory stays bounded by the largest paragraph, not by the file.

Also here: 法令番号 parsing (``平成五年法律第八十八号``, ``平成一一年一二月八日法律第一五一号``) and
kanji numerals, both ways.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import IO, Iterable, Iterator, NamedTuple

from kg.text.normalize import int_to_kanji, kanji_to_int

CHUNK = 1 << 16
#: the prolog may hold an XML declaration, comments and processing instructions; no more than this
MAX_PROLOG = 1 << 16


class LawXMLError(Exception):
    """The document cannot be read as 法令標準XML at all (the whole file is refused)."""


class LawStructureError(Exception):
    """The document parsed, but its structure cannot be mapped (one law is rejected)."""


# ---- numbers ------------------------------------------------------------------------------------

ERAS: dict[str, tuple[str, str]] = {  # kanji → (law-ID digit, XML/API name)
    "明治": ("1", "Meiji"), "大正": ("2", "Taisho"), "昭和": ("3", "Showa"), "平成": ("4", "Heisei"), "令和": ("5", "Reiwa"),
}
ERA_BY_NAME = {name: (kanji, digit) for kanji, (digit, name) in ERAS.items()}
ERA_BY_DIGIT = {digit: (kanji, name) for kanji, (digit, name) in ERAS.items()}
ERA_START = {"Meiji": 1868, "Taisho": 1912, "Showa": 1926, "Heisei": 1989, "Reiwa": 2019}
#: 法令番号 kinds whose law IDs are era + year + code + 7 category digits + number
LAW_NUMBER_TYPES = {"法律": "AC", "政令": "CO", "勅令": "IO", "太政官布告": "DF", "太政官達": "DT", "太政官布達": "DH"}

_NUM = "[元〇零一二三四五六七八九十百千0-9０-９]+"
_LAW_NUMBER = re.compile(rf"^(明治|大正|昭和|平成|令和)({_NUM})年(?:({_NUM})月({_NUM})日)?(.+?)第({_NUM})号$")


class LawNumber(NamedTuple):
    era: str            # Meiji … Reiwa
    year: int
    kind: str           # the text between the year and 第, e.g. 法律, 政令, 厚生労働省令
    number: int
    month: int | None   # AmendLawNum carries the promulgation date, LawNum does not
    day: int | None

    @property
    def type_code(self) -> str | None:
        return LAW_NUMBER_TYPES.get(self.kind)

    def canonical(self) -> str:
        """The 法令番号 as e-Gov writes it in LawNum, so different spellings compare equal."""
        kanji = ERA_BY_NAME[self.era][0]
        year = "元" if self.year == 1 else int_to_kanji(self.year)
        return f"{kanji}{year}年{self.kind}第{int_to_kanji(self.number)}号"


def parse_law_number(text: str) -> LawNumber | None:
    """法令番号 text → parts, or None when it is not of the common form.

    >>> parse_law_number("平成一一年一二月八日法律第一五一号").canonical()
    '平成十一年法律第百五十一号'
    >>> parse_law_number("平成五年法律第八十八号")[:4]
    ('Heisei', 5, '法律', 88)
    >>> parse_law_number("昭和四十八年人事院規則一〇―四") is None
    True
    """
    m = _LAW_NUMBER.match(text.strip().replace(" ", "").replace("　", ""))
    if not m:
        return None
    era, year, month, day, kind, number = m.groups()
    values = [kanji_to_int(x) if x else None for x in (year, month, day, number)]
    if values[0] is None or values[3] is None or (month and values[1] is None) or (day and values[2] is None):
        return None
    return LawNumber(ERAS[era][1], values[0], kind, values[3], values[1], values[2])


def suppl_key(amend_law_num: str | None) -> str:
    """The stable IRI key of a 附則: ``original`` for the law's own, else from its AmendLawNum.

    Acts and cabinet orders get a readable key (era digit, year, kind code, number: ``411AC151``
    for 平成十一年法律第百五十一号); other kinds (府省令, 規則 …) a digest of the normalised number.

    >>> suppl_key(None), suppl_key("平成一一年一二月八日法律第一五一号"), suppl_key("令和五年三月一日国土交通省令第十号")[:1]
    ('original', '411AC151', 'h')
    """
    if not amend_law_num or not amend_law_num.strip():
        return "original"
    parsed = parse_law_number(amend_law_num)
    if parsed and parsed.type_code:
        return f"{ERA_BY_NAME[parsed.era][1]}{parsed.year:02d}{parsed.type_code}{parsed.number:03d}"
    basis = parsed.canonical() if parsed else re.sub(r"\s", "", amend_law_num)
    return "h" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:12]


# ---- safe, incremental XML --------------------------------------------------------------------

_PROLOG_TOKEN = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)


def _check_prolog(head: bytes, name: str) -> int | None:
    """Refuse a DOCTYPE before the root element; return the root's offset (None: need more bytes)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4]:
        raise LawXMLError(f"{name}: not UTF-8 XML (法令標準XML files are UTF-8)")
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        m = _PROLOG_TOKEN.match(head, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    rest = head[pos:pos + 4]
    if not rest:
        return None
    line = head[:pos].count(b"\n") + 1
    if rest[:1] != b"<":
        raise LawXMLError(f"{name}: line {line}: not XML (text {head[pos:pos + 12]!r} before the root element)")
    if rest[:2] == b"<?" or b"<!--".startswith(rest) or rest == b"<!--":
        return None  # a comment, declaration or processing instruction not finished yet: read more
    if rest[:2] == b"<!":
        raise LawXMLError(f"{name}: line {line}: a DOCTYPE declaration is not allowed (its entity declarations "
                          f"can expand without bound or read local files; 法令標準XML never needs one)")
    return pos if len(rest) > 1 else None


def xml_events(stream: IO[bytes], name: str, events: tuple[str, ...] = ("start", "end")) -> Iterator[tuple[str, ET.Element]]:
    """(event, element) pairs of a document, parsed incrementally and safely.

    Errors become :class:`LawXMLError` naming the file, line and column.
    """
    parser = ET.XMLPullParser(events=events)
    head = b""
    checked = False
    try:
        while True:
            chunk = stream.read(CHUNK)
            if not checked:
                head += chunk
                if _check_prolog(head, name) is None:
                    if chunk and len(head) < MAX_PROLOG:
                        continue
                    if not head.strip():
                        raise LawXMLError(f"{name}: empty file")
                    raise LawXMLError(f"{name}: no root element in the first {len(head)} bytes")
                checked = True
                chunk, head = head, b""
            if not chunk:
                break
            parser.feed(chunk)
            yield from parser.read_events()
        parser.close()
        yield from parser.read_events()
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise LawXMLError(f"{name}: line {line}, column {column}: not well-formed XML ({reason})") from None


# ---- the law's structure ----------------------------------------------------------------------

CONTAINERS = {"Part": "part", "Chapter": "chapter", "Section": "section", "Subsection": "subsection", "Division": "division"}
CONTAINER_TITLES = {"PartTitle", "ChapterTitle", "SectionTitle", "SubsectionTitle", "DivisionTitle"}
APPENDICES = {"AppdxTable": "appendix-table", "AppdxNote": "appendix-note", "AppdxStyle": "appendix-style",
              "AppdxFormat": "appendix-format", "AppdxFig": "appendix-fig", "Appdx": "appendix",
              "SupplProvisionAppdxTable": "appendix-table", "SupplProvisionAppdxStyle": "appendix-style",
              "SupplProvisionAppdx": "appendix"}
APPENDIX_TITLES = {"AppdxTableTitle", "AppdxNoteTitle", "AppdxStyleTitle", "AppdxFormatTitle", "AppdxFigTitle",
                   "ArithFormulaNum", "SupplProvisionAppdxTableTitle", "SupplProvisionAppdxStyleTitle"}

#: elements whose content starts on a line of its own in a paragraph's text
_LINE_TAGS = {"Item", "TableStructTitle", "TableRow", "List", "Sublist1", "Sublist2", "Sublist3", "Remarks",
              "AmendProvisionSentence", "NewProvision", "Article", "Paragraph", "ArticleCaption", "FigStruct",
              "StyleStruct", "FormatStruct", "NoteStruct", "TableStruct", "QuoteStruct", "RelatedArticleNum",
              "SupplNote", "Chapter", "Section", "Subsection", "Division", "Part",
              } | {f"Subitem{i}" for i in range(1, 11)}
#: elements separated by an ideographic space from what precedes them on the same line
_SPACED_TAGS = {"Column", "ItemSentence", "TableColumn", "ListSentence", "Sublist1Sentence", "Sublist2Sentence",
                "Sublist3Sentence", "ParagraphSentence", "Sentence"} | {f"Subitem{i}Sentence" for i in range(1, 11)}
_SKIP_TAGS = {"Rt", "Fig"}
_CLOSERS = ("。", "　", "\n", "」", "）")


def _pieces(elem: ET.Element, lines: list[list[str]]) -> None:
    tag = elem.tag
    if tag in _LINE_TAGS:
        lines.append([])
    elif tag in _SPACED_TAGS:
        line = lines[-1]
        if line and not "".join(line[-1:]).endswith(_CLOSERS if tag == "Sentence" else ("　", "\n")):
            line.append("　")
    if elem.text and not (elem.text.isspace() and "\n" in elem.text):
        lines[-1].append(elem.text)
    for child in elem:
        if child.tag not in _SKIP_TAGS:
            _pieces(child, lines)
        tail = child.tail
        if tail and not (tail.isspace() and "\n" in tail):
            lines[-1].append(tail)
    if tag in _LINE_TAGS:
        lines.append([])


def plain_text(elements: Iterable[ET.Element]) -> str:
    """Reading-order text of some elements: sentences run on, items and table rows on new lines,
    columns and titles separated by an ideographic space, ruby readings (Rt) left out.

    >>> e = ET.fromstring('<P><ParagraphSentence><Sentence>内の<Ruby>矩<Rt>く</Rt></Ruby>形。</Sentence></ParagraphSentence>'
    ...     '<Item><ItemTitle>一</ItemTitle><ItemSentence><Column><Sentence>法令</Sentence></Column>'
    ...     '<Column><Sentence>法律をいう。</Sentence></Column></ItemSentence></Item></P>')
    >>> plain_text(e)
    '内の矩形。\\n一　法令　法律をいう。'
    """
    lines: list[list[str]] = [[]]
    for elem in elements:
        _pieces(elem, lines)
    out = []
    for pieces in lines:
        text = "".join(pieces).strip(" \t\r\n")
        if text:
            out.append(text)
    return "\n".join(out)


def inline_text(elem: ET.Element | None) -> str:
    """The text of a title-like element, without ruby readings, on one line."""
    if elem is None:
        return ""
    return plain_text([elem]).replace("\n", "　")


def _segment(num: str) -> str:
    from urllib.parse import quote

    return quote(num.strip(), safe="_:-.")


@dataclass(slots=True)
class TextNode:
    """One subdivision of a law text; ``path`` are the IRI segments below the law's IRI."""

    kind: str                          # part/chapter/…/article/paragraph/suppl/preamble/appendix-…
    path: tuple[str, ...]
    parent: tuple[str, ...]            # () for a part of the law itself
    order: int                         # 1-based among the parent's parts
    num: str | None = None             # the Num attribute
    number: str | None = None          # human numbering: 第一条, ２
    title: str | None = None           # 第一章　総則, 附則, 別表
    caption: str | None = None         # （目的等）
    text: str | None = None            # plain text of a paragraph or appendix
    amend_law_num: str | None = None   # 附則 AmendLawNum
    extract: bool = False              # 附則 Extract="true": only an excerpt of the amending law's 附則
    parts: list[tuple[str, ...]] = field(default_factory=list)


@dataclass
class LawDocument:
    """What one 法令標準XML document says: the Law attributes, title and the structure."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    law_num: str = ""
    title: str = ""
    title_attrs: dict[str, str] = field(default_factory=dict)
    nodes: list[TextNode] = field(default_factory=list)
    top: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.attrs.get("Lang") or "ja"

    def articles(self) -> list[TextNode]:
        return [n for n in self.nodes if n.kind == "article"]


@dataclass
class _Frame:
    elem: ET.Element
    node: TextNode | None      # None for MainProvision (its parts belong to the law itself)
    counters: dict[str, int] = field(default_factory=dict)
    child_order: int = 0
    parts: list[tuple[str, ...]] = field(default_factory=list)
    path: tuple[str, ...] = ()
    depth: int = 0


class LawBuilder:
    """Consumes start/end events; keeps only the open structural elements in memory."""

    def __init__(self, name: str):
        self.doc = LawDocument(name)
        self.frames: list[_Frame] = []
        self.stack: list[ET.Element] = []
        self.text_root: ET.Element | None = None
        self.seen: set[tuple[str, ...]] = set()
        self.suppl_keys: dict[str, int] = {}
        self.where: list[str] = []
        self.sibling_index: list[dict[str, int]] = [{}]
        self.top_counters: dict[str, int] = {}

    # element paths for messages: Law/LawBody/MainProvision/Chapter[1]/Article[3]
    def _push_where(self, elem: ET.Element) -> None:
        counts = self.sibling_index[-1]
        counts[elem.tag] = counts.get(elem.tag, 0) + 1
        num = elem.get("Num")
        self.where.append(f"{elem.tag}[@Num='{num}']" if num and elem.tag != "Law" else f"{elem.tag}[{counts[elem.tag]}]")
        self.sibling_index.append({})

    def _pop_where(self) -> None:
        self.where.pop()
        self.sibling_index.pop()

    def location(self) -> str:
        return "/".join(self.where)

    def start(self, elem: ET.Element) -> None:
        self._push_where(elem)
        self.stack.append(elem)
        if self.text_root is not None:
            return
        tag = elem.tag
        depth = len(self.stack)
        if depth == 1:
            if tag != "Law":
                raise LawXMLError(f"{self.doc.name}: the root element is <{tag}>, not <Law> (not 法令標準XML)")
            self.doc.attrs = {k: v.strip() for k, v in elem.attrib.items()}
            return
        parent = self.frames[-1] if self.frames else None
        if tag == "MainProvision" and depth == 3:
            self.frames.append(_Frame(elem, None, child_order=len(self.doc.top), path=(), depth=depth))
        elif tag == "SupplProvision" and depth == 3:
            amend = (elem.get("AmendLawNum") or "").strip() or None
            key = suppl_key(amend)
            n = self.suppl_keys[key] = self.suppl_keys.get(key, 0) + 1
            if n > 1:
                key = f"{key}-{n}"
            self._open(elem, "suppl", ("suppl", key), None, amend_law_num=amend,
                       extract=(elem.get("Extract") or "").strip() == "true")
        elif tag == "Preamble" and depth == 3:
            self._open(elem, "preamble", ("preamble",), None)
        elif parent is not None and tag in CONTAINERS:
            num = self._num(elem, tag)
            self._open(elem, CONTAINERS[tag], parent.path + (CONTAINERS[tag], _segment(num)), num)
        elif parent is not None and tag == "Article":
            num = self._num(elem, tag)
            self._open(elem, "article", self._flat_base() + ("article", _segment(num)), num)
        elif parent is not None and tag == "Paragraph":
            self.text_root = elem
        elif tag in APPENDICES and (depth == 3 or (parent is not None and parent.node is not None and parent.node.kind == "suppl")):
            self.text_root = elem
        elif depth == 3 and tag == "TOC":
            self.text_root = elem  # nothing to keep; dropped at its end

    def _flat_base(self) -> tuple[str, ...]:
        """Articles are numbered through the whole provision: their IRI skips the chapters."""
        for f in reversed(self.frames):
            if f.node is None:
                return ()
            if f.node.kind == "suppl":
                return f.node.path
        return ()

    def _num(self, elem: ET.Element, tag: str) -> str:
        num = (elem.get("Num") or "").strip()
        if not num:
            raise LawStructureError(f"{self.doc.name}: {self.location()}: <{tag}> has no Num attribute")
        return num

    def _open(self, elem: ET.Element, kind: str, path: tuple[str, ...], num: str | None, **extra) -> None:
        parent = self.frames[-1] if self.frames else None
        parent_path = parent.path if parent else ()
        if path in self.seen:
            raise LawStructureError(f"{self.doc.name}: {self.location()}: an earlier {kind} has the same number, "
                                    f"so both would get the IRI …/{'/'.join(path)}")
        self.seen.add(path)
        order = self._next_order(parent)
        node = TextNode(kind, path, parent_path, order, num=num, **extra)
        self.frames.append(_Frame(elem, node, path=path, depth=len(self.stack)))

    def _next_order(self, parent: _Frame | None) -> int:
        if parent is None:
            return len(self.doc.top) + 1
        parent.child_order += 1
        return parent.child_order

    def _attach(self, node: TextNode) -> None:
        parent = self.frames[-1] if self.frames else None
        if parent is None or parent.node is None:
            self.doc.top.append(node.path)
        else:
            parent.parts.append(node.path)
        self.doc.nodes.append(node)

    def end(self, elem: ET.Element) -> None:
        try:
            self._end(elem)
        finally:
            self._pop_where()
            self.stack.pop()
            if self.stack and self.text_root is None:
                # drop finished subtrees so memory stays bounded by what is still open; the parser
                # runs a chunk ahead, so later siblings may exist already: ours is the first left
                parent = self.stack[-1]
                if len(parent) and parent[0] is elem:
                    del parent[0]
                elif len(parent):
                    parent.remove(elem)

    def _end(self, elem: ET.Element) -> None:
        tag = elem.tag
        if self.text_root is not None:
            if elem is not self.text_root:
                return
            self.text_root = None
            self._finish_text(elem)
            return
        depth = len(self.stack)
        frame = self.frames[-1] if self.frames else None
        if depth == 2 and tag == "LawNum":
            self.doc.law_num = inline_text(elem)
        elif depth == 3 and tag == "LawTitle":
            self.doc.title = inline_text(elem)
            self.doc.title_attrs = {k: v.strip() for k, v in elem.attrib.items()}
        elif frame is not None and frame.node is not None and depth - 1 == frame.depth:
            node = frame.node
            if tag in CONTAINER_TITLES or tag == "SupplProvisionLabel":
                node.title = inline_text(elem)
            elif tag == "ArticleCaption":
                node.caption = inline_text(elem)
            elif tag == "ArticleTitle":
                node.number = inline_text(elem)
        elif frame is not None and frame.elem is elem:
            self.frames.pop()
            if frame.node is not None:
                frame.node.parts = frame.parts
                self._attach(frame.node)

    def _finish_text(self, elem: ET.Element) -> None:
        tag = elem.tag
        if tag == "TOC":
            return
        parent = self.frames[-1] if self.frames else None
        if tag == "Paragraph":
            raw = (elem.get("Num") or "").strip()
            base = parent.path if parent else ()
            order = (parent.child_order + 1) if parent else len(self.doc.top) + 1
            num = raw if raw else str(order)
            path = base + ("paragraph", _segment(num))
            if path in self.seen:
                raise LawStructureError(f"{self.doc.name}: {self.location()}: an earlier paragraph has the same "
                                        f"number, so both would get the IRI …/{'/'.join(path)}")
            self.seen.add(path)
            order = self._next_order(parent)
            node = TextNode("paragraph", path, base, order, num=num)
            node.number = inline_text(elem.find("ParagraphNum")) or None
            node.caption = inline_text(elem.find("ParagraphCaption")) or None
            node.text = plain_text(c for c in elem if c.tag not in ("ParagraphNum", "ParagraphCaption")) or None
            self._attach(node)
        elif tag in APPENDICES:
            kind = APPENDICES[tag]
            base = parent.path if parent and parent.node is not None else ()
            counter = parent.counters if parent else self.top_counters
            counter[kind] = counter.get(kind, 0) + 1
            num = (elem.get("Num") or "").strip() or str(counter[kind])
            path = base + (kind, _segment(num))
            if path in self.seen:
                num = f"{num}-{counter[kind]}"
                path = base + (kind, _segment(num))
            self.seen.add(path)
            order = self._next_order(parent if parent and parent.node is not None else None)
            node = TextNode(kind, path, base, order, num=num)
            titles = [c for c in elem if c.tag in APPENDIX_TITLES]
            node.title = inline_text(titles[0]) if titles else None
            node.text = plain_text(c for c in elem if c.tag not in APPENDIX_TITLES) or None
            self._attach(node)


def parse_law_xml(stream: IO[bytes], name: str) -> LawDocument:
    """Parse one 法令標準XML document safely and incrementally."""
    builder = LawBuilder(name)
    for event, elem in xml_events(stream, name):
        if event == "start":
            builder.start(elem)
        else:
            builder.end(elem)
    if not builder.doc.attrs and not builder.doc.title:
        raise LawXMLError(f"{name}: empty document")
    return builder.doc


def law_from_json_tree(tree: dict, name: str) -> LawDocument:
    """The ``law_full_text`` JSON tree of API v2 ``law_data`` (``{tag, attr, children}``) → a document."""
    builder = LawBuilder(name)

    def walk(node, depth: int) -> Iterator[tuple[str, ET.Element]]:
        if depth > 200:
            raise LawXMLError(f"{name}: law_full_text is nested more than 200 levels deep")
        if not isinstance(node, dict) or not isinstance(node.get("tag"), str):
            raise LawXMLError(f"{name}: law_full_text: expected {{tag, attr, children}}, got {type(node).__name__}")
        attrs = node.get("attr") or {}
        if not isinstance(attrs, dict):
            attrs = {}
        elem = ET.Element(node["tag"], {str(k): str(v) for k, v in attrs.items()})
        yield "start", elem
        last: ET.Element | None = None
        for child in node.get("children") or []:
            if isinstance(child, str):
                if last is None:
                    elem.text = (elem.text or "") + child
                else:
                    last.tail = (last.tail or "") + child
                continue
            events = walk(child, depth + 1)
            first = next(events)
            elem.append(first[1])
            yield first
            yield from events
            last = first[1]
        yield "end", elem

    for event, elem in walk(tree, 0):
        if event == "start":
            builder.start(elem)
        else:
            builder.end(elem)
    return builder.doc
