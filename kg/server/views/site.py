"""Home, health and search pages."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from kg.errors import BadParameter, KGError
from kg.server.examples import DESCRIPTIONS_JA, EXAMPLES
from kg.server.present import japanese_datetime
from kg.server.formats import by_media_type, by_name, negotiate
from kg.store import open_home
from kg.store.search import FILENAME, KINDS, SearchIndex

bp = Blueprint("site", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    executor = current_app.extensions["kg_executor"]
    answer = executor.run({"kind": "ping"}, timeout=current_app.config["KG_SETTINGS"].page_timeout)
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
    executor = current_app.extensions["kg_executor"]
    datasets = []
    try:
        answer = executor.run({"kind": "query", "query": HOME_QUERY, "accept": "application/sparql-results+json"},
                              timeout=current_app.config["KG_SETTINGS"].page_timeout)
        for b in json.loads(answer.body)["results"]["bindings"]:
            datasets.append({k: v["value"] for k, v in b.items()})
    except KGError:  # the home page still shows the search box and the examples
        pass
    for d in datasets:
        d["triples"] = f"{int(d['triples']):,}"
        d["modified"] = japanese_datetime(d["modified"])
    examples = [{"query": e.query, "title": e.title, "description": e.description,
                 "description_ja": DESCRIPTIONS_JA.get(e.slug, "")} for e in EXAMPLES[:6]]
    return render_template("home.html", examples=examples, datasets=datasets, browse=BROWSE)


#: where a new reader can start: one page of each kind (those of the bundled demo data, which a
#: full load also holds; a missing one is a 404 page with a search box)
BROWSE: tuple[tuple[str, str, str], ...] = (
    ("法人", "corporation", "/id/corporation/7000012050002"),
    ("都道府県", "prefecture", "/id/prefecture/130001"),
    ("市区町村", "municipality", "/id/municipality/131016"),
    ("法令", "law", "/id/law/411AC0000000127"),
    ("コード表: 法人種別", "code list", "/id/code/corporation-kind"),
    ("語彙", "vocabulary", "/def/"),
)


STATUS_LABELS = {"active": "存続 / active", "closed": "閉鎖 / closed"}


def _result(hit, minter) -> dict:
    """One search hit; a corporation also shows its number, address and status."""
    out = {"iri": hit.iri, "href": minter.local_path(hit.iri) or hit.iri, "type": hit.kind,
           "type_label": KINDS[hit.kind][2], "label": hit.label, "names": hit.names}
    if hit.kind == "corporation":
        out.update(number=hit.iri.rsplit("/", 1)[-1], address=hit.address or None, status=hit.status or None)
    return out


@bp.get("/search.json", endpoint="search_json")
@bp.get("/search")
def search():
    """Name search over corporations, places, laws and programs; HTML, or JSON by Accept or .json."""
    settings = current_app.config["KG_SETTINGS"]
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("type") or None
    if kind is not None and kind not in KINDS:
        raise BadParameter(f"種類 type={kind!r} はありません。次のいずれか / unknown type; one of: {', '.join(KINDS)}")
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    wanted = negotiate(request.headers.get("Accept"), [by_name("html"), by_media_type("application/json")])
    wants_json = request.path.endswith(".json") or (wanted is not None and wanted.media_type != "text/html")
    hits, total = [], 0
    path = open_home(settings, create=False).current_path()
    size = settings.page_size
    if q and path is not None and (path / FILENAME).exists():
        index = SearchIndex(path / FILENAME, readonly=True)
        try:
            hits, total = index.search(q, kind=kind, limit=size, offset=(page - 1) * size,
                                       max_hits=settings.search_max_hits)
        finally:
            index.db.close()
    minter = current_app.config["KG_MINTER"]

    results = [_result(h, minter) for h in hits]
    if wants_json:
        response = jsonify({"query": q, "type": kind, "page": page, "total": total, "total_is_lower_bound": total >= settings.search_max_hits,
                            "results": results})
        response.headers["Vary"] = "Accept"
        return response
    response = Response(render_template("search.html", q=q, kind=kind, kinds=KINDS, results=results, total=total,
                                        status_labels=STATUS_LABELS,
                                        page=page, has_next=page * size < total), 200, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response
