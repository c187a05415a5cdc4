"""Random URLs over the page, search and SPARQL space: none may get a 5xx.

Seeded, so a failure reproduces; 8,000 requests through the app in about fifteen seconds, and
the first 2,000 of them over each engine (whose errors must come back as ours: a 4xx for the
request's fault, never the engine's 500).
"""

from __future__ import annotations

import random
import urllib.parse

import pytest

from kg.server import create_app
from kg.server.executor import InlineExecutor
from kg.settings import load_settings
from support import BASE, load_demo

PIECES = ["corporation", "municipality", "prefecture", "town", "law", "program", "code", "block", "parcel",
          "7000012050002", "131016", "131059-0006002", "411AC0000000127", "article", "1", "paragraph", "suppl",
          "%7C", "%00", "%FF", "%E5%9B%BD", "..", ".", "%2F", "~", "|", "<", ">", "\"", "'", "#", "?", " ", "%20",
          "%C0%AF", "国税庁", "x" * 300, "", "-", "_", ":", "@", "%", "%G0", ".ttl", ".html", ".jsonld", ".rdf", ".nt"]
QUERY_PIECES = ["SELECT", "*", "WHERE", "{", "}", "?s", "?p", "?o", "(", ")", "FILTER", "SERVICE", "<http://127.0.0.1:1/>",
                "LIMIT", "1", "'", '"', "\\", "\x00", "%FF", "ASK", "CONSTRUCT", "DESCRIBE", "<>", "a", ".", ";", ",",
                "GRAPH", "OPTIONAL", "UNION", "BIND", "AS", "VALUES", "PREFIX", "ex:", "<http://x/", "#", "\n", "国"]
ACCEPTS = [None, "*/*", "text/html", "application/json", "text/turtle;q=0.5, */*;q=0.1", "image/png", "*", "",
           "text/*", "application/sparql-results+xml", "application/rdf+xml", "garbage", "text/html;q=abc"]


pytestmark = pytest.mark.engines

#: requests per backend: on an engine each query is an HTTP request to it as well
REQUESTS = {"embedded": 8000, "engine": 2000}


@pytest.fixture(scope="module")
def client(demo_dir, module_backend, tmp_path_factory):
    if module_backend is None:
        settings = load_settings({}, data_dir=str(demo_dir), base_uri=BASE, query_timeout=5)
    else:
        settings = load_demo(tmp_path_factory.mktemp("fuzz") / "data", module_backend, query_timeout=5)
    executor = InlineExecutor(settings)
    yield create_app(settings, executor=executor).test_client()
    executor.close()


def _path(rng: random.Random) -> str:
    root = rng.choice(["/id/", "/doc/", "/def/", "/", "/search", "/search.json", "/sparql", "/datasets",
                       "/dumps/", "/.well-known/void", "/healthz", "/static/"])
    if root in ("/id/", "/doc/", "/def/", "/dumps/", "/static/"):
        return root + "/".join(rng.choice(PIECES) for _ in range(rng.randint(0, 5)))
    params = {}
    if root.startswith("/search"):
        params = {"q": "".join(rng.choice(PIECES + QUERY_PIECES) for _ in range(rng.randint(0, 4))),
                  rng.choice(["type", "page", "x"]): rng.choice(PIECES)}
    elif root == "/sparql" and rng.random() < 0.8:
        params = {"query": " ".join(rng.choice(QUERY_PIECES) for _ in range(rng.randint(0, 12))),
                  rng.choice(["format", "output", "default-graph-uri", "named-graph-uri", "x"]): rng.choice(PIECES)}
    query = urllib.parse.urlencode(params)
    if rng.random() < 0.2:  # raw, possibly malformed escapes
        query += "&" + rng.choice(["query=%FF", "q=%", "q=%zz", "query=%00", "p=%E5%9B", "offset=-1", "offset=x"])
    return root + ("?" + query if query else "")


def test_random_urls_get_no_5xx(client, module_backend):
    rng = random.Random(20261202)
    failures = []
    for _ in range(REQUESTS["embedded" if module_backend is None else "engine"]):
        path = _path(rng)
        headers = {}
        accept = rng.choice(ACCEPTS)
        if accept is not None:
            headers["Accept"] = accept
        method = rng.choice(["GET", "GET", "GET", "HEAD", "POST", "OPTIONS"])
        kwargs = {}
        if method == "POST":
            kwargs["data"] = " ".join(rng.choice(QUERY_PIECES) for _ in range(rng.randint(0, 10))).encode()
            headers["Content-Type"] = rng.choice(["application/sparql-query", "application/x-www-form-urlencoded",
                                                  "application/sparql-update", "text/plain", "application/json"])
        r = client.open(path, method=method, headers=headers, **kwargs)
        if r.status_code >= 500 and not (r.status_code == 503 and "time limit" in r.get_data(as_text=True)):
            failures.append((method, path, accept, r.status_code, r.get_data(as_text=True)[:120]))
    assert failures == [], "\n".join(map(repr, failures))
