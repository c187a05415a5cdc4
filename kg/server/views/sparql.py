"""SPARQL 1.1 Protocol at /sparql: query and (with a token) update; service description; the UI."""

from __future__ import annotations


import hmac
import json
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request

from kg.rdf import RDF, SD, VOID, XSD, BNode, IRI, Literal
from kg.rdf.vocab import FORMATS as FORMATS_NS
from kg.server.body import read_body
from kg.server.examples import DESCRIPTIONS_JA, EXAMPLES
from kg.server.formats import FORMATS, by_name, negotiate, with_charset
from kg.server.protocol import SparqlRequest, answer_query, parse_request, text_answer
from kg.server.sparql_text import add_using
from kg.store import serialize

bp = Blueprint("sparql", __name__)

#: the service description's formats (RDF/XML second: what SPARQLWrapper and older clients ask for)
SD_OFFER = [by_name(n) for n in ("turtle", "rdfxml", "jsonld", "ntriples")]


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
    body = read_body(request.environ, settings.max_body) if request.method == "POST" else b""
    req = parse_request(request.method, request.query_string.decode("latin-1"), request.content_type, body)
    if req.update is not None:
        return _update(settings, executor, req)
    if req.query is None:
        wanted = negotiate(request.headers.get("Accept"), SD_OFFER + [by_name("html")])
        if request.method == "GET" and wanted is not None and wanted.name == "html":
            return _ui()
        if request.method == "POST":
            return _text(400, "no 'query' or 'update' in the request")
        return _service_description()
    status, headers, body = answer_query(executor, req, request.headers.get("Accept"), request.base_url,
                                         retry_after=settings.retry_after)
    return Response(body, status, headers=headers)


def _update(settings, executor, req: SparqlRequest) -> Response:
    token = settings.update_token
    given = request.headers.get("Authorization", "")
    if not token:
        return _text(403, "this endpoint is read-only (set KG_UPDATE_TOKEN to allow SPARQL Update)")
    scheme, _, credentials = given.strip().partition(" ")
    # the scheme is case-insensitive (RFC 9110 §11.1), the token is not
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        return _text(403, "SPARQL Update needs the update token as 'Authorization: Bearer <token>'")
    update = req.update
    if req.params.get("using-graph-uri") or req.params.get("using-named-graph-uri"):
        update = add_using(update, req.params.get("using-graph-uri", []), req.params.get("using-named-graph-uri", []))
    executor.run({"kind": "update", "update": update, "base_iri": request.base_url},
                 timeout=max(settings.query_timeout, settings.update_timeout))
    return Response(status=204)


def _service_description() -> Response:
    """The SPARQL 1.1 Service Description of this endpoint, with each graph's triple count."""
    settings = current_app.config["KG_SETTINGS"]
    fmt = negotiate(request.headers.get("Accept"), SD_OFFER) or SD_OFFER[0]
    # the endpoint as configured, not as the Host header of this request says
    endpoint = current_app.config["KG_MINTER"].endpoint()
    rdf_type = str(RDF.type)
    t = [(endpoint, rdf_type, SD.Service), (endpoint, SD.endpoint, endpoint),
         (endpoint, SD.supportedLanguage, SD.SPARQL11Query), (endpoint, SD.feature, SD.UnionDefaultGraph)]
    if settings.update_token:
        t.append((endpoint, SD.supportedLanguage, SD.SPARQL11Update))
    for w3c in dict.fromkeys(f.w3c for f in FORMATS if f.w3c):
        t.append((endpoint, SD.resultFormat, FORMATS_NS[w3c]))
    dataset, default = BNode("dataset"), BNode("default")
    t += [(endpoint, SD.defaultDataset, dataset), (dataset, rdf_type, SD.Dataset),
          (dataset, SD.defaultGraph, default), (default, rdf_type, SD.Graph)]
    # counted by the served generation's store, as every query is (opening a store per request
    # cost ~80 ms here)
    answer = current_app.extensions["kg_executor"].run({"kind": "graphs"}, timeout=settings.page_timeout)
    total = 0
    if answer.headers.get("X-KG-Generation"):
        for i, (graph, count) in enumerate(json.loads(answer.body)):
            named, g = BNode(f"named{i}"), BNode(f"graph{i}")
            total += count
            t += [(dataset, SD.namedGraph, named), (named, rdf_type, SD.NamedGraph), (named, SD.name, IRI(graph)),
                  (named, SD.graph, g), (g, rdf_type, SD.Graph), (g, VOID.triples, Literal(str(count), XSD.integer))]
    t.append((default, VOID.triples, Literal(str(total), XSD.integer)))
    body = serialize(t, fmt.name, {"sd": str(SD), "void": str(VOID)})
    return Response(body, 200, content_type=with_charset(fmt.media_type), headers={"Vary": "Accept"})


def _ui() -> Response:
    minter = current_app.config["KG_MINTER"]
    prefixes = "".join(f"PREFIX {k}: <{v}>\n" for k, v in minter.prefixes().items())
    initial = request.args.get("q") or ""
    permalink = request.base_url + ("?" + urlencode({"q": initial}) if initial else "")
    return Response(render_template("sparql.html", examples=EXAMPLES, descriptions_ja=DESCRIPTIONS_JA,
                                    prefixes=prefixes, base=minter.base,
                                    prefix_map=minter.prefixes(), initial=initial, permalink=permalink),
                    200, mimetype="text/html")
