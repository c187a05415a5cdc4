"""Linked-data pages: /id/… answers 303 to /doc/…, which serves HTML or RDF by negotiation or suffix."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from email.utils import format_datetime
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request

from kg.conneg import best_match
from kg.identifiers import id_problem
from kg.server.executor import EntityNotFound, QueryRejected, QueryTimeout, ServiceBusy

bp = Blueprint("pages", __name__)

SUFFIXES = {".html": "text/html", ".ttl": "text/turtle", ".nt": "application/n-triples",
            ".jsonld": "application/ld+json", ".rdf": "application/rdf+xml"}
OFFER = ["text/html", "text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"]
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
WKT_POINT = re.compile(r"POINT\s*\(\s*([-\d.]+)\s+([-\d.]+)\s*\)")


def _generation() -> tuple[str, dt.datetime | None]:
    from kg.store import Generations

    gens = Generations(current_app.config["KG_SETTINGS"].data_path, create=False)
    name = gens.current_name() or "none"
    try:
        mtime = dt.datetime.fromtimestamp(gens.pointer.stat().st_mtime, dt.timezone.utc).replace(microsecond=0)
    except FileNotFoundError:
        mtime = None
    return name, mtime


def _problem_page(status: int, title: str, message: str) -> Response:
    return Response(render_template("problem.html", title=title, message=message), status, mimetype="text/html")


@bp.get("/id/<path:rest>")
def identify(rest: str) -> Response:
    problem = id_problem(rest)
    if problem:
        return _problem_page(400, "不正な識別子 / Malformed identifier", problem)
    target = "/doc/" + quote(rest, safe="/-_.~:")
    return redirect(target, code=303)


@bp.get("/doc/<path:rest>")
def document(rest: str) -> Response:
    return _serve(current_app.config["KG_MINTER"].id, rest, id_path=True)


@bp.get("/def/<path:rest>")
def definition(rest: str) -> Response:
    return _serve(current_app.config["KG_MINTER"].def_, rest, id_path=False)


def _serve(prefix: str, rest: str, *, id_path: bool) -> Response:
    media = None
    for suffix, mt in SUFFIXES.items():
        if rest.endswith(suffix):
            rest, media = rest[: -len(suffix)], mt
            break
    if id_path:
        problem = id_problem(rest)
        if problem:
            return _problem_page(400, "不正な識別子 / Malformed identifier", problem)
    negotiated = media is None
    if media is None:
        media = best_match(request.headers.get("Accept"), OFFER)
        if media is None:
            return Response("none of the requested types is available; offered: " + ", ".join(OFFER) + "\n", 406,
                            mimetype="text/plain")
    iri = prefix + rest
    prop = request.args.get("p")
    try:
        offset = max(0, int(request.args.get("offset", "0")))
    except ValueError:
        offset = 0
    generation, modified = _generation()
    etag = '"' + hashlib.sha1(f"{generation}|{iri}|{media}|{prop}|{offset}".encode()).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Vary": "Accept"} if negotiated else {"ETag": etag}
    if modified:
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=304, headers=headers)
    since = request.headers.get("If-Modified-Since")
    if since and modified and not request.headers.get("If-None-Match"):
        from email.utils import parsedate_to_datetime

        try:
            if parsedate_to_datetime(since) >= modified:
                return Response(status=304, headers=headers)
        except (TypeError, ValueError):
            pass
    executor = current_app.extensions["kg_executor"]
    try:
        answer = executor.run({"kind": "describe", "iri": iri, "prop": prop, "offset": offset,
                               "media": "json" if media == "text/html" else media})
    except EntityNotFound:
        return _problem_page(404, "見つかりません / Not found",
                             f"{iri} についてのデータはありません。検索してください。 (No data about this IRI.)")
    except (QueryTimeout, ServiceBusy, QueryRejected) as exc:
        return Response(str(exc) + "\n", 503, mimetype="text/plain")
    if media != "text/html":
        return Response(answer.body, 200, content_type=f"{media}; charset=utf-8", headers=headers)
    data = json.loads(answer.body)
    page = render_template("entity.html", **_page_context(data, iri, prop, offset))
    return Response(page, 200, mimetype="text/html", headers=headers)


# ---- turning the description into what the template shows -----------------------------------

def _local(iri: str) -> str:
    base = current_app.config["KG_MINTER"].base
    if iri.startswith(base):
        return "/" + iri[len(base):]
    return iri


def _label(labels: dict, iri: str, fallback: bool = True) -> str:
    found = labels.get(iri, {})
    for lang in ("ja", "", "en"):
        if lang in found:
            return found[lang]
    if not fallback:
        return ""
    tail = re.split(r"[/#]", iri.rstrip("/"))[-1]
    return tail or iri


def _format_literal(term: dict) -> dict:
    value, datatype = term["value"], term.get("datatype", "")
    shown = value
    if datatype == XSD + "date":
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})$", value)
        if m:
            shown = f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    elif datatype == XSD + "dateTime":
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})", value)
        if m:
            shown = f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日 {m.group(4)}:{m.group(5)}"
    elif datatype == XSD + "boolean":
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
            pages["prev"] = "?" + urlencode({"p": p, "offset": max(0, start - 20)})
        if start + 20 < count:
            pages["next"] = "?" + urlencode({"p": p, "offset": start + 20})
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
    local = _local(iri)
    sparql = "SELECT ?p ?o WHERE { <" + iri + "> ?p ?o }"
    return {
        "iri": iri, "title": title, "kana": own_labels.get("ja-hrkt", ""), "english": own_labels.get("en", ""),
        "types": types, "sections": sections, "incoming": incoming,
        "jsonld": json.dumps(jsonld, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e"),
        "formats": [(s.lstrip("."), local.replace("/id/", "/doc/", 1) + s if local.startswith("/id/") else local + s)
                    for s in (".ttl", ".nt", ".jsonld", ".rdf")],
        "sparql_link": "/sparql?" + urlencode({"q": sparql}),
        "attributions": list(data.get("attributions", {}).values()),
        "siblings": {k: {"href": _local(v), "text": _label(labels, v)} for k, v in data.get("siblings", {}).items()},
    }
