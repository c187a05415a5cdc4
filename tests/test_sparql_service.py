"""The endpoint beyond the protocol manifest: result-format manifests, limits, conneg, CORS, SD."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.parse

import pyoxigraph as ox
import pytest
import rdflib

from kg.server import create_app
from kg.server.executor import Executor
from kg.settings import load_settings

from support import BASE, load_demo

pytestmark = pytest.mark.engines
from support.server import CONFORMANCE, seed

JSON_RES = CONFORMANCE / "sparql11-json-res"
CSV_RES = CONFORMANCE / "sparql11-csv-tsv-res"


@pytest.fixture(scope="module")
def demo_app(module_backend, tmp_path_factory):
    settings = load_demo(tmp_path_factory.mktemp("svc") / "data", module_backend, query_timeout=3, max_rows=5,
                         max_body=4096)
    executor = Executor(settings, size=2)
    yield create_app(settings, executor=executor)
    executor.close()


@pytest.fixture(scope="module")
def formats_app(tmp_path_factory):
    if not JSON_RES.is_dir():
        pytest.skip("conformance manifests not present")
    data_dir = tmp_path_factory.mktemp("fmt") / "data"
    settings = load_settings({}, data_dir=str(data_dir), base_uri=BASE)
    executor = Executor(settings, size=1)
    yield data_dir, create_app(settings, executor=executor)
    executor.close()


def _load_turtle(data_dir, path):
    nt = ox.serialize(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES).decode()
    seed(data_dir, {"http://example.org/data": nt})


def _norm_bnodes(text: str) -> str:
    return re.sub(r"_:[A-Za-z0-9]+", "_:b", text)


@pytest.mark.parametrize("n", ["01", "02", "03", "04"])
def test_json_result_format_manifest(formats_app, n):
    data_dir, app = formats_app
    _load_turtle(data_dir, JSON_RES / "data.ttl")
    query = (JSON_RES / f"jsonres{n}.rq").read_text()
    r = app.test_client().post("/sparql", data=query, headers={"Content-Type": "application/sparql-query",
                                                                 "Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.mimetype == "application/sparql-results+json"
    got = json.loads(r.get_data(as_text=True))
    want = json.loads((JSON_RES / f"jsonres{n}.srj").read_text())
    if "boolean" in want:
        assert got["boolean"] == want["boolean"]
        return
    assert got["head"]["vars"] == want["head"]["vars"]
    def norm(rows):
        out = []
        for b in rows:
            b = {k: ({**t, "value": "b"} if t["type"] == "bnode" else t) for k, t in b.items()}
            out.append(json.dumps(b, sort_keys=True))
        return sorted(out)

    assert norm(got["results"]["bindings"]) == norm(want["results"]["bindings"])


CANONICAL = pytest.mark.xfail(strict=True, reason="Oxigraph stores numeric literals canonically "
                              "('1.0E6'^^xsd:double reads back as '1000000', xsd:negativeInteger as xsd:integer), "
                              "so the lexical forms this test expects are not what the store holds")


@pytest.mark.parametrize("query,data,expected", [
    ("csvtsv01.rq", "data.ttl", "csvtsv01.csv"), ("csvtsv02.rq", "data.ttl", "csvtsv02.csv"),
    pytest.param("csvtsv01.rq", "data2.ttl", "csvtsv03.csv", marks=CANONICAL), ("csvtsv01.rq", "data.ttl", "csvtsv01.tsv"),
    ("csvtsv02.rq", "data.ttl", "csvtsv02.tsv"), pytest.param("csvtsv01.rq", "data2.ttl", "csvtsv03.tsv", marks=CANONICAL),
])
def test_csv_tsv_result_format_manifest(formats_app, query, data, expected):
    data_dir, app = formats_app
    _load_turtle(data_dir, CSV_RES / data)
    accept = "text/csv" if expected.endswith(".csv") else "text/tab-separated-values"
    r = app.test_client().get("/sparql", query_string={"query": (CSV_RES / query).read_text()}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == accept
    lines = lambda text: sorted(_norm_bnodes(l) for l in text.replace("\r\n", "\n").strip("\n").split("\n"))  # noqa: E731
    got, want = r.get_data(as_text=True), (CSV_RES / expected).read_text(encoding="utf-8")
    assert lines(got)[0:1] == lines(want)[0:1] or got.splitlines()[0] == want.splitlines()[0]
    assert lines(got) == lines(want)


def test_select_in_every_format_and_format_parameter(demo_app):
    c = demo_app.test_client()
    q = "SELECT ?n WHERE { corp:7000012050002 rov:legalName ?n } ORDER BY ?n"
    for accept, media in [("application/sparql-results+json", "application/sparql-results+json"),
                          ("application/sparql-results+xml", "application/sparql-results+xml"),
                          ("text/csv", "text/csv"), ("text/tab-separated-values", "text/tab-separated-values"),
                          ("text/csv;q=0.2, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
                          ("*/*", "application/sparql-results+json"), (None, "application/sparql-results+json")]:
        r = c.get("/sparql", query_string={"query": q}, headers={"Accept": accept} if accept else {})
        assert r.status_code == 200 and r.mimetype == media, (accept, r.mimetype)
        assert "国税庁" in r.get_data(as_text=True)
        assert r.headers["Content-Type"].endswith("charset=utf-8")
    r = c.get("/sparql", query_string={"query": q, "format": "csv"}, headers={"Accept": "application/sparql-results+xml"})
    assert r.mimetype == "text/csv"
    r = c.get("/sparql", query_string={"query": q, "output": "tsv"})
    assert r.mimetype == "text/tab-separated-values"


def test_construct_in_every_rdf_format(demo_app):
    c = demo_app.test_client()
    q = "CONSTRUCT { corp:7000012050002 rov:legalName ?n } WHERE { corp:7000012050002 rov:legalName ?n }"
    for media, fmt in [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
                       ("application/rdf+xml", "xml"), ("application/n-quads", "nquads"), ("application/trig", "trig")]:
        r = c.get("/sparql", query_string={"query": q}, headers={"Accept": media})
        assert r.status_code == 200 and r.mimetype == media
        g = rdflib.Dataset() if fmt in ("nquads", "trig") else rdflib.Graph()
        g.parse(data=r.get_data(), format=fmt)
        assert {str(o) for o in g.objects()} >= {"国税庁", "National Tax Agency"}


def test_not_acceptable_lists_the_types(demo_app):
    r = demo_app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                                   headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.get_data(as_text=True)


def test_malformed_query_is_400_with_the_parser_message(demo_app):
    r = demo_app.test_client().get("/sparql", query_string={"query": "SELECT ?x WHERE { ?x "})
    assert r.status_code == 400
    assert "error at 1:" in r.get_data(as_text=True)


def test_row_cap_cuts_results_and_says_so(demo_app):
    r = demo_app.test_client().get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"})
    assert r.status_code == 200
    assert len(json.loads(r.get_data())["results"]["bindings"]) == 5
    assert "KG_MAX_ROWS" in r.headers["X-KG-Truncated"]


def test_update_is_refused_without_token(demo_app):
    r = demo_app.test_client().post("/sparql", data="INSERT DATA { <a:b> <a:c> <a:d> }",
                                    headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 403


def test_body_size_limit(demo_app):
    r = demo_app.test_client().post("/sparql", data="SELECT * WHERE { ?s ?p ?o } #" + "x" * 5000,
                                    headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413


def test_cors_preflight_and_headers(demo_app):
    c = demo_app.test_client()
    r = c.options("/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204 and "POST" in r.headers["Access-Control-Allow-Methods"]
    r = c.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_service_description(demo_app):
    """The three SD manifest checks: RDF on GET, sd:endpoint is the endpoint, SD vocabulary used."""
    c = demo_app.test_client()
    for media, fmt in [("text/turtle", "turtle"), ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")]:
        r = c.get("/sparql", headers={"Accept": media, "Host": "attacker.example"})
        assert r.status_code == 200 and r.mimetype == media
        g = rdflib.Graph().parse(data=r.get_data(), format=fmt)
        SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
        service = next(g.subjects(rdflib.RDF.type, SD.Service))
        # the configured endpoint, whatever the Host header claims (it is the client's to forge)
        assert str(g.value(service, SD.endpoint)) == BASE + "sparql"
        assert SD.SPARQL11Query in set(g.objects(service, SD.supportedLanguage))
        names = {str(n) for n in g.objects(None, SD.name)}
        assert BASE + "graph/houjin" in names
        counts = [int(o) for o in g.objects(None, rdflib.URIRef("http://rdfs.org/ns/void#triples"))]
        assert all(n > 0 for n in counts)


def test_query_ui_for_browsers(demo_app):
    r = demo_app.test_client().get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert 'src="/static/sparql.js"' in page and "<script>" not in page
    assert "例 / Example queries" in page
    assert demo_app.test_client().get("/static/sparql.js").status_code == 200


def test_example_queries_return_rows_on_the_demo_data(demo_app):
    from kg.server.examples import EXAMPLES

    c = demo_app.test_client()
    for ex in EXAMPLES:
        r = c.post("/sparql", data={"query": ex.query}, headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, (ex.slug, r.get_data(as_text=True))
        assert json.loads(r.get_data())["results"]["bindings"], ex.slug


SLOW = """SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"""


def test_a_runaway_query_is_stopped_while_others_are_answered(demo_app):
    c1, c2 = demo_app.test_client(), demo_app.test_client()
    slow: dict = {}

    def run_slow():
        started = time.monotonic()
        r = c1.get("/sparql", query_string={"query": SLOW})
        slow.update(status=r.status_code, body=r.get_data(as_text=True), seconds=time.monotonic() - started)

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.5)
    fast_times = []
    for _ in range(5):
        started = time.monotonic()
        r = c2.get("/sparql", query_string={"query": "ASK { corp:7000012050002 ?p ?o }"})
        fast_times.append(time.monotonic() - started)
        assert r.status_code == 200
    thread.join(30)
    assert slow["status"] == 503 and "time limit of 3 s" in slow["body"]
    assert 2.5 < slow["seconds"] < 10
    assert max(fast_times) < 1.0, fast_times
    # the pool recovered: the next query is answered normally
    assert c1.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_a_one_subject_query_needs_no_query_process(demo_app):
    """A SELECT about one constant subject is answered by the web process itself: while both
    query processes are held by runaway queries it still answers at once, as a query process
    answers it; the runaway ones still end at the time limit."""
    from kg.server.sparql_text import one_subject

    executor = demo_app.extensions["kg_executor"]
    query = "SELECT ?name WHERE { GRAPH ?g { corp:7000012050002 rov:legalName ?name } }"
    through_process = query.replace(" } }", " } FILTER(BOUND(?name)) }")
    assert one_subject(query) and not one_subject(through_process)
    request = {"kind": "query", "query": through_process, "accept": "application/sparql-results+json",
               "format": None, "base_iri": None, "default_graphs": [], "named_graphs": []}
    expected = json.loads(executor.run(request).body)["results"]["bindings"]
    slow: list = []
    threads = [threading.Thread(target=lambda: slow.append(demo_app.test_client().get(
        "/sparql", query_string={"query": SLOW}).status_code)) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    try:
        started = time.monotonic()
        r = demo_app.test_client().post("/sparql", data={"query": query},
                                        headers={"Accept": "application/sparql-results+json"})
        took = time.monotonic() - started
        assert r.status_code == 200 and took < 1.0, took
        rows = json.loads(r.get_data())["results"]["bindings"]
        assert rows and sorted(map(json.dumps, rows)) == sorted(map(json.dumps, expected))
    finally:
        for t in threads:
            t.join(30)
    assert slow == [503, 503]


def test_healthz(demo_app):
    r = demo_app.test_client().get("/healthz")
    assert r.status_code == 200 and "generation: gen-" in r.get_data(as_text=True)


def test_a_chunked_post_without_content_length_is_still_answered(demo_app):
    """The fast path reads bodies by Content-Length; a chunked one goes to Flask, which reads the stream."""
    import sys

    body = "query=" + urllib.parse.quote("ASK { corp:7000012050002 ?p ?o }")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/sparql", "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "HTTP_HOST": "localhost", "CONTENT_TYPE": "application/x-www-form-urlencoded",
               "HTTP_ACCEPT": "application/sparql-results+json", "wsgi.input": io.BytesIO(body.encode()),
               "wsgi.input_terminated": True, "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.multithread": True,
               "wsgi.multiprocess": True, "wsgi.run_once": False}
    seen = {}
    out = b"".join(demo_app(environ, lambda status, headers, exc=None: seen.update(status=status)))
    assert seen["status"].startswith("200") and json.loads(out)["boolean"] is True
