"""The W3C SPARQL 1.1 Protocol test manifest, driven against the Flask app."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import rdflib
from rdflib import Namespace, RDF

from kg.server import create_app
from kg.server.executor import Executor
from kg.settings import load_settings

from support import BASE
from support.server import CONFORMANCE, seed

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
PROTOCOL = CONFORMANCE / "sparql11-protocol"
KASEI = "http://kasei.us/2009/09/sparql/data/"
TOKEN = "s3cret-token"

FORMATS = {
    "tabular": {"application/sparql-results+xml", "application/sparql-results+json", "text/csv", "text/tab-separated-values"},
    "boolean": {"application/sparql-results+xml", "application/sparql-results+json"},
    "rdf": {"application/rdf+xml", "text/turtle", "application/n-triples", "application/ld+json"},
}


def load_manifest():
    if not PROTOCOL.is_dir():
        return []
    g = rdflib.Graph().parse(PROTOCOL / "manifest.ttl", format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for test in rdflib.collection.Collection(g, g.value(manifest, MF.entries)):
        name = str(g.value(test, MF.name))
        action = g.value(test, MF.action)
        requests = []
        for req in rdflib.collection.Collection(g, g.value(action, HT.requests)):
            headers = {}
            hlist = g.value(req, HT.headers)
            if hlist is not None:
                for h in rdflib.collection.Collection(g, hlist):
                    headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            body = g.value(req, HT.body)
            data = None
            if body is not None:
                encoding = str(g.value(body, CNT.characterEncoding) or "UTF-8")
                data = str(g.value(body, CNT.chars)).encode(encoding.lower().replace("utf-16", "utf-16"))
            resp = g.value(req, HT.resp)
            requests.append({
                "method": str(g.value(req, HT.methodName)),
                "path": str(g.value(req, HT.absolutePath)).replace("/sparql/", "/sparql", 1),
                "headers": headers, "data": data,
                "status": {str(s).rsplit("StatusCode", 1)[-1] for s in g.objects(resp, MF.expectedStatus)},
                "boolean": g.value(resp, MF.expectedBoolean),
                "format": str(g.value(resp, MF.expectedFormat)) if g.value(resp, MF.expectedFormat) else None,
            })
        tests.append((str(test).rsplit("#", 1)[-1], name, requests))
    return tests


TESTS = load_manifest()


def needs_update(requests) -> bool:
    return any(b"INSERT" in (r["data"] or b"").upper() or b"update=" in (r["data"] or b"")
               or r["headers"].get("content-type", "").startswith("application/sparql-update") for r in requests)


pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def apps(module_backend, tmp_path_factory):
    """The endpoint without and with an update token, over the embedded store or an engine of
    the module's own (the suite clears the store it runs on)."""
    if not TESTS:
        pytest.skip("conformance manifests not present")
    root = tmp_path_factory.mktemp("protocol")
    data_dir = root / "data"
    out = {}
    executor = None
    engine = module_backend.overrides() if module_backend else {}
    for token in (None, TOKEN):
        settings = load_settings({}, data_dir=str(data_dir), base_uri=BASE, update_token=token, **engine)
        executor = executor or Executor(settings, size=2)
        out[token] = create_app(settings, executor=executor)
    yield settings, out
    executor.close()


def reseed(settings):
    seed(settings, {f"{KASEI}data{i}.rdf": PROTOCOL / f"data{i}.nt" for i in (1, 2, 3)})


def check(response, expected):
    status = str(response.status_code)[0] + "xx"
    assert status in expected["status"], (response.status_code, response.get_data(as_text=True)[:300])
    ctype = response.mimetype
    if expected["format"]:
        assert ctype in FORMATS[expected["format"].lower()], ctype
    if expected["boolean"] is not None:
        body = response.get_data(as_text=True)
        if "json" in ctype:
            value = json.loads(body)["boolean"]
        else:
            value = ET.fromstring(body).find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"
        assert value == expected["boolean"].toPython()


@pytest.mark.parametrize("test_id,name,requests", TESTS, ids=[t[0] for t in TESTS])
def test_protocol_with_update_token(apps, test_id, name, requests):
    settings, by_token = apps
    if test_id == "update_dataset_full" and settings.store == "sparql":
        pytest.xfail("on an engine a graph variable binds the engine's graph name (…/gen-NNNNNN), and this "
                     "update stores that name as data (BIND(?g AS ?in)); answers rename it back, stored data "
                     "does not (README: known limit of renamed graph names)")
    reseed(settings)
    client = by_token[TOKEN].test_client()
    for r in requests:
        headers = dict(r["headers"])
        headers["Authorization"] = f"Bearer {TOKEN}"
        response = client.open(r["path"], method=r["method"], headers=headers, data=r["data"])
        check(response, r)


@pytest.mark.parametrize("test_id,name,requests", TESTS, ids=[t[0] for t in TESTS])
def test_protocol_read_only(apps, test_id, name, requests):
    settings, by_token = apps
    reseed(settings)
    client = by_token[None].test_client()
    if needs_update(requests) and not test_id.startswith("bad_"):
        first = requests[0]
        response = client.open(first["path"], method=first["method"], headers=first["headers"], data=first["data"])
        assert response.status_code == 403, response.get_data(as_text=True)
        assert "read-only" in response.get_data(as_text=True)
        return
    for r in requests:
        response = client.open(r["path"], method=r["method"], headers=r["headers"], data=r["data"])
        check(response, r)
