"""Real SPARQL clients (SPARQLWrapper, rdflib's SPARQLStore) against a running `kg serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BASE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {**os.environ, "KG_DATA_DIR": str(tmp / "data"), "KG_BASE_URI": BASE, "KG_PORT": str(port),
           "KG_HOST": "127.0.0.1"}
    kg = Path(sys.executable).parent / "kg"
    proc = subprocess.Popen([str(kg), "demo"], env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if b"gen-" in r.read():
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("kg demo did not start serving: " + (proc.stdout.read() if proc.stdout else ""))
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_sparqlwrapper_select_ask_construct(server):
    from SPARQLWrapper import JSON, XML, TURTLE, SPARQLWrapper

    sw = SPARQLWrapper(server + "/sparql")
    sw.setQuery("PREFIX rov: <http://www.w3.org/ns/regorg#> SELECT ?n WHERE { ?c rov:legalName ?n FILTER(lang(?n) = 'ja') }")
    sw.setReturnFormat(JSON)
    names = {b["n"]["value"] for b in sw.query().convert()["results"]["bindings"]}
    assert "国税庁" in names and "任天堂株式会社" in names
    sw.setMethod("POST")
    sw.setReturnFormat(XML)
    doc = sw.query().convert()
    assert "国税庁" in doc.toxml()
    sw.setMethod("GET")
    sw.setQuery("ASK { ?c <http://www.w3.org/ns/regorg#legalName> '国税庁'@ja }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True
    sw.setQuery("CONSTRUCT { ?c ?p ?o } WHERE { ?c <http://purl.org/dc/terms/identifier> '7000012050002' ; ?p ?o }")
    sw.setReturnFormat(TURTLE)
    import rdflib

    g = rdflib.Graph().parse(data=sw.query().convert(), format="turtle")
    assert len(g) > 10


def test_rdflib_sparqlstore(server):
    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(SPARQLStore(server + "/sparql", returnFormat="json"))
    rows = list(graph.query("SELECT ?c WHERE { ?c <http://www.w3.org/ns/regorg#orgType> ?k } LIMIT 3"))
    assert len(rows) == 3
    assert all(str(r.c).startswith(BASE + "id/corporation/") for r in rows)
