"""The dataset catalogue: /datasets for people, /.well-known/void for machines, /dumps/ files."""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, render_template, request, send_from_directory

from kg.conneg import best_match
from kg.results import serialize_triples
from kg.server.executor import QueryRejected, QueryTimeout, ServiceBusy

bp = Blueprint("catalog", __name__)

VOID = "http://rdfs.org/ns/void#"
OFFER = ["text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples", "text/html"]


def _dumps_dir():
    return current_app.config["KG_SETTINGS"].data_path / "dumps"


def _meta_triples() -> list[ox.Triple]:
    minter = current_app.config["KG_MINTER"]
    q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{minter.graph('meta')}> {{ ?s ?p ?o }} }}"
    answer = current_app.extensions["kg_executor"].run({"kind": "query", "query": q, "accept": "application/n-triples"},
                                                       timeout=20)
    triples = [t.triple if isinstance(t, ox.Quad) else t
               for t in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
    dumps = _dumps_dir()
    base = request.url_root
    for t in list(triples):
        if t.predicate.value == VOID + "triples" and isinstance(t.subject, ox.NamedNode):
            name = t.subject.value.rstrip("/").rsplit("/", 1)[-1]
            if (dumps / f"{name}.nq.gz").exists():
                triples.append(ox.Triple(t.subject, ox.NamedNode(VOID + "dataDump"),
                                         ox.NamedNode(f"{base}dumps/{name}.nq.gz")))
    return triples


@bp.get("/.well-known/void")
def void() -> Response:
    media = best_match(request.headers.get("Accept"), OFFER[:4]) or "text/turtle"
    try:
        triples = _meta_triples()
    except (QueryRejected, QueryTimeout, ServiceBusy) as exc:
        return Response(f"{exc}\n", 503, mimetype="text/plain")
    body = serialize_triples(triples, media, current_app.config["KG_MINTER"].prefixes())
    return Response(body, 200, content_type=f"{media}; charset=utf-8", headers={"Vary": "Accept"})


CATALOG_QUERY = """SELECT ?ds ?title ?triples ?modified ?attribution ?licence ?licenceName ?publisherName WHERE {{
  GRAPH <{meta}> {{
    ?ds a <http://www.w3.org/ns/dcat#Dataset> ; <http://purl.org/dc/terms/title> ?title ;
        <http://rdfs.org/ns/void#triples> ?triples ; <http://purl.org/dc/terms/modified> ?modified .
    OPTIONAL {{ ?ds <{attr}> ?attribution }}
    OPTIONAL {{ ?ds <http://purl.org/dc/terms/license> ?licence OPTIONAL {{ ?licence <http://purl.org/dc/terms/title> ?licenceName }} }}
    OPTIONAL {{ ?ds <http://purl.org/dc/terms/publisher>/<http://xmlns.com/foaf/0.1/name> ?publisherName }}
    FILTER(lang(?title) = "ja") }} }} ORDER BY ?ds"""

LOADS_QUERY = """SELECT ?ds ?load ?started ?mode ?read ?loaded ?rejected ?file ?size ?sha WHERE {{ GRAPH <{meta}> {{
    ?load <http://www.w3.org/ns/prov#generated> ?ds ; <http://www.w3.org/ns/prov#startedAtTime> ?started ;
          <{mode}> ?mode ; <{read}> ?read ; <{loaded}> ?loaded ; <{rejected}> ?rejected ;
          <http://www.w3.org/ns/prov#used> ?src .
    ?src <http://purl.org/dc/terms/title> ?file ; <http://www.w3.org/ns/dcat#byteSize> ?size ;
         <http://spdx.org/rdf/terms#checksum>/<http://spdx.org/rdf/terms#checksumValue> ?sha }} }}
  ORDER BY ?ds DESC(?started) ?file"""


@bp.get("/datasets")
def datasets() -> Response:
    minter = current_app.config["KG_MINTER"]
    executor = current_app.extensions["kg_executor"]
    wants_rdf = best_match(request.headers.get("Accept"), OFFER[-1:] + OFFER[:4])
    if wants_rdf and wants_rdf != "text/html":
        return void()

    def select(q: str) -> list[dict]:
        answer = executor.run({"kind": "query", "query": q, "accept": "application/sparql-results+json"}, timeout=20)
        return [{k: v["value"] for k, v in b.items()} for b in json.loads(answer.body)["results"]["bindings"]]

    try:
        sets = select(CATALOG_QUERY.format(meta=minter.graph("meta"), attr=minter.term("attributionText")))
        loads = select(LOADS_QUERY.format(meta=minter.graph("meta"), mode=minter.term("loadMode"),
                                          read=minter.term("recordsRead"), loaded=minter.term("recordsLoaded"),
                                          rejected=minter.term("recordsRejected")))
    except (QueryRejected, QueryTimeout, ServiceBusy) as exc:
        return Response(f"{exc}\n", 503, mimetype="text/plain")
    dumps = _dumps_dir()
    for d in sets:
        name = d["ds"].rstrip("/").rsplit("/", 1)[-1]
        d["name"] = name
        d["triples"] = f"{int(d['triples']):,}"
        d["dump"] = f"/dumps/{name}.nq.gz" if (dumps / f"{name}.nq.gz").exists() else None
        d["loads"] = [l for l in loads if l["ds"] == d["ds"]][:20]
    return Response(render_template("datasets.html", datasets=sets), 200, mimetype="text/html")


@bp.get("/dumps/<name>")
def dump_file(name: str) -> Response:
    if not name.endswith(".nq.gz") or "/" in name:
        abort(404)
    return send_from_directory(_dumps_dir(), name, mimetype="application/n-quads", as_attachment=True)
