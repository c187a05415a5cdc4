"""SPARQL 1.1 Protocol at /sparql: query and (with a token) update; service description; the UI."""

from __future__ import annotations

import hmac
from flask import Blueprint, Response, current_app, render_template, request

from kg.conneg import best_match
from kg.results import serialize_triples
from kg.server.executor import QueryRejected, QueryTimeout, ServiceBusy
from kg.server.protocol import ProtocolError, SparqlRequest, answer_query, parse_request, text_answer, with_charset
from kg.sparql_text import DatasetConflict, add_using

bp = Blueprint("sparql", __name__)

SD = "http://www.w3.org/ns/sparql-service-description#"
SD_OFFER = ["text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"]


def _text(status: int, message: str, **headers: str) -> Response:
    status, all_headers, body = text_answer(status, message, **headers)
    return Response(body, status, headers=all_headers)


@bp.route("/sparql", methods=["OPTIONS"])
def preflight() -> Response:
    return Response(status=204, headers={
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Accept, Authorization",
        "Access-Control-Max-Age": "86400",
    })


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    settings = current_app.config["KG_SETTINGS"]
    executor = current_app.extensions["kg_executor"]
    try:
        req = parse_request(request.method, request.query_string.decode("latin-1"), request.content_type,
                            request.get_data() if request.method == "POST" else b"")
    except ProtocolError as p:
        return _text(p.status, str(p))
    if req.update is not None:
        return _update(settings, executor, req)
    if req.query is None:
        if request.method == "GET" and best_match(request.headers.get("Accept"), SD_OFFER + ["text/html"]) == "text/html":
            return _ui()
        if request.method == "POST":
            return _text(400, "no 'query' or 'update' in the request")
        return _service_description()
    status, headers, body = answer_query(executor, req, request.headers.get("Accept"), request.base_url)
    return Response(body, status, headers=headers)


def _update(settings, executor, req: SparqlRequest) -> Response:
    token = settings.update_token
    given = request.headers.get("Authorization", "")
    if not token:
        return _text(403, "this endpoint is read-only (set KG_UPDATE_TOKEN to allow SPARQL Update)")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return _text(403, "SPARQL Update needs the update token as 'Authorization: Bearer <token>'")
    update = req.update
    if req.params.get("using-graph-uri") or req.params.get("using-named-graph-uri"):
        try:
            update = add_using(update, req.params.get("using-graph-uri", []), req.params.get("using-named-graph-uri", []))
        except DatasetConflict as exc:
            return _text(400, str(exc))
    try:
        executor.run({"kind": "update", "update": update, "base_iri": request.base_url},
                     timeout=max(settings.query_timeout, 60))
    except QueryRejected as exc:
        return _text(400, f"malformed or unsupported update: {exc}")
    except (QueryTimeout, ServiceBusy) as exc:
        return _text(503, str(exc), **{"Retry-After": "5"})
    return Response(status=204)


def _service_description() -> Response:
    import pyoxigraph as ox

    from kg.store import Generations

    settings = current_app.config["KG_SETTINGS"]
    media = best_match(request.headers.get("Accept"), SD_OFFER) or "text/turtle"
    endpoint = ox.NamedNode(request.base_url)
    sd = lambda name: ox.NamedNode(SD + name)  # noqa: E731
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    void_triples = ox.NamedNode("http://rdfs.org/ns/void#triples")
    t = [
        ox.Triple(endpoint, rdf_type, sd("Service")),
        ox.Triple(endpoint, sd("endpoint"), endpoint),
        ox.Triple(endpoint, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(endpoint, sd("feature"), sd("UnionDefaultGraph")),
    ]
    if settings.update_token:
        t.append(ox.Triple(endpoint, sd("supportedLanguage"), sd("SPARQL11Update")))
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N-Quads", "TriG"):
        t.append(ox.Triple(endpoint, sd("resultFormat"), ox.NamedNode("http://www.w3.org/ns/formats/" + fmt)))
    dataset = ox.BlankNode("dataset")
    default = ox.BlankNode("default")
    t += [ox.Triple(endpoint, sd("defaultDataset"), dataset), ox.Triple(dataset, rdf_type, sd("Dataset")),
          ox.Triple(dataset, sd("defaultGraph"), default), ox.Triple(default, rdf_type, sd("Graph"))]
    store = Generations(settings.data_path, create=False).open_current()
    total = 0
    if store is not None:
        from kg.stats import graph_triples

        for i, (graph, count) in enumerate(graph_triples(store, current_app.config["KG_MINTER"])):
            named, g = ox.BlankNode(f"named{i}"), ox.BlankNode(f"graph{i}")
            total += count
            t += [ox.Triple(dataset, sd("namedGraph"), named), ox.Triple(named, rdf_type, sd("NamedGraph")),
                  ox.Triple(named, sd("name"), ox.NamedNode(graph)), ox.Triple(named, sd("graph"), g),
                  ox.Triple(g, rdf_type, sd("Graph")),
                  ox.Triple(g, void_triples, ox.Literal(str(count), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))]
    t.append(ox.Triple(default, void_triples, ox.Literal(str(total), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))))
    body = serialize_triples(t, media, {"sd": SD, "void": "http://rdfs.org/ns/void#"})
    return Response(body, 200, content_type=with_charset(media), headers={"Vary": "Accept"})


def _ui() -> Response:
    from kg.examples import EXAMPLES
    from kg.query import prefix_block

    minter = current_app.config["KG_MINTER"]
    return Response(render_template("sparql.html", examples=EXAMPLES, prefixes=prefix_block(minter), base=minter.base,
                                    initial=request.args.get("q") or ""), 200, mimetype="text/html")
