"""Real SPARQL clients (SPARQLWrapper, rdflib's SPARQLStore) against a running `kg serve`."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support import BASE


@pytest.fixture(scope="module")
def server(demo_server):
    return demo_server


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


SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def _get(url: str, query: str, timeout: float = 30) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"{url}/sparql?{urllib.parse.urlencode({'query': query})}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_served_runaway_query_is_stopped_and_its_process_recycled(server):
    """Under kg serve the runaway query's process ends after answering; the others serve on."""
    slow: dict = {}

    def run_slow():
        started = time.monotonic()
        slow["status"], slow["body"] = _get(server, SLOW)
        slow["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.5)
    fast = []
    while thread.is_alive() and len(fast) < 200:
        started = time.monotonic()
        status, body = _get(server, "ASK { ?c <http://purl.org/dc/terms/identifier> '7000012050002' }")
        fast.append(time.monotonic() - started)
        assert status == 200 and "true" in body
        time.sleep(0.05)
    thread.join(30)
    assert slow["status"] == 503 and "time limit of 4 s" in slow["body"], slow
    assert 3.5 < slow["seconds"] < 10
    assert len(fast) > 10 and max(fast) < 1.0, fast
    # the recycled process is replaced: everything answers again, and nothing burns CPU for the dead query
    deadline = time.monotonic() + 15
    answered = 0
    while time.monotonic() < deadline and answered < 20:
        try:
            status, _ = _get(server, "ASK {}", timeout=5)
            answered += status == 200
        except OSError:  # a connection cut while the process was being replaced
            time.sleep(0.2)
    assert answered == 20
