"""Linked-data pages: /id/… answers 303 to /doc/…, which serves HTML or RDF by negotiation or suffix."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request
from werkzeug.http import http_date, is_resource_modified, quote_etag

from kg.errors import MalformedIdentifier, NotAcceptable
from kg.rdf import RDF, XSD
from kg.rdf.ids import id_problem
from kg.rdf.labels import best_label
from kg.server.formats import PAGE_RDF, by_name, by_suffix, negotiate, page_suffixes, with_charset
from kg.store import open_home

bp = Blueprint("pages", __name__)

#: what pages offer by content negotiation: the HTML page first, then RDF
OFFER = [by_name("html")] + [by_name(n) for n in PAGE_RDF]
RDF_TYPE = str(RDF.type)
WKT_POINT = re.compile(r"POINT\s*\(\s*([-\d.]+)\s+([-\d.]+)\s*\)")


def _generation() -> tuple[str, dt.datetime | None]:
    home = open_home(current_app.config["KG_SETTINGS"], create=False)
    name = home.current_name() or "none"
    try:
        mtime = dt.datetime.fromtimestamp((home.root / "CURRENT").stat().st_mtime, dt.timezone.utc).replace(microsecond=0)
    except FileNotFoundError:
        mtime = None
    return name, mtime


def _check_id(rest: str) -> None:
    problem = id_problem(rest)
    if problem:
        raise MalformedIdentifier(problem)


@bp.get("/id/<path:rest>")
def identify(rest: str) -> Response:
    _check_id(rest)
    return redirect("/doc/" + quote(rest, safe="/-_.~:"), code=303)


@bp.get("/doc/<path:rest>")
def document(rest: str) -> Response:
    return _serve(current_app.config["KG_MINTER"].id, rest, id_path=True)


@bp.get("/def/<path:rest>")
def definition(rest: str) -> Response:
    return _serve(current_app.config["KG_MINTER"].def_, rest, id_path=False)


def _serve(prefix: str, rest: str, *, id_path: bool) -> Response:
    fmt = None
    for suffix in page_suffixes():
        if rest.endswith(suffix):
            rest, fmt = rest[: -len(suffix)], by_suffix(suffix)
            break
    if id_path:
        _check_id(rest)
    negotiated = fmt is None
    if fmt is None:
        fmt = negotiate(request.headers.get("Accept"), OFFER)
        if fmt is None:
            raise NotAcceptable("none of the requested types is available; offered: "
                                + ", ".join(f.media_type for f in OFFER))
    iri = prefix + rest
    prop = request.args.get("p")
    try:
        offset = max(0, int(request.args.get("offset", "0")))
    except ValueError:
        offset = 0
    generation, modified = _generation()
    etag = hashlib.sha1(f"{generation}|{iri}|{fmt.media_type}|{prop}|{offset}".encode()).hexdigest()[:20]
    headers = {"ETag": quote_etag(etag)}
    if negotiated:
        headers["Vary"] = "Accept"
    if modified:
        headers["Last-Modified"] = http_date(modified)
    if not is_resource_modified(request.environ, etag=etag, last_modified=modified):
        return Response(status=304, headers=headers)
    executor = current_app.extensions["kg_executor"]
    answer = executor.run({"kind": "describe", "iri": iri, "prop": prop, "offset": offset,
                           "format": "page" if fmt.name == "html" else fmt.name})
    if fmt.name != "html":
        return Response(answer.body, 200, content_type=with_charset(fmt.media_type), headers=headers)
    data = json.loads(answer.body)
    page = render_template("entity.html", **_page_context(data, iri, prop, offset))
    return Response(page, 200, mimetype="text/html", headers=headers)


# ---- turning the description into what the template shows -----------------------------------

def _local(iri: str) -> str:
    return current_app.config["KG_MINTER"].local_path(iri) or iri


def _label(labels: dict, iri: str, fallback: bool = True) -> str:
    found = best_label(labels.get(iri, {}))
    if found is not None:
        return found
    if not fallback:
        return ""
    tail = re.split(r"[/#]", iri.rstrip("/"))[-1]
    return tail or iri


def _format_literal(term: dict) -> dict:
    value, datatype = term["value"], term.get("datatype", "")
    shown = value
    if datatype == str(XSD.date):
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})$", value)
        if m:
            shown = f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    elif datatype == str(XSD.dateTime):
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})", value)
        if m:
            shown = f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日 {m.group(4)}:{m.group(5)}"
    elif datatype == str(XSD.boolean):
        shown = "はい" if value in ("true", "1") else "いいえ"
    out = {"kind": "literal", "text": shown, "raw": value, "lang": term.get("lang"), "datatype": datatype}
    if datatype.endswith("wktLiteral"):
        m = WKT_POINT.search(value)
        if m:
            lon, lat = m.group(1), m.group(2)
            out["map"] = f"https://maps.gsi.go.jp/#16/{lat}/{lon}/"
    return out


def _value(term: dict, labels: dict) -> dict:
    if term["type"] == "iri":
        label = _label(labels, term["value"], fallback=False)
        return {"kind": "iri", "href": _local(term["value"]), "iri": term["value"], "text": label or term["value"]}
    if term["type"] == "bnode":
        return {"kind": "literal", "text": "_:" + term["value"], "raw": term["value"], "lang": None, "datatype": ""}
    return _format_literal(term)


def _page_context(data: dict, iri: str, prop: str | None, offset: int) -> dict:
    labels = data["labels"]
    size = current_app.config["KG_SETTINGS"].page_size
    subjects: dict[str, dict[str, list]] = {}
    for t in data["triples"]:
        s = t["s"]["value"]
        subjects.setdefault(s, {}).setdefault(t["p"], []).append(_value(t["o"], labels))
    sections = []
    for s, props in subjects.items():
        rows = []
        for p, values in props.items():
            rows.append({"iri": p, "label": _label(labels, p), "en": labels.get(p, {}).get("en", ""),
                         "objects": values})
        rows.sort(key=lambda r: (r["iri"] != RDF_TYPE, r["label"]))
        name = "" if s == iri else s[len(iri):] if s.startswith(iri) else s
        sections.append({"iri": s, "name": name, "rows": rows})
    incoming = []
    by_prop: dict[str, list] = {}
    for t in data["incoming"]:
        by_prop.setdefault(t["p"], []).append(_value(t["s"], labels))
    for p, count in sorted(data["incoming_counts"].items(), key=lambda kv: -kv[1]):
        start = offset if p == prop else 0
        pages = {}
        if start > 0:
            pages["prev"] = "?" + urlencode({"p": p, "offset": max(0, start - size)})
        if start + size < count:
            pages["next"] = "?" + urlencode({"p": p, "offset": start + size})
        incoming.append({"iri": p, "label": _label(labels, p), "count": count, "objects": by_prop.get(p, []),
                         "start": start, "pages": pages, "anchor": "in-" + hashlib.sha1(p.encode()).hexdigest()[:8]})
    own_labels = labels.get(iri, {})
    title = own_labels.get("ja") or own_labels.get("") or own_labels.get("en") or iri
    types = [_value({"type": "iri", "value": v["iri"]}, labels) for r in sections[0]["rows"] if r["iri"] == RDF_TYPE
             for v in r["objects"]] if sections and sections[0]["iri"] == iri else []
    jsonld = []
    for t in data["triples"]:
        o = t["o"]
        if o["type"] == "iri":
            value = {"@id": o["value"]}
        elif o["type"] == "bnode":
            value = {"@id": "_:" + o["value"]}
        elif o.get("lang"):
            value = {"@value": o["value"], "@language": o["lang"]}
        else:
            value = {"@value": o["value"], "@type": o.get("datatype")}
        jsonld.append({"@id": t["s"]["value"], t["p"]: [value]})
    minter = current_app.config["KG_MINTER"]
    local = _local(iri)
    sparql = "SELECT ?p ?o WHERE { <" + iri + "> ?p ?o }"
    return {
        "iri": iri, "title": title, "kana": own_labels.get("ja-hrkt", ""), "english": own_labels.get("en", ""),
        "types": types, "sections": sections, "incoming": incoming,
        "jsonld": json.dumps(jsonld, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e"),
        "formats": [(f.suffix.lstrip("."), (minter.document_path(iri) or local) + f.suffix)
                    for f in (by_name(n) for n in ("turtle", "ntriples", "jsonld", "rdfxml"))],
        "sparql_link": "/sparql?" + urlencode({"q": sparql}),
        "attributions": list(data.get("attributions", {}).values()),
        "siblings": {k: {"href": _local(v), "text": _label(labels, v)} for k, v in data.get("siblings", {}).items()},
    }
