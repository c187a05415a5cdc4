"""The remote store's own rules: graph names renamed only where a graph is named, credentials
never shown, an unreachable engine is a one-line error. (Its behaviour as a store is tested by
the ``engines`` modules: test_store, the load tests, test_cli.)"""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from kg.store.graph_names import Dataset, rename_graphs
from support.server import answering_server, free_port

G = "http://localhost:8000/graph/houjin"
NAMES = {G: G + "/gen-000007"}
PREFIXES = {"graph": "http://localhost:8000/graph/"}


@pytest.mark.parametrize("text, expected", [
    ("SELECT * { GRAPH <%s> { ?s ?p ?o } }" % G, "SELECT * { GRAPH <%s/gen-000007> { ?s ?p ?o } }" % G),
    ("SELECT * { GRAPH graph:houjin { ?s ?p ?o } }", "SELECT * { GRAPH <%s/gen-000007> { ?s ?p ?o } }" % G),
    ("select * from named <%s> { graph ?g {} }" % G, "select * from named <%s/gen-000007> { graph ?g {} }" % G),
    ("PREFIX g: <http://localhost:8000/graph/> SELECT * FROM g:houjin { ?s ?p ?o }",
     "PREFIX g: <http://localhost:8000/graph/> SELECT * FROM <%s/gen-000007> { ?s ?p ?o }" % G),
    # data about the graph stays data; strings and comments are not code
    ("SELECT ?n { <%s> <http://rdfs.org/ns/void#triples> ?n }" % G, None),
    ('SELECT * { ?s ?p "GRAPH <%s>" } # GRAPH <%s>' % (G, G), None),
    ("SELECT * { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }", None),
    # updates: every place a graph is named
    ("DROP SILENT GRAPH <%s>" % G, "DROP SILENT GRAPH <%s/gen-000007>" % G),
    ("COPY <%s> TO <http://x/other>" % G, "COPY <%s/gen-000007> TO <http://x/other>" % G),
    ("WITH <%s> DELETE { ?s ?p ?o } USING NAMED <%s> WHERE { ?s ?p ?o }" % (G, G),
     "WITH <%s/gen-000007> DELETE { ?s ?p ?o } USING NAMED <%s/gen-000007> WHERE { ?s ?p ?o }" % (G, G)),
])
def test_graph_names_are_renamed_only_where_a_graph_is_named(text, expected):
    assert rename_graphs(text, NAMES, PREFIXES) == (expected or text)


def test_what_a_text_says_about_its_dataset():
    seen = Dataset()
    rename_graphs("SELECT * FROM <http://x/a> { GRAPH ?g { ?s ?p ?o } }", {}, None, seen)
    assert seen.from_clause and seen.variable_graph and seen.graphs == {"http://x/a"}
    seen = Dataset()
    rename_graphs("INSERT DATA { GRAPH graph:links { <http://x/s> <http://x/p> 1 } }", {}, PREFIXES, seen)
    assert not seen.from_clause and not seen.variable_graph and seen.graphs == {"http://localhost:8000/graph/links"}


def _remote_env(port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return {"KG_STORE": "sparql", "KG_SPARQL_QUERY": url + "/query", "KG_SPARQL_UPDATE": url + "/update",
            "KG_SPARQL_STORE": url + "/store", "KG_SPARQL_USER": "kg", "KG_SPARQL_PASSWORD": "s3cret-pw"}


def test_settings_mask_the_password_and_errors_never_show_it(tmp_path):
    from click.testing import CliRunner

    from kg.cli import main

    runner = CliRunner(env=_remote_env(free_port()))  # nothing listens there
    shown = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), "settings"])
    assert shown.exit_code == 0
    assert "KG_SPARQL_PASSWORD=(set)" in shown.output and "s3cret-pw" not in shown.output
    assert "KG_SPARQL_USER=kg" in shown.output and "KG_STORE=sparql" in shown.output
    for args in (["query", "ASK {}"], ["stats"]):
        result = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), *args])
        assert result.exit_code != 0
        assert "cannot reach the SPARQL engine at http://127.0.0.1:" in result.output
        assert "s3cret-pw" not in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_a_missing_endpoint_setting_is_named(tmp_path):
    from kg.errors import StoreError
    from kg.settings import load_settings
    from kg.store import open_home

    settings = load_settings({"KG_STORE": "sparql", "KG_SPARQL_QUERY": "http://127.0.0.1:1/query"},
                             data_dir=str(tmp_path / "d"))
    with pytest.raises(StoreError, match="KG_SPARQL_UPDATE, KG_SPARQL_STORE"):
        open_home(settings)
    with pytest.raises(ValueError, match="KG_STORE='virtuoso'"):
        load_settings({"KG_STORE": "virtuoso"})


# ---- a load's pending changes (kg/store/overlay.py) ---------------------------------------------

def test_one_pattern_graph_groups_read_through_a_layer_and_the_rest_is_named():
    from kg.store.overlay import Layer, rewrite

    layers = {G: Layer(G + "/gen-000001", G + "/gen-000002/add", G + "/gen-000002/del")}
    text, left = rewrite("SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p <http://x/hub> } } GROUP BY ?p",
                         layers, None, ["http://x/other"])
    assert left == set() and "gen-000002/add" in text and "<http://x/other>" in text
    text, left = rewrite("SELECT * WHERE { GRAPH graph:houjin { ?s a ?c . } }", layers, PREFIXES)
    assert left == set() and "gen-000002/del" in text
    for query in ("SELECT * WHERE { GRAPH graph:houjin { ?s a ?c ; ?p ?o } }",      # two patterns
                  "SELECT * WHERE { ?s a ?c }",                                      # the default graph
                  "SELECT * FROM <%s> WHERE { ?s ?p ?o }" % G,                       # its own dataset
                  'SELECT * WHERE { GRAPH graph:houjin { ?s ?p "x"@ja } }'):         # not a plain term
        assert rewrite(query, layers, PREFIXES)[1] == {G}, query


@pytest.mark.engines
def test_a_query_a_layer_cannot_answer_materialises_it(settings, backend):
    """In a build on an engine: a changed served graph is read through its layer, and a query
    the layer cannot answer copies it first; either way the build sees its own writes."""
    from kg.rdf import IRI, Literal
    from kg.store import open_home
    from kg.store.interface import Quad

    if backend is None:
        pytest.skip("layers exist on engines only")
    home = open_home(settings)
    with home.build() as b:
        b.store.add(text="".join(f'<http://x/s{i}> <http://x/p> "{i}" <{G}> .\n' for i in range(5)))
    with home.build() as b:
        b.store.remove([Quad(IRI("http://x/s0"), "http://x/p", Literal("0"), G)])
        b.store.add(text=f'<http://x/s9> <http://x/p> "9" <{G}> .\n')
        assert G in b.store.layers
        assert b.store.count(G) == 5 and not b.store.has("http://x/s0") and b.store.has("http://x/s9", graph=G)
        one = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s <http://x/p> ?o } }"
        assert int(next(iter(b.store.query(one)))["n"].value) == 5 and G in b.store.layers
        two = "SELECT ?s WHERE { GRAPH ?g { ?s <http://x/p> ?o . ?s <http://x/p> ?o2 } }"
        assert sorted(r["s"] for r in b.store.query(two)) == [f"http://x/s{i}" for i in (1, 2, 3, 4, 9)]
        assert G not in b.store.layers  # materialised: a graph of the build's own
    served = home.open_current()
    assert sorted(str(q.subject) for q in served.quads(graph=G)) == [f"http://x/s{i}" for i in (1, 2, 3, 4, 9)]
    assert not [g for g in backend.graphs() if g.endswith(("/add", "/del"))]


@pytest.mark.engines
def test_a_graph_the_version_does_not_hold_reads_as_empty(settings, backend):
    """A graph somebody else keeps on the engine, or none holds, is empty to every query form and
    protocol dataset (as on the embedded store); a DROP of it is the request's fault (400)."""
    from kg.errors import QueryRejected
    from kg.store import open_home

    home = open_home(settings)
    with home.build() as b:
        b.store.add(text=f'<http://x/s> <http://x/p> "ours" <{G}> .\n')
    other = "http://elsewhere.example/g"
    if backend is not None:  # put there past kg, as another user of the engine would
        home.open_current().client.update(f'INSERT DATA {{ GRAPH <{other}> {{ <http://x/t> <http://x/p> "theirs" }} }}')
    store = home.open_current()
    for graph in (other, "http://nobody.example/g"):
        assert store.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") is False
        assert list(store.query(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")) == []
        assert list(store.query(f"SELECT ?o FROM <{graph}> WHERE {{ ?s ?p ?o }}")) == []
        assert list(store.query("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[graph])) == []
    assert [r["o"].value for r in store.query(f"SELECT ?o WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}")] == ["ours"]
    assert [r["o"].value for r in store.query(f"SELECT ?o FROM <{G}> WHERE {{ ?s ?p ?o }}")] == ["ours"]
    with home.build() as b, pytest.raises(QueryRejected, match="nobody.example/g>"):
        b.store.update("DROP GRAPH <http://nobody.example/g>")


def test_opaque_wkt_keeps_points_exact_on_the_engine_and_as_written_in_answers(oxigraph_server):
    """KG_SPARQL_WKT=opaque (for Virtuoso, which rounds and refuses WKT literals): the engine holds
    another datatype, every answer (solutions, a streamed dump of several MiB) has the original."""
    import io
    import json

    from kg.store.remote import SparqlClient

    oxigraph_server.wipe()
    e = oxigraph_server
    ours = SparqlClient(e.query, e.update, e.store, opaque_wkt=True)
    raw = SparqlClient(e.query, e.update, e.store)
    wkt = "<http://www.opengis.net/ont/geosparql#wktLiteral>"
    lines = [f'<http://ex/p{i}> <http://www.opengis.net/ont/geosparql#asWKT> '
             f'"<http://www.opengis.net/def/crs/EPSG/0/6668> POINT(139.{i:06d} 35.6)"^^{wkt} .\n'
             for i in range(40_000)]  # ~5 MiB: the dump comes back in many chunks
    ours.post_graph("http://ex/g", "".join(lines).encode())

    _, body = raw.query("SELECT DISTINCT (DATATYPE(?o) AS ?d) WHERE { GRAPH <http://ex/g> { ?s ?p ?o } }",
                        accept="application/sparql-results+json")
    assert [b["d"]["value"] for b in json.loads(body)["results"]["bindings"]] == ["urn:x-kg:geosparql-wktLiteral"]
    _, body = ours.query(f'SELECT ?s WHERE {{ GRAPH <http://ex/g> {{ ?s ?p "<http://www.opengis.net/def/crs/EPSG/0/6668> '
                         f'POINT(139.000007 35.6)"^^{wkt} }} }}', accept="application/sparql-results+json")
    assert [b["s"]["value"] for b in json.loads(body)["results"]["bindings"]] == ["http://ex/p7"]
    out = io.BytesIO()
    ours.get_graph("http://ex/g", out)
    dumped = sorted(" ".join(line.split()) for line in out.getvalue().decode().splitlines())
    assert len(out.getvalue()) > 2 << 20
    assert dumped == sorted(" ".join(line.split()) for line in lines)


@pytest.mark.parametrize("engine", ["oxigraph_server", "virtuoso"])
def test_own_reads_give_the_same_terms_in_either_results_format(engine, request):
    """KG_SPARQL_RESULTS: what an entity read returns is what was written, asked as SPARQL JSON or
    as SPARQL XML (Virtuoso's faster one), escapes, languages, datatypes and booleans included."""
    from kg.rdf import IRI, Literal
    from kg.store.oxigraph import to_ox
    from kg.store.remote import RemoteStore, SparqlClient

    e = request.getfixturevalue(engine)
    e.wipe()
    g, s = "http://ex/g", "http://ex/s"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    written = {IRI("http://ex/s#frag"), Literal("tab\there\nnext \"q\" \\ end"), Literal("株式会社ラベル", None, "ja"),
               Literal("label", None, "en"), Literal("12", xsd + "integer"), Literal("true", xsd + "boolean"),
               Literal("2020-01-02", xsd + "date"), Literal("😀 絵文字"), Literal("")}
    lines = "".join(f"<{s}> <http://ex/p> {to_ox(o)} .\n" for o in written)
    SparqlClient(e.query, e.update, e.store).post_graph(g, lines.encode())
    read = {}
    for fmt in ("json", "xml"):
        store = RemoteStore(SparqlClient(e.query, e.update, e.store, results=fmt), {g: g})
        read[fmt] = ({q.object for q in store.entity(s, g)}, {q.object for q in store.quads(s, graph=g)},
                     store.count(g))
    assert read["json"] == read["xml"] == (written, written, len(written))


@pytest.mark.parametrize("engine", ["oxigraph_server", "virtuoso"])
def test_virtuoso_is_known_by_the_query_in_its_own_syntax_it_answers(engine, request, monkeypatch):
    """kg.store.dialect's forms go to Virtuoso only: known by the one query in its own syntax that
    it answers where every other engine refuses it, whatever header a proxy in front writes."""
    from kg.store.remote import SparqlClient

    e = request.getfixturevalue(engine)
    client = SparqlClient(e.query, e.update, e.store)
    asked, query = [], SparqlClient.query
    monkeypatch.setattr(SparqlClient, "query", lambda self, text, **kw: (asked.append(text), query(self, text, **kw))[1])
    assert client.virtuoso is (engine == "virtuoso")
    assert client.virtuoso is (engine == "virtuoso") and len(asked) == 1  # found out once, then kept


def test_own_reads_name_kg_sparql_subjects_subjects_a_request(oxigraph_server, monkeypatch):
    """KG_SPARQL_SUBJECTS: entities and a load's lookups (quads_of) ask that many subjects at a
    time; every entity's description comes back whole, fragment nodes included."""
    from kg.store.remote import RemoteStore, SparqlClient

    e = oxigraph_server
    e.wipe()
    g = "http://ex/g"
    lines = "".join(f"<http://ex/s{i}> <http://ex/p> <http://ex/s{i}#f> .\n<http://ex/s{i}#f> <http://ex/q> \"{i}\" .\n"
                    for i in range(7))
    SparqlClient(e.query, e.update, e.store).post_graph(g, lines.encode())
    client = SparqlClient(e.query, e.update, e.store, subjects=3)
    store = RemoteStore(client, {g: g})
    asked, query = [], SparqlClient.query
    monkeypatch.setattr(SparqlClient, "query", lambda self, text, **kw: (asked.append(text), query(self, text, **kw))[1])
    found = store.entities([f"http://ex/s{i}" for i in range(7)], g)
    assert len(asked) == 6  # 3 + 3 + 1 subjects, then their fragment nodes the same way
    assert all(len(quads) == 2 for quads in found.values()) and len(found) == 7
    asked.clear()
    assert len(list(store.quads_of([f"http://ex/s{i}" for i in range(7)], ["http://ex/p"], g))) == 7
    assert len(asked) == 3 and store.subjects_per_read == 3


def test_a_write_may_wait_longer_than_a_query():
    """An engine that holds a write while it compacts after a bulk load (Oxigraph server: 370 s
    for the first write after 5.3M corporations) is waited for up to KG_SPARQL_WRITE_TIMEOUT; a
    query still gives up at its own limit, and each error names the setting that limits it.
    (A stand-in: no real engine can be made slow on demand.)"""
    import time

    from kg.errors import StoreError
    from kg.store.remote import SparqlClient

    def slow(method, path, body):
        time.sleep(0.6)
        if path.startswith("/query"):
            return 200, b'{"head": {"vars": []}, "results": {"bindings": []}}', "application/sparql-results+json"
        return 204, b"", "text/plain"

    server = answering_server(slow)
    try:
        u = server.url
        client = SparqlClient(u + "/query", u + "/update", u + "/store", timeout=0.2, write_timeout=5)
        client.update("INSERT DATA { GRAPH <http://x/g> { <http://x/s> <http://x/p> 1 } }")
        client.post_graph("http://x/g", b"<http://x/s> <http://x/p> 2 .\n")
        with pytest.raises(StoreError, match=r"within 0.2 s \(KG_QUERY_TIMEOUT"):
            client.query("SELECT * WHERE { ?s ?p ?o }")
        client.update("INSERT DATA { GRAPH <http://x/g> { <http://x/s> <http://x/p> 3 } }")  # on a fresh socket
        impatient = SparqlClient(u + "/query", u + "/update", u + "/store", timeout=5, write_timeout=0.2)
        with pytest.raises(StoreError, match=r"a write within 0.2 s \(KG_SPARQL_WRITE_TIMEOUT\)"):
            impatient.update("CLEAR GRAPH <http://x/g>")
    finally:
        server.shutdown()


def test_an_answer_cut_off_midway_is_one_error_and_the_next_request_works():
    """An engine that stops in the middle of an answer (a timeout while the body is read): one
    plain error, and the client's next request goes out on a fresh connection (it raised
    ResponseNotReady from the broken kept-alive one, a traceback at the end of a killed load)."""
    import socket
    import threading

    from kg.errors import StoreError
    from kg.store.remote import SparqlClient

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    whole = b'{"head": {"vars": ["x"]}, "results": {"bindings": []}}'

    def answer(conn: socket.socket, n: int) -> None:
        conn.recv(65536)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
        if n == 0:  # promises 1,000 bytes, sends one, then nothing
            conn.sendall(head + b"Content-Length: 1000\r\n\r\n{")
            threading.Event().wait(3)
        else:
            conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(whole) + whole)
        conn.close()

    def serve() -> None:
        for n in range(2):
            threading.Thread(target=answer, args=(listener.accept()[0], n), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{port}/sparql"
    client = SparqlClient(url, url, url, timeout=0.5)
    with pytest.raises(StoreError, match="broke off its answer"):
        client.query("SELECT ?x {}")
    assert client.query("SELECT ?x {}") == ("application/sparql-results+json", whole)
    listener.close()


# ---- a request the engine rolled back as a deadlock is sent again ---------------------------------
# Virtuoso 7's answer, as the 200k load into it got it (bench/README.md, session 10)
VIRTUOSO_DEADLOCK = b"Error 40001 SR172: Transaction deadlocked\n\nSPARQL query:\n..."


@pytest.mark.parametrize("retries, answers, sent, fails", [
    (5, [(500, VIRTUOSO_DEADLOCK)] * 2, 3, False),    # rolled back twice, then taken
    (1, [(500, VIRTUOSO_DEADLOCK)] * 2, 2, True),     # still deadlocked after the last try
    (5, [(500, b"Error 42000: out of disk")], 1, True),  # any other failure is not sent again
])
def test_a_request_rolled_back_as_a_deadlock_is_sent_again(monkeypatch, retries, answers, sent, fails):
    from kg.errors import StoreError
    from kg.store import remote

    monkeypatch.setattr(remote.time, "sleep", lambda s: None)
    seen, queue = [], list(answers)

    def answer(method, path, body):
        seen.append(body)
        status, text = queue.pop(0) if queue else (201, b"")
        return status, text, "text/plain"

    server = answering_server(answer)
    url = server.url
    client = remote.SparqlClient(url + "/query", url + "/update", url + "/store", retries=retries)
    try:
        if fails:
            with pytest.raises(StoreError, match="40001|out of disk"):
                client.post_graph("http://x/g", b"<http://x/s> <http://x/p> <http://x/o> .\n")
        else:
            client.post_graph("http://x/g", b"<http://x/s> <http://x/p> <http://x/o> .\n")
    finally:
        server.shutdown()
    assert len(seen) == sent and set(seen) == {b"<http://x/s> <http://x/p> <http://x/o> .\n"}


# ---- KG_SPARQL_POST_BYTES: slices, or a load's whole stream as one POST -----------------------------

class _Requests:
    """Every request a client sends, as the engine receives it (a spy on http.client)."""

    def __init__(self, monkeypatch):
        import http.client

        self.sent: list[tuple[str, str, dict]] = []
        real = http.client.HTTPConnection.request

        def request(conn, method, url, body=None, headers={}, **kw):
            self.sent.append((method, url, dict(headers)))
            return real(conn, method, url, body=body, headers=headers, **kw)

        monkeypatch.setattr(http.client.HTTPConnection, "request", request)


def _remote_view(engine, *, post_bytes: int, store: str | None = None):
    from kg.store.remote import RemoteStore, SparqlClient

    client = SparqlClient(engine.query, engine.update, store or engine.store, post_bytes=post_bytes)
    return RemoteStore(client, {}, writable=lambda graph: graph + "/gen-000001")


def _piped(text: bytes, chunk: int = 65536):
    """A byte stream read as a pipe is: whatever has been written, never more than asked."""
    import io

    class Pipe(io.RawIOBase):
        def __init__(self):
            self.at = 0

        def readable(self):
            return True

        def readinto(self, b):
            n = min(len(b), chunk, len(text) - self.at)
            b[:n] = text[self.at:self.at + n]
            self.at += n
            return n

    return io.BufferedReader(Pipe(), buffer_size=chunk)


@pytest.mark.parametrize("post_bytes, posts", [(0, 1), (1 << 20, 11)])
def test_a_load_goes_in_slices_or_as_one_streamed_post(oxigraph_server, monkeypatch, post_bytes, posts):
    """KG_SPARQL_POST_BYTES=0 sends the whole stream (10 MiB here) as one chunked POST, which
    Oxigraph server's /store?no_transaction bulk-loads once; otherwise one POST per slice."""
    oxigraph_server.wipe()
    lines = b"".join(b'<http://x/s%d> <http://x/p> "%d \xe5\x80\xa4" .\n' % (i, i) for i in range(250_000))
    assert 10 << 20 < len(lines) < 11 << 20
    spy = _Requests(monkeypatch)
    view = _remote_view(oxigraph_server, post_bytes=post_bytes, store=oxigraph_server.store + "?no_transaction")
    view.add(stream=_piped(lines), fmt="ntriples", graph="http://x/g", bulk=True)
    loads = [(url, headers) for method, url, headers in spy.sent if method == "POST" and url.startswith("/store")]
    assert len(loads) == posts
    assert all(h.get("Transfer-Encoding") == ("chunked" if post_bytes == 0 else None) for _, h in loads)
    assert view.count("http://x/g") == 250_000
    assert [q.object.value for q in view.quads("http://x/s249999")] == ["249999 値"]


def test_a_streamed_post_the_engine_refuses_is_one_error_and_the_client_goes_on(oxigraph_server):
    """A broken line in the middle of a streamed load: the engine's own message (it answers
    before it has read the rest), not a broken pipe; the next request works."""
    from kg.errors import QueryRejected

    oxigraph_server.wipe()
    good = b"".join(b"<http://x/s%d> <http://x/p> <http://x/o> .\n" % i for i in range(100_000))
    view = _remote_view(oxigraph_server, post_bytes=0)
    with pytest.raises(QueryRejected, match="(?i)parser|IRI"):
        view.add(stream=_piped(b"<http://x/broken\n" + good * 8), fmt="ntriples", graph="http://x/g", bulk=True)
    view.add(text="<http://x/a> <http://x/p> <http://x/o> .\n", fmt="ntriples", graph="http://x/h", bulk=True)
    assert view.count("http://x/h") == 1


def test_a_stream_that_fails_while_it_is_sent_raises_its_own_error(oxigraph_server):
    """The mapping fails in the middle of a streamed POST: its error (not the engine's, not a
    hang) reaches the load, and the client's next request goes out on a fresh connection."""
    oxigraph_server.wipe()

    class Failing:
        def __init__(self):
            self.reads = 0

        def read(self, size=-1):
            self.reads += 1
            if self.reads > 3:
                raise RuntimeError("the mapping child died")
            return b"<http://x/s> <http://x/p> <http://x/o> .\n" * 1000

        def readline(self):
            return b""

    view = _remote_view(oxigraph_server, post_bytes=0)
    with pytest.raises(RuntimeError, match="the mapping child died"):
        view.add(stream=Failing(), fmt="ntriples", graph="http://x/g", bulk=True)
    view.add(text="<http://x/a> <http://x/p> <http://x/o> .\n", fmt="ntriples", graph="http://x/h", bulk=True)
    assert view.count("http://x/h") == 1


def test_an_engine_that_drops_a_chunked_post_fails_the_load_instead_of_losing_it(virtuoso):
    """Virtuoso 7 answers 201 to a chunked Graph Store POST and stores nothing of it: the load
    looks its first triple up afterwards and fails, naming the setting (slices still work)."""
    from kg.errors import StoreError

    virtuoso.wipe()
    lines = b"".join(b'<http://x/s%d> <http://x/p> "%d \xe5\x80\xa4" .\n' % (i, i) for i in range(20_000))
    view = _remote_view(virtuoso, post_bytes=0)
    with pytest.raises(StoreError, match="did not store it: set KG_SPARQL_POST_BYTES"):
        view.add(stream=_piped(lines), fmt="ntriples", graph="http://x/g", bulk=True)
    assert view.count("http://x/g") == 0
    sliced = _remote_view(virtuoso, post_bytes=256 << 10)
    sliced.add(stream=_piped(lines), fmt="ntriples", graph="http://x/g", bulk=True)
    assert sliced.count("http://x/g") == 20_000


@pytest.mark.engines
def test_an_engines_json_answer_is_handed_on_unless_it_must_change(settings, backend):
    """The engine's SPARQL JSON goes out as it came when it is what we would write; it is read
    and written again when a graph name must be renamed back, the rows cut at the cap, or the
    columns reordered, and the answer is the same either way."""
    import json

    from kg.store import open_home

    if backend is None:
        pytest.skip("an engine's answer")
    home = open_home(settings)
    with home.build() as b:
        b.store.add(text="".join(f'<http://x/s{i}> <http://x/p> "{i}"^^<http://www.w3.org/2001/XMLSchema#integer> <{G}> .\n'
                                 f'<http://x/s{i}> <http://x/q> "値{i}"@ja <{G}> .\n' for i in range(3))
                    + f'<http://x/s0> <http://x/b> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> <{G}> .\n')
    served = home.open_current()

    def rows(body):
        return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in json.loads(body)["results"]["bindings"])

    plain = served.query("SELECT ?s ?o ?l WHERE { ?s <http://x/p> ?o ; <http://x/q> ?l }")
    body, cut = plain.serialize("json", max_rows=10, variables=["s", "o", "l"])
    assert not cut and json.loads(body)["head"]["vars"] == ["s", "o", "l"] and len(rows(body)) == 3
    assert "値0" in body.decode("utf-8")  # UTF-8 as we write it, never Virtuoso's \u escapes
    reordered, _ = served.query("SELECT ?s ?o ?l WHERE { ?s <http://x/p> ?o ; <http://x/q> ?l }").serialize(
        "json", max_rows=10, variables=["l", "s", "o"])
    assert json.loads(reordered)["head"]["vars"] == ["l", "s", "o"] and rows(reordered) == rows(body)
    assert {r["o"]["datatype"] for r in json.loads(body)["results"]["bindings"]} == {
        "http://www.w3.org/2001/XMLSchema#integer"}  # never Virtuoso's "typed-literal"
    if backend.name == "oxigraph-server":
        assert body is plain._raw  # handed on
    named, _ = served.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g").serialize(
        "json", max_rows=10, variables=["g", "n"])
    assert [r["g"]["value"] for r in json.loads(named)["results"]["bindings"]] == [G]  # not the engine's name
    capped, cut = served.query("SELECT ?s WHERE { ?s <http://x/p> ?o }").serialize("json", max_rows=2, variables=["s"])
    assert cut and len(json.loads(capped)["results"]["bindings"]) == 2
    flag, _ = served.query("SELECT ?b WHERE { <http://x/s0> <http://x/b> ?b }").serialize(
        "json", max_rows=10, variables=["b"])
    assert [r["b"]["value"] for r in json.loads(flag)["results"]["bindings"]] == ["true"]  # Virtuoso writes 1


# ---- one-subject queries awaited by the event loop (kg.store.remote_async) -------------------------
@pytest.mark.engines
def test_a_one_subject_query_on_the_event_loop_answers_as_from_a_thread(settings, backend):
    """`kg serve` sends a one-entity query over an engine from its event loop, on kept-alive
    connections: the answer is the one a thread gets, bytes and headers, errors included, and
    one connection carries query after query."""
    import json

    from kg.errors import QueryRejected
    from kg.server.executor import Executor, InlineExecutor
    from kg.store import open_home

    if backend is None:
        pytest.skip("over an engine")
    home = open_home(settings)
    with home.build() as b:
        b.store.add(text="".join(f'<http://x/s{i}> <http://x/p> "値{i}"@ja <{G}> .\n<http://x/s{i}> <http://x/q> "{i}" <{G}> .\n'
                                 for i in range(3)))
    query = "SELECT ?p ?o WHERE { GRAPH ?g { <http://x/s1> ?p ?o } }"

    def request(text: str) -> dict:
        return {"kind": "query", "query": text, "accept": "application/sparql-results+json", "format": None,
                "base_iri": "http://127.0.0.1/sparql", "default_graphs": [], "named_graphs": []}

    executor = InlineExecutor(settings)
    try:
        async def on_loop(text: str, times: int = 1):
            return [await executor.run_async(request(text)) for _ in range(times)]

        in_thread = executor.run(request(query))
        answers = _on_a_loop(on_loop(query, 20))
        handler = executor._worker
        assert all(a.body == in_thread.body and a.media_type == in_thread.media_type and a.headers == in_thread.headers
                   for a in answers)
        rows = json.loads(in_thread.body)["results"]["bindings"]
        assert sorted(r["o"]["value"] for r in rows) == ["1", "値1"]
        queries = handler.served.get()[1].client._on_loop
        assert queries is not None and len(queries._idle) == 1  # twenty queries, one kept-alive connection
        bad = "SELECT ?p WHERE { nope:s1 ?p ?o }"
        with pytest.raises(QueryRejected) as thread_error:
            executor.run({**request(bad), "kind": "query"})
        with pytest.raises(QueryRejected) as loop_error:
            _on_a_loop(on_loop(bad))
        assert str(loop_error.value) == str(thread_error.value) != ""
    finally:
        executor.close()
    processes = Executor(settings, size=1)  # the default executor answers one-subject queries itself
    try:
        answer, = _on_a_loop(_awaiting(processes.run_async(request(query))))
        assert answer.body == in_thread.body
    finally:
        processes.close()


@pytest.mark.engines
def test_reading_the_engines_pointer_again_does_not_hold_the_event_loop(settings, backend, monkeypatch):
    """Every second a reader reads the engine's pointer again (another machine may have switched
    it). On the event loop's path that round trip runs in a thread: a slow engine then delays the
    query that is due, never the loop's other work."""
    import asyncio
    import time

    from kg.server.executor import InlineExecutor
    from kg.store import open_home

    if backend is None:
        pytest.skip("over an engine")
    home = open_home(settings)
    with home.build() as b:
        b.store.add(text=f'<http://x/s> <http://x/p> "v" <{G}> .\n')
    executor = InlineExecutor(settings)
    served = executor._worker.served
    state = type(served.home).state

    def slow_state(self):
        time.sleep(0.5)
        return state(self)

    request = {"kind": "query", "query": "SELECT ?o WHERE { <http://x/s> ?p ?o }", "accept": None, "format": None,
               "base_iri": None, "default_graphs": [], "named_graphs": []}

    async def query_while_ticking():
        gaps, last = [], time.monotonic()

        async def tick():
            nonlocal last
            for _ in range(40):
                await asyncio.sleep(0.02)
                gaps.append(time.monotonic() - last)
                last = time.monotonic()

        ticking = asyncio.create_task(tick())
        await asyncio.sleep(0.05)
        monkeypatch.setattr(type(served.home), "state", slow_state)
        served._checked = 0.0  # the pointer is due again
        answer = await executor.run_async(request)
        await ticking
        return answer, max(gaps)

    try:
        answer, longest = _on_a_loop(query_while_ticking())
        assert b'"v"' in answer.body
        assert longest < 0.3  # the 0.5 s pointer read did not stop the loop
    finally:
        executor.close()


def _on_a_loop(coroutine):
    """``asyncio.run`` in a thread of its own: Playwright's sync API (the session's browser
    fixture) keeps an event loop running in the main thread of the pytest worker it ran in."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _awaiting(*answers):
    return [await a for a in answers]


class _RawEngine:
    """A loopback socket answering each request with the next scripted reply (bytes, then
    whether to close the connection after it); it counts the connections it accepted."""

    def __init__(self, replies):
        import socket
        import threading

        self.replies = list(replies)
        self.connections = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/query"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import threading

        while self.replies:
            try:
                conn = self.listener.accept()[0]
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn) -> None:
        import time

        with conn:
            while self.replies:
                if not conn.recv(65536):
                    return
                reply, close, delay = self.replies.pop(0)
                time.sleep(delay)
                conn.sendall(reply)
                if close:
                    return

    def close(self) -> None:
        self.listener.close()


_JSON = b'{"head": {"vars": ["x"]}, "results": {"bindings": []}}'


def _ok(extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(_JSON) + _JSON)


def _loop_query(client, times: int = 1):

    async def ask():
        return [await client.on_loop().send(*client.query_request("SELECT ?x {}")) for _ in range(times)]

    return _on_a_loop(ask())


def test_a_kept_alive_connection_the_engine_closed_is_replaced_once_on_the_loop():
    """An engine that closes a kept-alive connection after an answer (without saying so) gets the
    next query on a new connection, and the user sees no error."""
    from kg.store.remote import SparqlClient

    engine = _RawEngine([(_ok(), True, 0), (_ok(), True, 0), (_ok(), False, 0)])
    try:
        client = SparqlClient(engine.url, engine.url, engine.url, timeout=2)
        assert _loop_query(client, 3) == [("application/sparql-results+json", _JSON)] * 3
        assert engine.connections == 3
    finally:
        engine.close()


def test_an_answer_ended_by_its_connection_is_whole_and_one_cut_off_is_one_error():
    from kg.errors import StoreError
    from kg.store.remote import SparqlClient

    unframed = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nConnection: close\r\n\r\n" + _JSON
    cut = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: 1000\r\n\r\n{"
    in_its_head = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
    engine = _RawEngine([(unframed, True, 0), (cut, True, 0), (in_its_head, True, 0), (_ok(), False, 0)])
    try:
        client = SparqlClient(engine.url, engine.url, engine.url, timeout=2)
        assert _loop_query(client) == [("application/sparql-results+json", _JSON)]
        for _ in ("in its body", "in its head"):
            with pytest.raises(StoreError, match="broke off its answer"):
                _loop_query(client)
        assert _loop_query(client) == [("application/sparql-results+json", _JSON)]
    finally:
        engine.close()


def test_the_loops_errors_are_the_threads():
    """An unreachable engine, its error answers and its silence read as on the thread path, and a
    query past the time limit is the time-limit error, its connection not used again."""

    from kg.errors import QueryRejected, QueryTimeout, StoreError
    from kg.server.executor import _awaited
    from kg.store.remote import SparqlClient

    nobody = f"http://127.0.0.1:{free_port()}/query"
    with pytest.raises(StoreError, match=r"cannot reach the SPARQL engine at http://127\.0\.0\.1:\d+/query"):
        _loop_query(SparqlClient(nobody, nobody, nobody, timeout=2))
    refused = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 22\r\n\r\nParser error at 1:5: x"
    failed = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nboom"
    engine = _RawEngine([(refused, False, 0), (failed, False, 0), (_ok(), False, 0.6), (_ok(), False, 0.6),
                         (_ok(), False, 0)])
    client = SparqlClient(engine.url, engine.url, engine.url, timeout=0.3)

    async def one(limit: float = 5):
        return await _awaited(client.on_loop().send(*client.query_request("SELECT ?x {}")), limit)

    async def in_one_loop():
        with pytest.raises(QueryRejected, match="^Parser error at 1:5: x$"):
            await one()
        with pytest.raises(StoreError, match=r"answered HTTP 500: boom$"):
            await one()
        with pytest.raises(StoreError, match=r"did not answer within 0.3 s"):
            await one()
        client.timeout = 5
        with pytest.raises(QueryTimeout, match="time limit of 0.2 s"):
            await one(0.2)
        return await one()

    try:
        assert _on_a_loop(in_one_loop()) == ("application/sparql-results+json", _JSON)
        assert engine.connections == 3  # errors answered keep theirs; a query cut at a limit does not
    finally:
        engine.close()


def test_an_engine_that_exits_before_it_answers_is_started_again_on_other_ports(tmp_path):
    """The tests' engines pick free ports that another run may bind first; the engine then exits
    at once. Here the first start exits as such an engine does, the second answers."""
    from support.engines import _start_answering

    starts: list[int] = []

    def launch(port: int) -> subprocess.Popen:
        starts.append(port)
        code = "raise SystemExit(1)" if len(starts) == 1 else None
        argv = ([sys.executable, "-c", code] if code else
                [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)])
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    resets: list[int] = []
    proc, (port,) = _start_answering("http.server", 1, launch, lambda port: f"http://127.0.0.1:{port}/", patience=30,
                                     said=lambda: "", reset=lambda: resets.append(1))
    try:
        assert len(starts) == 2 and port == starts[1] and resets == [1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            assert answer.status == 200
    finally:
        proc.kill()
        proc.wait()


def test_an_engine_that_never_starts_fails_the_test_with_what_it_said():
    from support.engines import _start_answering

    def launch(port: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    with pytest.raises(pytest.fail.Exception, match=r"did not start \(attempt 3\): port taken"):
        _start_answering("engine", 1, launch, lambda port: f"http://127.0.0.1:{port}/", patience=30,
                         said=lambda: "port taken", reset=lambda: None)
