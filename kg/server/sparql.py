"""SPARQL 1.1 Protocol at /sparql: query and (with a token) update; service description; the UI."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from flask import Blueprint, Response, current_app, render_template, request

from kg.conneg import best_match
from kg.results import serialize_triples
from kg.server.executor import NotAcceptable, QueryRejected, QueryTimeout, ServiceBusy
from kg.sparql_text import DatasetConflict, add_using

bp = Blueprint("sparql", __name__)

SD = "http://www.w3.org/ns/sparql-service-description#"
SD_OFFER = ["text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"]


def _text(status: int, message: str, **headers: str) -> Response:
    return Response(message.rstrip("\n") + "\n", status, mimetype="text/plain", headers=headers)


@bp.route("/sparql", methods=["OPTIONS"])
def preflight() -> Response:
    return Response(status=204, headers={
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Accept, Authorization",
        "Access-Control-Max-Age": "86400",
    })


def _params() -> tuple[dict[str, list[str]], str | None, str | None]:
    """(parameters, query, update) from the URL, a form body or a direct body."""
    params: dict[str, list[str]] = {k: request.args.getlist(k) for k in request.args}
    query = update = None
    if request.method == "POST":
        ctype = (request.mimetype or "").lower()
        charset = (request.mimetype_params.get("charset") or "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise _Problem(415, f"request bodies must be UTF-8, not {charset}")
        try:
            request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise _Problem(400, "request body is not valid UTF-8") from None
        if ctype == "application/x-www-form-urlencoded":
            form = parse_qs(request.get_data(as_text=True), keep_blank_values=True)
            for k, v in form.items():
                params.setdefault(k, []).extend(v)
        elif ctype == "application/sparql-query":
            query = request.get_data(as_text=True)
        elif ctype == "application/sparql-update":
            update = request.get_data(as_text=True)
        else:
            raise _Problem(415, f"unsupported content type {request.mimetype!r}: use application/x-www-form-urlencoded, "
                                "application/sparql-query or application/sparql-update")
    for name in ("query", "update"):
        values = params.get(name, [])
        if len(values) > 1:
            raise _Problem(400, f"more than one {name!r} parameter")
    if params.get("query"):
        if query is not None or update is not None:
            raise _Problem(400, "a query given both as a parameter and as the body")
        query = params["query"][0]
    if params.get("update"):
        if request.method != "POST":
            raise _Problem(400, "updates must be sent with POST")
        if update is not None or query is not None:
            raise _Problem(400, "both a query and an update in one request")
        update = params["update"][0]
    if query is not None and update is not None:
        raise _Problem(400, "both a query and an update in one request")
    return params, query, update


class _Problem(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    settings = current_app.config["KG_SETTINGS"]
    executor = current_app.extensions["kg_executor"]
    try:
        params, query, update = _params()
    except _Problem as p:
        return _text(p.status, str(p))
    try:
        if update is not None:
            token = settings.update_token
            given = request.headers.get("Authorization", "")
            if not token:
                return _text(403, "this endpoint is read-only (set KG_UPDATE_TOKEN to allow SPARQL Update)")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return _text(403, "SPARQL Update needs the update token as 'Authorization: Bearer <token>'")
            if params.get("using-graph-uri") or params.get("using-named-graph-uri"):
                try:
                    update = add_using(update, params.get("using-graph-uri", []), params.get("using-named-graph-uri", []))
                except DatasetConflict as exc:
                    return _text(400, str(exc))
            executor.run({"kind": "update", "update": update, "base_iri": request.base_url},
                         timeout=max(settings.query_timeout, 60))
            return Response(status=204)
        if query is None:
            if request.method == "GET" and best_match(request.headers.get("Accept"), SD_OFFER + ["text/html"]) == "text/html":
                return _ui()
            if request.method == "POST":
                return _text(400, "no 'query' or 'update' in the request")
            return _service_description()
        fmt = (params.get("format") or params.get("output") or [None])[0]
        answer = executor.run({
            "kind": "query", "query": query, "accept": request.headers.get("Accept"), "format": fmt,
            "base_iri": request.base_url,
            "default_graphs": params.get("default-graph-uri", []), "named_graphs": params.get("named-graph-uri", []),
        })
    except QueryRejected as exc:
        return _text(400, f"malformed or unsupported query: {exc}")
    except NotAcceptable as exc:
        return _text(406, str(exc))
    except QueryTimeout as exc:
        return _text(503, str(exc), **{"Retry-After": "1"})
    except ServiceBusy as exc:
        return _text(503, str(exc), **{"Retry-After": "5"})
    response = Response(answer.body, 200, content_type=_with_charset(answer.media_type))
    response.headers.update(answer.headers)
    response.headers["Vary"] = "Accept"
    if fmt in ("csv", "tsv", "json", "xml", "ttl", "nt", "jsonld", "rdf") and params.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="results.{fmt}"'
    return response


def _with_charset(media_type: str) -> str:
    return media_type if "charset" in media_type else f"{media_type}; charset=utf-8"


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
    return Response(body, 200, content_type=_with_charset(media), headers={"Vary": "Accept"})


def _ui() -> Response:
    from kg.examples import EXAMPLES
    from kg.query import prefix_block

    minter = current_app.config["KG_MINTER"]
    return Response(render_template("sparql.html", examples=EXAMPLES, prefixes=prefix_block(minter), base=minter.base,
                                    initial=request.args.get("q") or ""), 200, mimetype="text/html")
