"""Home and health pages (the linked-data pages come with the pages issue)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

bp = Blueprint("site", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    from kg.server.executor import ServiceBusy

    executor = current_app.extensions["kg_executor"]
    try:
        answer = executor.run({"kind": "ping"}, timeout=5)
    except ServiceBusy as exc:
        return Response(f"busy: {exc}\n", 503, mimetype="text/plain")
    generation = answer.headers.get("X-KG-Generation") or "none (nothing loaded)"
    return Response(f"ok\ngeneration: {generation}\n", 200, mimetype="text/plain")


HOME_QUERY = """SELECT ?ds ?title ?triples ?modified ?attribution ?licence WHERE { GRAPH ?meta {
  ?ds a <http://www.w3.org/ns/dcat#Dataset> ; <http://purl.org/dc/terms/title> ?title ;
      <http://rdfs.org/ns/void#triples> ?triples ; <http://purl.org/dc/terms/modified> ?modified .
  OPTIONAL { ?ds ?attr ?attribution FILTER(STRENDS(STR(?attr), "/def/attributionText")) }
  OPTIONAL { ?ds <http://purl.org/dc/terms/license> ?licence }
  FILTER(lang(?title) = "ja") } } ORDER BY ?ds"""


@bp.get("/")
def home():
    import json

    from kg.examples import EXAMPLES
    from kg.server.executor import QueryRejected, QueryTimeout, ServiceBusy

    executor = current_app.extensions["kg_executor"]
    datasets = []
    try:
        answer = executor.run({"kind": "query", "query": HOME_QUERY, "accept": "application/sparql-results+json"},
                              timeout=10)
        for b in json.loads(answer.body)["results"]["bindings"]:
            datasets.append({k: v["value"] for k, v in b.items()})
    except (QueryRejected, QueryTimeout, ServiceBusy):
        pass
    for d in datasets:
        d["triples"] = f"{int(d['triples']):,}"
        d["modified"] = d["modified"].replace("T", " ").replace("Z", " UTC")
    return render_template("home.html", examples=EXAMPLES[:6], datasets=datasets)


@bp.get("/search.json", endpoint="search_json")
@bp.get("/search")
def search():
    """Name search over corporations, places, laws and programs; HTML, or JSON by Accept or .json."""
    from flask import jsonify, request

    from kg.conneg import best_match
    from kg.search import FILENAME, KINDS, SearchIndex
    from kg.store import Generations

    settings = current_app.config["KG_SETTINGS"]
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("type") or None
    if kind is not None and kind not in KINDS:
        return Response(f"unknown type {kind!r}; one of {', '.join(KINDS)}\n", 400, mimetype="text/plain")
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    wants_json = request.path.endswith(".json") or best_match(
        request.headers.get("Accept"), ["text/html", "application/json"]) == "application/json"
    hits, total = [], 0
    path = Generations(settings.data_path, create=False).current_path()
    if q and path is not None and (path / FILENAME).exists():
        index = SearchIndex(path / FILENAME, readonly=True)
        try:
            hits, total = index.search(q, kind=kind, limit=20, offset=(page - 1) * 20)
        finally:
            index.db.close()
    minter = current_app.config["KG_MINTER"]

    def local(iri: str) -> str:
        return "/" + iri[len(minter.base):] if iri.startswith(minter.base) else iri

    results = [{"iri": h.iri, "href": local(h.iri), "type": h.kind, "type_label": KINDS[h.kind][2], "label": h.label,
                "names": h.names} for h in hits]
    if wants_json:
        response = jsonify({"query": q, "type": kind, "page": page, "total": total, "total_is_lower_bound": total >= 1000,
                            "results": results})
        response.headers["Vary"] = "Accept"
        return response
    response = Response(render_template("search.html", q=q, kind=kind, kinds=KINDS, results=results, total=total,
                                        page=page, has_next=page * 20 < total), 200, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response
