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
from kg.rdf import RDF
from kg.rdf.ids import id_problem
from kg.rdf.iri import NOT_IN_AN_IRI
from kg.rdf.labels import best_label
from kg.server.formats import PAGE_RDF, by_name, by_suffix, negotiate, page_suffixes, with_charset
from kg.server.present import Presenter, law_document, own_text
from kg.server.views.changes import last_change_link
from kg.store import open_home

bp = Blueprint("pages", __name__)

#: what pages offer by content negotiation: the HTML page first, then RDF
OFFER = [by_name("html")] + [by_name(n) for n in PAGE_RDF]
RDF_TYPE = str(RDF.type)


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
    bad = NOT_IN_AN_IRI.search(rest)
    if bad:  # no IRI holds it, and an engine's parser may fail on it (Virtuoso on U+0000)
        raise MalformedIdentifier(f"an IRI cannot contain {bad.group()!r} (RFC 3987; SPARQL IRIREF)")
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
    cls = request.args.get("class")
    try:
        offset = max(0, int(request.args.get("offset", "0")))
    except ValueError:
        offset = 0
    generation, modified = _generation()
    etag = hashlib.sha1(f"{generation}|{iri}|{fmt.media_type}|{prop}|{cls}|{offset}".encode()).hexdigest()[:20]
    headers = {"ETag": quote_etag(etag)}
    if negotiated:
        headers["Vary"] = "Accept"
    if modified:
        headers["Last-Modified"] = http_date(modified)
    if not is_resource_modified(request.environ, etag=etag, last_modified=modified):
        return Response(status=304, headers=headers)
    executor = current_app.extensions["kg_executor"]
    answer = executor.run({"kind": "describe", "iri": iri, "prop": prop, "offset": offset, "class": cls,
                           "format": "page" if fmt.name == "html" else fmt.name})
    if fmt.name != "html":
        return Response(answer.body, 200, content_type=with_charset(fmt.media_type), headers=headers)
    data = json.loads(answer.body)
    page = render_template("entity.html", **_page_context(data, iri, prop, offset, cls),
                           last_change=last_change_link(iri, generation))
    return Response(page, 200, mimetype="text/html", headers=headers)


# ---- turning the description into what the template shows -----------------------------------

def _local(iri: str) -> str:
    return current_app.config["KG_MINTER"].local_path(iri) or iri


def _label(labels: dict, iri: str) -> str:
    found = best_label(labels.get(iri, {}))
    if found is not None:
        return found
    return re.split(r"[/#]", iri.rstrip("/"))[-1] or iri


def _page_context(data: dict, iri: str, prop: str | None, offset: int, cls: str | None = None) -> dict:
    minter = current_app.config["KG_MINTER"]
    size = current_app.config["KG_SETTINGS"].page_size
    view = Presenter(data, iri, base=minter.base, local=_local)
    title, kana, english = view.title()
    types = [view.value({"type": "iri", "value": t}, RDF_TYPE) for t in view.types]
    document = law_document(view) if data.get("parts") else []
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
    labels = data["labels"]
    return {
        "iri": iri, "title": title, "kana": kana, "english": english, "types": types,
        **view.sections(), "banner": view.banner(), "timeline": view.timeline(),
        "toc": [e for e in document if e["toc"]], "document": document, "own_text": own_text(view),
        "incoming": view.incoming(prop, cls, offset, size),
        "jsonld": json.dumps(jsonld, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e"),
        "formats": [(f.suffix.lstrip("."), (minter.document_path(iri) or local) + f.suffix)
                    for f in (by_name(n) for n in ("turtle", "ntriples", "jsonld", "rdfxml"))],
        "sparql_link": "/sparql?" + urlencode({"q": sparql}),
        "attributions": list(data.get("attributions", {}).values()),
        "siblings": {k: {"href": _local(v), "text": _label(labels, v)} for k, v in data.get("siblings", {}).items()},
    }
