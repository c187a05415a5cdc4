"""The dataset catalogue: /datasets for people, /.well-known/void for machines, /dumps/ files."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Response, abort, current_app, render_template, request, send_from_directory

from kg.rdf import IRI, VOID
from kg.server.formats import PAGE_RDF, by_name, negotiate, with_charset
from kg.server.present import japanese_datetime
from kg.store import parse, serialize

bp = Blueprint("catalog", __name__)

#: the catalogue in RDF, in the server's order (Turtle first); /datasets offers HTML before them
RDF_OFFER = [by_name(n) for n in PAGE_RDF]


def _dumps_dir():
    return current_app.config["KG_SETTINGS"].data_path / "dumps"


def _meta_triples() -> list:
    """The metadata graph, with a ``void:dataDump`` for each dataset whose dump exists."""
    minter = current_app.config["KG_MINTER"]
    q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{minter.graph('meta')}> {{ ?s ?p ?o }} }}"
    answer = current_app.extensions["kg_executor"].run({"kind": "query", "query": q, "accept": "application/n-triples"},
                                                       timeout=current_app.config["KG_SETTINGS"].page_timeout)
    triples = [(q.subject, q.predicate, q.object) for q in parse(answer.body, "ntriples")]
    dumps = _dumps_dir()
    base = request.url_root
    for s, p, _ in list(triples):
        if p == VOID.triples and isinstance(s, IRI):
            name = s.rstrip("/").rsplit("/", 1)[-1]
            if (dumps / f"{name}.nq.gz").exists():
                triples.append((s, VOID.dataDump, IRI(f"{base}dumps/{name}.nq.gz")))
    return triples


@bp.get("/.well-known/void")
def void() -> Response:
    fmt = negotiate(request.headers.get("Accept"), RDF_OFFER) or RDF_OFFER[0]
    body = serialize(_meta_triples(), fmt.name, current_app.config["KG_MINTER"].prefixes())
    return Response(body, 200, content_type=with_charset(fmt.media_type), headers={"Vary": "Accept"})


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
    wanted = negotiate(request.headers.get("Accept"), [by_name("html")] + RDF_OFFER)
    if wanted is not None and wanted.name != "html":
        return void()

    def select(q: str) -> list[dict]:
        answer = executor.run({"kind": "query", "query": q, "accept": "application/sparql-results+json"},
                              timeout=current_app.config["KG_SETTINGS"].page_timeout)
        return [{k: v["value"] for k, v in b.items()} for b in json.loads(answer.body)["results"]["bindings"]]

    sets = select(CATALOG_QUERY.format(meta=minter.graph("meta"), attr=minter.term("attributionText")))
    loads = select(LOADS_QUERY.format(meta=minter.graph("meta"), mode=minter.term("loadMode"),
                                      read=minter.term("recordsRead"), loaded=minter.term("recordsLoaded"),
                                      rejected=minter.term("recordsRejected")))
    dumps = _dumps_dir()
    for d in sets:
        name = d["ds"].rstrip("/").rsplit("/", 1)[-1]
        d["name"] = name
        d["triples"] = f"{int(d['triples']):,}"
        d["modified"] = japanese_datetime(d["modified"])
        d["dump"] = f"/dumps/{name}.nq.gz" if (dumps / f"{name}.nq.gz").exists() else None
        d["loads"] = _by_load([row for row in loads if row["ds"] == d["ds"]])[:20]
    return Response(render_template("datasets.html", datasets=sets), 200, mimetype="text/html")


def _by_load(rows: list[dict]) -> list[dict]:
    """One entry per load with its counts once, and the files it read beneath (the counts are the
    load's: the metadata records them per load, not per file)."""
    out: dict[str, dict] = {}
    for row in rows:
        load = out.setdefault(row["load"], {k: row[k] for k in ("started", "mode")} | {
            k: f"{int(row[k]):,}" for k in ("read", "loaded", "rejected")} | {"files": []})
        load["files"].append({"file": row["file"], "size": f"{int(row['size']):,}", "sha": row["sha"]})
    for load in out.values():
        load["started"] = japanese_datetime(load["started"])
    return list(out.values())


@bp.get("/dumps/")
def dump_list() -> Response:
    """The gzip N-Quads files ``kg dump`` wrote, one per graph."""
    folder = _dumps_dir()
    files = sorted(folder.glob("*.nq.gz")) if folder.is_dir() else []
    listed = [{"name": f.name, "size": f"{f.stat().st_size:,}",
               "modified": japanese_datetime(dt.datetime.fromtimestamp(f.stat().st_mtime, dt.timezone.utc).isoformat())}
              for f in files]
    return Response(render_template("dumps.html", files=listed), 200, mimetype="text/html")


@bp.get("/dumps/<name>")
def dump_file(name: str) -> Response:
    if not name.endswith(".nq.gz") or "/" in name:
        abort(404)
    return send_from_directory(_dumps_dir(), name, mimetype="application/n-quads", as_attachment=True)
