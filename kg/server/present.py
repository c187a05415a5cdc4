"""How each kind of entity is presented to a reader: a summary of what one looks for first, then
the rest grouped and labelled (Japanese and English), values made readable (dates, money,
postcodes, codes by label, points as coordinates with a map link), a history timeline, a law's
table of contents and text, and incoming links grouped by class and property.

It only rearranges the description that also feeds every RDF format (kg.store.describe): the
page shows what the RDF says, never something else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

from kg.rdf.labels import best_label
from kg.rdf.vocab import ADMS, CPSV, CV, DCTERMS, ELI, GEO, LOCN, OWL, PROV, RDF, RDFS, ROV, SKOS, XSD

RDF_TYPE = str(RDF.type)
WKT_POINT = re.compile(r"POINT\s*\(\s*([-\d.]+)\s+([-\d.]+)\s*\)")
JST = dt.timezone(dt.timedelta(hours=9))
NAMES = {str(RDFS.label), str(SKOS.prefLabel)}
PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "skos": str(SKOS), "dcterms": str(DCTERMS), "rov": str(ROV),
            "locn": str(LOCN), "geo": str(GEO), "eli": str(ELI), "cpsv": str(CPSV), "cv": str(CV), "owl": str(OWL),
            "prov": str(PROV), "adms": str(ADMS), "xsd": str(XSD), "void": "http://rdfs.org/ns/void#",
            "dcat": "http://www.w3.org/ns/dcat#"}


@dataclass(frozen=True)
class Group:
    ja: str
    en: str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class Presentation:
    """What a page of one class shows first, how it groups the rest, what it only shows folded."""

    summary: tuple[str, ...] = ()
    groups: tuple[Group, ...] = ()
    technical: tuple[str, ...] = ()
    #: property → (Japanese, English) label for this class (eli:number is a 法令番号 on a law,
    #: a 番号 on an article)
    relabel: dict[str, tuple[str, str]] = field(default_factory=dict)


G = Group
CORPORATION = Presentation(
    summary=("dcterms:identifier", "rov:legalName", "rov:orgStatus", "rov:orgType", "locn:address", "kg:town",
             "rov:registration", "kg:closeDate", "kg:closeCause", "kg:successor", "kg:changeDate", "dcterms:modified"),
    groups=(G("所在地", "Location", ("kg:prefecture", "kg:municipality", "kg:addressMatchLevel")),
            G("登記記録", "Register record", ("kg:process", "kg:changeCause", "kg:correction", "kg:sequenceNumber")),
            G("外部リンク", "Elsewhere", ("owl:sameAs", "rdfs:seeAlso"))),
    relabel={"dcterms:identifier": ("法人番号", "corporate number"), "rov:registration": ("法人番号指定年月日", "number assigned")},
)
PLACE = Presentation(
    summary=("dcterms:identifier", "kg:prefecture", "kg:municipality", "dcterms:isPartOf", "kg:town", "kg:oazaCho",
             "kg:chome", "kg:blockNumber", "kg:residenceNumber", "kg:machiazaType", "kg:residentialAddressIndication",
             "kg:residentialAddressMethod", "geo:hasGeometry", "kg:effectiveDate"),
    groups=(G("地方公共団体", "Local government", ("kg:localGovernment", "kg:localGovernmentArea")),
            G("通称と原典", "Aliases and sources", ("kg:oazaChoAlias", "kg:koazaAlias", "kg:confirmationStatus",
                                                  "kg:sourceMaterial", "kg:lotNumbering", "kg:gsiDataDate")),
            G("外部リンク", "Elsewhere", ("owl:sameAs", "rdfs:seeAlso"))),
    technical=("kg:machiazaId", "kg:blockId", "kg:residenceId", "kg:chomeNumber", "kg:mlitOazaChomeCode"),
    relabel={"dcterms:identifier": ("コード", "code"), "dcterms:isPartOf": ("所属", "part of")},
)
LAW = Presentation(
    summary=("eli:number", "dcterms:title", "dcterms:alternative", "eli:date_document", "eli:type_document",
             "kg:repealStatus", "kg:currentRevision", "rdfs:seeAlso"),
    groups=(G("改正履歴", "Revisions", ("eli:is_realized_by", "kg:textRevision")),
            G("分類", "Classification", ("kg:category", "kg:lawNumberEra", "kg:lawNumberYear", "kg:lawNumberNum"))),
    technical=("eli:id_local", "dcterms:identifier", "eli:has_part"),
    relabel={"rdfs:seeAlso": ("e-Gov法令検索", "e-Gov law search")},
)
REVISION = Presentation(
    summary=("eli:title", "eli:version_date", "eli:realizes", "kg:revisionStatus", "kg:repealStatus",
             "eli:date_no_longer_in_force", "kg:amendingLaw"),
    groups=(G("題名", "Titles", ("eli:title_alternative",)),),
    technical=("dcterms:identifier",),
)
PART = Presentation(
    summary=("eli:number", "dcterms:title", "kg:caption", "eli:is_part_of", "eli:type_subdivision"),
    technical=("eli:id_local", "kg:order", "eli:has_part", "kg:text"),   # the text is shown as text
    relabel={"eli:number": ("番号", "number"), "eli:id_local": ("IRIの番号", "local ID"),
             "eli:is_part_of": ("上位の区分", "part of")},
)
PROGRAM = Presentation(
    summary=("dcterms:title", "kg:institutionName", "cv:hasCompetentAuthority", "kg:acceptanceStatus",
             "kg:acceptanceStart", "kg:acceptanceEnd", "kg:subsidyMaxLimit", "kg:subsidyRate", "dcterms:spatial",
             "cv:hasLegalResource", "rdfs:seeAlso"),
    groups=(G("内容", "About", ("kg:catchPhrase", "dcterms:description", "cv:sector", "cv:thematicArea",
                               "cv:hasCriterion", "kg:targetAreaDetail")),
            G("申請", "Applying", ("kg:applicationRound", "kg:requestReception", "kg:multipleApplications",
                                 "kg:projectEndDeadline", "kg:applicationGuidelines", "kg:applicationForm",
                                 "kg:outlineOfGrant")),
            G("根拠法令の照合", "Legal basis matched", ("kg:legalBasis",))),
    technical=("kg:sourceResponse", "kg:acceptanceStatusDate", "kg:managementNumber", "dcterms:identifier"),
    relabel={"rdfs:seeAlso": ("Jグランツの頁", "jGrants page")},
)
CONCEPT = Presentation(summary=("skos:notation", "skos:prefLabel", "skos:inScheme", "skos:definition", "skos:broader"),
                       groups=(G("コード表の項目", "Concepts", ("skos:hasTopConcept",)),))
TERM = Presentation(summary=("rdfs:comment", "rdfs:domain", "rdfs:range", "rdfs:subClassOf", "rdfs:subPropertyOf",
                             "owl:equivalentClass", "owl:inverseOf", "rdfs:isDefinedBy"))
DEFAULT = Presentation()
#: class (CURIE) → its presentation; the first of an entity's types found here wins
BY_CLASS: dict[str, Presentation] = {
    "rov:RegisteredOrganization": CORPORATION, "kg:CorporationRecord": CORPORATION,
    "kg:Prefecture": PLACE, "kg:Municipality": PLACE, "kg:Ward": PLACE, "kg:Town": PLACE, "kg:Block": PLACE,
    "kg:Residence": PLACE, "kg:Parcel": PLACE,
    "eli:LegalResource": LAW, "eli:LegalExpression": REVISION, "eli:LegalResourceSubdivision": PART,
    "cpsv:PublicService": PROGRAM, "skos:Concept": CONCEPT, "skos:ConceptScheme": CONCEPT,
    "owl:Class": TERM, "owl:ObjectProperty": TERM, "owl:DatatypeProperty": TERM, "rdfs:Class": TERM,
    "rdf:Property": TERM,
}
#: fragment nodes by the start of their name (README, "What the graph looks like")
FRAGMENT_NAMES = {"legal-basis-": "根拠法令の照合 / legal basis match", "round-": "募集回 / round",
                  "record-": "過去の記録 / past record", "employees": "対象従業員数 / employees",
                  "address": "所在地 / address", "registration": "法人番号の指定 / registration",
                  "point": "代表点 / point", "class-": "クラス別の件数 / class partition"}
#: literal properties whose numbers are yen
MONEY = ("kg:subsidyMaxLimit",)


class Presenter:
    """Turns one description (``kg.store.describe.description_json``) into what entity.html shows."""

    def __init__(self, data: dict, iri: str, *, base: str, local: Callable[[str], str]):
        self.data, self.iri, self.local = data, iri, local
        self.labels: dict[str, dict[str, str]] = data["labels"]
        self.facts: dict[str, dict[str, list[str]]] = data.get("facts", {})
        self.prefixes = {**PREFIXES, "kg": base + "def/"}
        self.nodes: dict[str, dict[str, list[dict]]] = {}
        for t in data["triples"]:
            self.nodes.setdefault(t["s"]["value"], {}).setdefault(t["p"], []).append(t["o"])
        self.own = self.nodes.get(iri, {})
        self.types = [o["value"] for o in self.own.get(RDF_TYPE, [])]
        self.presentation = next((BY_CLASS[c] for c in map(self.curie, self.types) if c in BY_CLASS), DEFAULT)

    # ---- names -------------------------------------------------------------------------------
    def expand(self, curie: str) -> str:
        prefix, _, name = curie.partition(":")
        return self.prefixes[prefix] + name

    def curie(self, iri: str) -> str:
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns) and "/" not in iri[len(ns):] and "#" not in iri[len(ns):]:
                return prefix + ":" + iri[len(ns):]
        return iri

    def label(self, iri: str) -> str | None:
        return best_label(self.labels.get(iri, {}))

    def class_label(self, c: str) -> tuple[str, str]:
        """(Japanese, English) name of a class; "" is what has no type."""
        if not c:
            return "（種類なし）", "untyped"
        return (self.labels.get(c, {}).get("ja") or self.label(c) or re.split(r"[/#]", c)[-1],
                self.labels.get(c, {}).get("en", ""))

    def prop_label(self, p: str) -> tuple[str, str]:
        override = self.presentation.relabel.get(self.curie(p))
        if override:
            return override
        found = self.labels.get(p, {})
        tail = re.split(r"[/#]", p)[-1]
        return found.get("ja") or found.get("") or found.get("en") or tail, found.get("en") or tail

    # ---- values ------------------------------------------------------------------------------
    def literal(self, term: dict, p: str) -> dict:
        value, datatype, lang = term["value"], term.get("datatype", ""), term.get("lang")
        out: dict = {"kind": "literal", "text": value, "raw": value, "lang": None}
        if lang and lang.lower() != "ja":
            out["lang"] = "読み" if lang.lower() == "ja-hrkt" else lang
        if datatype == str(XSD.date):
            out["text"] = japanese_date(value)
        elif datatype == str(XSD.dateTime):
            out["text"] = japanese_datetime(value)
        elif datatype == str(XSD.boolean):
            out["text"] = "はい / yes" if value in ("true", "1") else "いいえ / no"
        elif datatype in (str(XSD.integer), str(XSD.decimal), str(XSD.nonNegativeInteger)):
            try:
                number = float(value) if datatype == str(XSD.decimal) else int(value)
                if isinstance(number, float) and number.is_integer():
                    number = int(number)
                out["text"] = f"{number:,}" + (" 円" if self.curie(p) in MONEY else "")
            except ValueError:
                pass
        elif datatype.endswith("wktLiteral"):
            out.update(point(value))
        elif p == str(LOCN.postCode) and re.fullmatch(r"\d{7}", value):
            out["text"] = f"〒{value[:3]}-{value[3:]}"
        out["multiline"] = "\n" in out["text"]
        return out

    def value(self, term: dict, p: str, depth: int = 0) -> dict:
        if term["type"] == "literal":
            return self.literal(term, p)
        if term["type"] == "bnode":
            return {"kind": "literal", "text": "（空白ノード / blank node）", "raw": term["value"], "lang": None}
        iri = term["value"]
        if iri.startswith(self.iri + "#") and iri in self.nodes and depth < 2:
            return self.node(iri, depth + 1)
        text = self.label(iri)
        if text is None and "#" in iri and self.label(iri.split("#", 1)[0]):
            base, fragment = iri.split("#", 1)
            text = f"{self.label(base)}（{self.fragment_name(fragment)}）"
        if text is None and self.curie(iri) != iri:
            text = self.curie(iri)            # a term without a label: owl:Class, not its whole IRI
        out = {"kind": "iri", "href": self.local(iri), "iri": iri, "text": text or self.local(iri)}
        facts = self.facts.get(iri, {})
        if "#record-" in iri:            # a corporation's past record is named like the corporation
            out["note"] = "過去の記録 / past record"
        if str(ELI.version_date) in facts:
            out["note"] = japanese_date(facts[str(ELI.version_date)][0]) + "版"
        if str(SKOS.notation) in facts and self.label(iri):
            out["code"] = facts[str(SKOS.notation)][0]
        if str(GEO.asWKT) in facts:
            out["map"] = point(facts[str(GEO.asWKT)][0]).get("map")
        return out

    @staticmethod
    def fragment_name(fragment: str) -> str:
        """``legal-basis-411AC…`` → 根拠法令の照合: what a fragment node of an entity is, in words."""
        for prefix, name in FRAGMENT_NAMES.items():
            if fragment.startswith(prefix):
                return name
        return fragment

    def node(self, iri: str, depth: int) -> dict:
        """A fragment node (address, identifier, point, round, criterion) shown in place."""
        props = self.nodes[iri]
        types = {self.curie(o["value"]) for o in props.get(RDF_TYPE, [])}
        anchor = iri.split("#", 1)[1]
        def first(curie: str) -> str | None:  # the Japanese (or untagged) value first
            values = sorted(props.get(self.expand(curie), []), key=lambda o: (o.get("lang") or "ja") != "ja")
            return values[0]["value"] if values else None

        if "locn:Address" in types:
            code = first("locn:postCode")
            text = " ".join(x for x in (f"〒{code[:3]}-{code[3:]}" if code and len(code) == 7 else code,
                                        first("locn:fullAddress")) if x)
            return {"kind": "literal", "text": text, "raw": text, "lang": None, "anchor": anchor}
        if "adms:Identifier" in types:
            issued = first("dcterms:issued")
            return {"kind": "literal", "text": japanese_date(issued) if issued else first("skos:notation") or "",
                    "raw": first("skos:notation") or "", "lang": None, "anchor": anchor}
        if "geo:Geometry" in types and first("geo:asWKT"):
            return {"kind": "literal", "raw": first("geo:asWKT"), "lang": None, "anchor": anchor,
                    **point(first("geo:asWKT"))}
        rows = self.rows(iri, skip={RDF_TYPE}, depth=depth)
        return {"kind": "node", "anchor": anchor, "rows": rows, "text": self.label(iri) or anchor}

    def rows(self, subject: str, *, only: list[str] | None = None, skip: set[str] = frozenset(), depth: int = 0) -> list[dict]:
        props = self.nodes.get(subject, {})
        keys = only if only is not None else sorted(props, key=lambda p: self.prop_label(p)[0])
        out = []
        for p in keys:
            if p not in props or p in skip:
                continue
            ja, en = self.prop_label(p)
            values = [self.value(o, p, depth) for o in props[p]]
            if all("code" in v for v in values):
                values.sort(key=lambda v: _code_key(v["code"]))
            out.append({"iri": p, "label": ja, "en": en, "objects": values})
        return out

    # ---- the page ----------------------------------------------------------------------------
    def title(self) -> tuple[str, str, str]:
        own = self.labels.get(self.iri, {})
        title = own.get("ja") or own.get("") or own.get("en")
        if not title:
            for p in (str(ROV.legalName), str(DCTERMS.title), str(ELI.title)):
                if self.own.get(p):
                    title = self.own[p][0]["value"]
                    break
        return title or self.local(self.iri), own.get("ja-hrkt", ""), own.get("en", "") if own.get("en") != title else ""

    def sections(self) -> dict:
        """Summary, groups and the folded technical rows of the entity itself."""
        pres = self.presentation
        summary_ps = [self.expand(c) for c in pres.summary]
        title, kana, english = self.title()
        shown_names = {title, kana, english}
        skip = {RDF_TYPE}
        for p in NAMES:  # names the heading shows already
            if all(o["value"] in shown_names for o in self.own.get(p, [])):
                skip.add(p)
        if str(PROV.specializationOf) in self.own:
            skip.add(str(PROV.specializationOf))
        summary = self.rows(self.iri, only=summary_ps, skip=skip)
        town = next((r["objects"][0] for r in summary if self.curie(r["iri"]) == "kg:town" and r["objects"]), None)
        for r in summary:
            if self.curie(r["iri"]) == "locn:address" and town and town.get("map"):
                r["objects"][0]["map"] = town["map"]
        used = set(summary_ps) | skip
        groups = []
        for g in pres.groups:
            ps = [self.expand(c) for c in g.properties]
            rows = self.rows(self.iri, only=ps, skip=used)
            used |= set(ps)
            if rows:
                groups.append({"ja": g.ja, "en": g.en, "rows": rows})
        technical_ps = [self.expand(c) for c in pres.technical]
        rest = [p for p in self.own if p not in used and p not in technical_ps]
        if self.data.get("parts"):
            rest = [p for p in rest if p != str(ELI.has_part)]
        rows = self.rows(self.iri, only=sorted(rest, key=lambda p: self.prop_label(p)[0]))
        if rows:
            groups.append({"ja": "その他", "en": "Other", "rows": rows})
        technical = self.rows(self.iri, only=technical_ps, skip=skip)
        return {"summary": summary, "groups": groups, "technical": technical}

    def banner(self) -> dict | None:
        status = [o["value"] for o in self.own.get(str(ROV.orgStatus), [])]
        if any(s.endswith("/corporation-status/closed") for s in status):
            close = self.own.get(self.expand("kg:closeDate"), [])
            cause = self.own.get(self.expand("kg:closeCause"), [])
            successor = self.own.get(self.expand("kg:successor"), [])
            return {"kind": "closed",
                    "date": japanese_date(close[0]["value"]) if close else "",
                    "cause": self.label(cause[0]["value"]) if cause else "",
                    "successor": self.value(successor[0], self.expand("kg:successor")) if successor else None}
        repeal = [o["value"] for o in self.own.get(self.expand("kg:repealStatus"), [])]
        if any(not r.endswith("/None") for r in repeal):
            return {"kind": "repealed", "text": ", ".join(self.label(r) or r for r in repeal)}
        return None

    def timeline(self) -> list[dict]:
        """A corporation's past records (``#record-…``) and its current state, oldest first."""
        records = [s for s, props in self.nodes.items() if s.startswith(self.iri + "#")
                   and any(self.curie(o["value"]) == "kg:CorporationRecord" for o in props.get(RDF_TYPE, []))]
        if not records:
            return []
        entries = []
        for s in records + [self.iri]:
            props = self.nodes[s]
            date = next((o["value"] for o in props.get(self.expand("kg:changeDate"), [])), "")
            seq = next((o["value"] for o in props.get(self.expand("kg:sequenceNumber"), [])), "0")
            process = next((o["value"] for o in props.get(self.expand("kg:process"), [])), None)
            name = next((o["value"] for o in props.get(str(ROV.legalName), [])), "")
            address = next((self.value(o, str(LOCN.address)) for o in props.get(str(LOCN.address), [])), None)
            entries.append({"anchor": s.split("#", 1)[1] if "#" in s else "current", "current": s == self.iri,
                            "date": japanese_date(date) if date else "", "sort": (date, int(seq) if seq.isdigit() else 0),
                            "process": self.label(process) if process else "", "name": name,
                            "address": address["text"] if address else ""})
        entries.sort(key=lambda e: e["sort"])
        return entries

    def incoming(self, prop: str | None, cls: str | None, offset: int, size: int) -> list[dict]:
        """Links to this entity, grouped by the class of what links and by property, paged."""
        data = self.data
        own_fragments = {s for s in self.nodes if s.startswith(self.iri + "#")}
        parts = {t["s"]["value"] for t in data.get("parts", [])}
        by_key: dict[tuple[str, str], list[dict]] = {}
        hub_classes: dict[str, list[str]] = {}
        split = data.get("incoming_classes", {})
        for t in data["incoming"]:
            s = t["s"]["value"]
            if s in own_fragments or s in parts:
                continue
            types = sorted(self.facts.get(s, {}).get(RDF_TYPE, []))
            c = types[0] if types else ""
            if t["p"] not in split:   # a hub's property: one group, paged as one, its classes named
                if c not in hub_classes.setdefault(t["p"], []):
                    hub_classes[t["p"]].append(c)
                c = "*"
            by_key.setdefault((t["p"], c), []).append(self.value(t["s"], t["p"]))
        listed = {o["value"] for values in self.own.values() for o in values if o["type"] == "iri"}
        groups = []
        for p, total in data["incoming_counts"].items():
            classes = split.get(p)
            keys = list(classes.items()) if classes else [("*", total)]
            for c, count in keys:
                objects = by_key.get((p, c), [])
                if not objects or (count == len(objects) and all(o.get("iri") in listed for o in objects)):
                    continue  # nothing, or only what the page lists already (a scheme's concepts, a law's parts)
                this = p == prop and (cls is None or classes is None or c == cls)
                start = offset if this else 0
                pages = {}
                params = {"p": p, **({"class": c} if classes else {})}
                if start > 0:
                    pages["prev"] = "?" + urlencode({**params, "offset": max(0, start - size)})
                if start + size < count:
                    pages["next"] = "?" + urlencode({**params, "offset": start + size})
                ja, en = self.prop_label(p)
                named = hub_classes.get(p, []) if c == "*" else [c]
                cja = "・".join(self.class_label(x)[0] for x in named)
                cen = " · ".join(filter(None, (self.class_label(x)[1] for x in named)))
                groups.append({"iri": p, "label": ja, "en": en, "class": c, "class_label": cja, "class_en": cen,
                               "count": count, "objects": objects, "start": start,
                               "pages": pages, "also": [],
                               "anchor": "in-" + hashlib.sha1(f"{p}|{c}".encode()).hexdigest()[:8]})
        # one class linking through two properties to the same things (a town's municipality and
        # dcterms:isPartOf) is listed once, under both names
        merged: list[dict] = []
        for g in groups:
            twin = next((m for m in merged if m["class"] == g["class"] and m["count"] == g["count"]
                         and [o["iri"] for o in m["objects"]] == [o["iri"] for o in g["objects"]]), None)
            if twin:
                twin["also"].append(g["label"])
            else:
                merged.append(g)
        merged.sort(key=lambda g: (g["class_label"], -g["count"]))
        return merged


def _code_key(code: str) -> tuple:
    return (0, int(code), code) if code.isdigit() else (1, 0, code)


def japanese_date(value: str) -> str:
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value or "")
    return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日" if m else value


def japanese_datetime(value: str) -> str:
    """An xsd:dateTime in Japan time (a time zone given is converted; none is taken as it is)."""
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if t.tzinfo is not None:
        t = t.astimezone(JST)
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}" + (" JST" if t.tzinfo else "")


def point(wkt: str) -> dict:
    """A WKT point (with or without its CRS IRI) as latitude/longitude and a 地理院地図 link."""
    m = WKT_POINT.search(wkt)
    if not m:
        return {"text": wkt}
    lon, lat = float(m.group(1)), float(m.group(2))
    return {"text": f"北緯 {lat:.6f}° 東経 {lon:.6f}° (lat {lat:.6f}, lon {lon:.6f})",
            "map": f"https://maps.gsi.go.jp/#16/{lat:.6f}/{lon:.6f}/"}


#: subdivision kinds listed in a law's table of contents (paragraphs and items only in its text)
TOC_KINDS = ("part", "chapter", "section", "subsection", "division", "article", "suppl", "preamble",
             "appendix-table", "appendix-note", "appendix-style", "appendix-format", "appendix-fig", "appendix")
CONTAINER_KINDS = ("part", "chapter", "section", "subsection", "division", "suppl")


def law_document(presenter: Presenter) -> list[dict]:
    """The subdivisions below the page's entity in document order (``kg:order`` among siblings),
    each with its depth, kind, heading, caption, number and text as printed."""
    nodes: dict[str, dict[str, list[dict]]] = {}
    for t in presenter.data.get("parts", []):
        nodes.setdefault(t["s"]["value"], {}).setdefault(t["p"], []).append(t["o"])
    children: dict[str, list[tuple[int, str]]] = {}
    part_of, order = str(ELI.is_part_of), presenter.expand("kg:order")
    for s, props in nodes.items():
        for parent in props.get(part_of, []):
            try:
                n = int(props.get(order, [{"value": "0"}])[0]["value"])
            except ValueError:
                n = 0
            children.setdefault(parent["value"], []).append((n, s))
    first = lambda props, p: next((o["value"] for o in props.get(p, [])), "")  # noqa: E731
    out: list[dict] = []

    def walk(parent: str, depth: int, article: tuple[str, str | None] | None) -> None:
        for _, s in sorted(children.get(parent, [])):
            props = nodes[s]
            kind = first(props, str(ELI.type_subdivision)).rsplit("/", 1)[-1]
            number = first(props, str(ELI.number))
            title = first(props, str(DCTERMS.title))
            caption = first(props, presenter.expand("kg:caption"))
            text = first(props, presenter.expand("kg:text"))
            if kind == "suppl" and first(props, presenter.expand("kg:amendLawNum")):
                # as e-Gov prints an amending law's 附則: 附　則（令和元年五月一〇日法律第一〇号）　抄
                caption = f"（{first(props, presenter.expand('kg:amendLawNum'))}）" + (
                    "　抄" if first(props, presenter.expand("kg:extract")) in ("true", "1") else "")
            entry = {"iri": s, "href": presenter.local(s), "anchor": _anchor(presenter.iri, s), "kind": kind,
                     "depth": depth, "number": number, "title": title, "caption": caption, "text": text,
                     "toc": kind in TOC_KINDS, "container": kind in CONTAINER_KINDS}
            if kind == "paragraph":
                # 第一条 prints its first paragraph after the article's number; later ones print their own (２)
                entry["lead"] = article[0] if article is not None else number
                entry["lead_href"] = article[1] if article is not None else None
                article = None
            out.append(entry)
            walk(s, depth + 1, (number, presenter.local(s)) if kind == "article" else None)

    own_kind = first(presenter.own, str(ELI.type_subdivision)).rsplit("/", 1)[-1] if presenter.own else ""
    # on the article's own page its number leads to the first paragraph's page, not back to itself
    own_number = (first(presenter.own, str(ELI.number)), None) if own_kind == "article" else None
    walk(presenter.iri, 0, own_number)
    return out


def _anchor(root: str, iri: str) -> str:
    """An element id for a part, from its IRI below the page's entity: ``article-1-paragraph-2``."""
    return re.sub(r"[^0-9A-Za-z_-]", "-", iri[len(root):].strip("/")) or "top"


def own_text(presenter: Presenter) -> dict | None:
    """A paragraph's or appendix's own text, printed as in the law (its number, then the text)."""
    text = [o["value"] for o in presenter.own.get(presenter.expand("kg:text"), [])]
    if not text:
        return None
    number = next((o["value"] for o in presenter.own.get(str(ELI.number), [])), "")
    caption = next((o["value"] for o in presenter.own.get(presenter.expand("kg:caption"), [])), "")
    return {"number": number, "caption": caption, "text": text[0]}
