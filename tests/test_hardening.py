"""The public endpoint under hostile input: each finding of the hardening issue, reproduced.

Against a real ``kg serve`` (uvicorn worker processes) where a crash or a stall would show, and
through the app where the answer is what matters. Every request goes to loopback addresses only.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kg.server import create_app
from kg.server.executor import InlineExecutor
from kg.settings import load_settings
from support import BASE
from support import load_demo
from support.server import start_server

TOKEN = "s3cret"


class _Recorder(BaseHTTPRequestHandler):
    """A SPARQL endpoint that records who called it (the SSRF target)."""

    calls: list[str] = []

    def do_GET(self):  # noqa: N802
        self._answer()

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self):
        type(self).calls.append(self.path)
        media = "application/sparql-results+json"
        body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
            {"x": {"type": "literal", "value": "remote"}}]}}).encode()
        if "json" not in self.headers.get("Accept", "json"):  # Virtuoso asks for XML
            media = "application/sparql-results+xml"
            body = (b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
                    b'<variable name="x"/></head><results><result><binding name="x"><literal>remote</literal>'
                    b'</binding></result></results></sparql>')
        self.send_response(200)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()


pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def demo(module_backend, demo_copy, tmp_path_factory):
    """Settings of the demo data: the embedded copy, or the samples loaded into the module's engine
    (what reaches the engine must be as safe as what reaches the embedded store)."""
    if module_backend is None:
        return load_settings({}, data_dir=str(demo_copy), base_uri=BASE)
    return load_demo(tmp_path_factory.mktemp("hardening") / "data", module_backend)


@pytest.fixture(scope="module")
def app(demo):
    settings = demo.with_overrides(update_token=TOKEN)
    executor = InlineExecutor(settings)
    yield create_app(settings, executor=executor)
    executor.close()


def _query(app, text: str, **params):
    return app.test_client().get("/sparql", query_string={"query": text, **params},
                                 headers={"Accept": "application/sparql-results+json"})


def _update(app, text: str, auth: str = f"Bearer {TOKEN}"):
    return app.test_client().post("/sparql", data=text, headers={"Content-Type": "application/sparql-update",
                                                                 "Authorization": auth})


# ---- 1. no request may make the server open a connection ---------------------------------------

@pytest.mark.parametrize("text", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ service silent <{url}> {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ SERVICE <http://localhost:1/> {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ SERVICE <ftp://127.0.0.1/> {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ SERVICE <http://[::1]:1/> {{ ?x ?y ?z }} }}",
])
def test_service_is_refused_and_nothing_is_called(app, target, text):
    _Recorder.calls.clear()
    r = _query(app, text.format(url=target))
    assert r.status_code == 400 and "SERVICE" in r.get_data(as_text=True) and "KG_REMOTE_ALLOWED" in r.get_data(as_text=True)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert _Recorder.calls == []


@pytest.mark.parametrize("text", [
    "LOAD <{url}>", "LOAD SILENT <{url}> INTO GRAPH <http://x/g>", "LOAD <file:///etc/passwd>",
    "INSERT {{ ?x ?y ?z }} WHERE {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
])
def test_updates_cannot_fetch_either(app, target, text):
    _Recorder.calls.clear()
    r = _update(app, text.format(url=target))
    assert r.status_code == 400, r.get_data(as_text=True)
    assert _Recorder.calls == []


def test_listed_endpoints_may_be_called(demo, target):
    settings = demo.with_overrides(remote_allowed=target)
    executor = InlineExecutor(settings)
    try:
        app = create_app(settings, executor=executor)
        _Recorder.calls.clear()
        r = _query(app, f"SELECT ?x WHERE {{ SERVICE <{target}> {{ ?s ?p ?x }} }}")
        assert r.status_code == 200 and "remote" in r.get_data(as_text=True), r.get_data(as_text=True)
        assert len(_Recorder.calls) == 1
        other = target.replace("/sparql", "/other")
        assert _query(app, f"SELECT ?x WHERE {{ SERVICE <{other}> {{ ?s ?p ?x }} }}").status_code == 400
        assert len(_Recorder.calls) == 1
    finally:
        executor.close()


# ---- 2. deep queries are refused before the engine, and the server cannot be taken down ---------

DEEP = {
    "groups": "SELECT * WHERE " + "{" * 10_000 + "?s ?p ?o" + "}" * 10_000,
    "parentheses": "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "unclosed": "SELECT * WHERE " + "{" * 10_000,
    "optional": "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 5_000 + "}" * 5_000 + " }",
    "lists": "SELECT * WHERE { ?s ?p " + "(" * 10_000 + "1" + ")" * 10_000 + " }",
    "not exists": "SELECT * WHERE { ?s ?p ?o " + "FILTER NOT EXISTS { " * 5_000 + "}" * 5_000 + " }",
}


@pytest.fixture(scope="module")
def served(demo_copy, tmp_path_factory):
    """A `kg serve` of its own (this module tries to crash it), with a short time limit."""
    yield from start_server(demo_copy, tmp_path_factory.mktemp("hostile"), KG_QUERY_TIMEOUT="2",
                            KG_BODY_TIMEOUT="2", KG_HEADER_TIMEOUT="2", KG_IDLE_TIMEOUT="2",
                            KG_CLIENT_CONNECTIONS=str(CLIENT_CONNECTIONS), KG_UPDATE_TOKEN=TOKEN, KG_WORKERS="2")


#: per worker process; the served fixture runs two
CLIENT_CONNECTIONS = 8


def _http(url: str, method: str = "GET", path: str = "/sparql", body: bytes | None = None,
          headers: dict | None = None, source: str = "127.0.0.1", timeout: float = 10) -> tuple[int, str]:
    parsed = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout, source_address=(source, 0))
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def _ask(url: str, source: str = "127.0.0.1") -> int:
    q = urllib.parse.urlencode({"query": "ASK { ?c <http://purl.org/dc/terms/identifier> '7000012050002' }"})
    return _http(url, path="/sparql?" + q, source=source)[0]


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_deep_nesting_is_a_400(served, kind):
    status, body = _http(served, "POST", body=DEEP[kind].encode(), headers={"Content-Type": "application/sparql-query"})
    assert status == 400 and ("KG_MAX_NESTING" in body or "KG_MAX_PATTERNS" in body), body
    assert _ask(served) == 200


def test_deep_but_allowed_queries_run(served):
    """Nesting under the limit runs: the query threads have room on their stack."""
    text = "SELECT * WHERE " + "{" * 200 + "?s ?p ?o" + "}" * 200 + " LIMIT 1"
    status, body = _http(served, "POST", body=text.encode(), headers={"Content-Type": "application/sparql-query"})
    assert status == 200, body


def test_rounds_of_runaway_queries_never_end_the_service(served):
    """Runaway queries cost their query process; the service answers throughout and after."""
    cross = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    for _ in range(2):
        threads = [threading.Thread(target=lambda: _http(served, "POST", body=cross.encode(), timeout=30,
                                                         headers={"Content-Type": "application/sparql-query"}))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    deadline = time.monotonic() + 30
    answered = 0
    while time.monotonic() < deadline and answered < 10:
        try:
            answered += _ask(served) == 200
        except OSError:
            time.sleep(0.3)
    assert answered == 10


# ---- 3. idle and slow clients cannot starve the others ------------------------------------------

def _connect(url: str, source: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", urllib.parse.urlsplit(url).port), source_address=(source, 0))
    s.settimeout(8)
    return s


def _until_closed(s: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started, data = time.monotonic(), b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except ConnectionResetError:  # closed with our unread bytes still in its buffer: closed all the same
        pass
    return data, time.monotonic() - started


def test_a_connection_that_sends_nothing_is_closed(served):
    s = _connect(served, "127.0.0.2")
    with s:
        data, took = _until_closed(s)
    assert data == b"" and 1.5 < took < 5, (data, took)


def test_an_idle_keep_alive_connection_is_closed(served):
    s = _connect(served, "127.0.0.2")
    with s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data, took = _until_closed(s)
    assert data.startswith(b"HTTP/1.1 200") and b"gen-" in data and 1.5 < took < 5, (data[:80], took)


def test_headers_that_do_not_arrive_in_time_are_408(served):
    s = _connect(served, "127.0.0.2")
    with s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        data, took = _until_closed(s)
    assert data.startswith(b"HTTP/1.1 408") and b"KG_HEADER_TIMEOUT" in data and took < 5, (data[:200], took)
    assert b"x-content-type-options: nosniff" in data.lower()


def test_a_trickle_of_header_bytes_does_not_keep_a_connection(served):
    """Slowloris: a header byte a second never completes; the time limit counts from the first byte."""
    s = _connect(served, "127.0.0.2")
    started = time.monotonic()
    with s:
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            while time.monotonic() - started < 8:
                s.sendall(b"X")
                time.sleep(0.5)
        except OSError:
            pass  # closed under us: what we want
        data, _ = _until_closed(s)
    assert data.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 5, data[:80]


def test_oversized_headers_are_431(served):
    s = _connect(served, "127.0.0.2")
    with s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
        data, _ = _until_closed(s)
    assert data.startswith(b"HTTP/1.1 431") and b"KG_MAX_HEADER_BYTES" in data, data[:200]
    # a large body is not a large header
    text = "ASK { ?s ?p ?o }" + " " * 100_000
    assert _http(served, "POST", body=text.encode(), headers={"Content-Type": "application/sparql-query"})[0] == 200


def test_one_address_cannot_hold_every_connection(served):
    held = [_connect(served, "127.0.0.3") for _ in range(60)]
    try:
        time.sleep(0.5)
        for s in held:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        statuses = [s.recv(64).split(b" ")[1] for s in held]
        assert statuses.count(b"200") <= 2 * CLIENT_CONNECTIONS and set(statuses) == {b"200", b"503"}, statuses
        refused = next(s for s, status in zip(held, statuses) if status == b"503")
        assert b"KG_CLIENT_CONNECTIONS" in _until_closed(refused)[0]
        assert _ask(served, source="127.0.0.4") == 200  # another address is served meanwhile
    finally:
        for s in held:
            s.close()


def test_idle_sockets_and_slow_bodies_do_not_starve_other_clients(served):
    """Hostile connections from three addresses at once; a fourth address is answered throughout."""
    idle = [_connect(served, "127.0.0.5") for _ in range(200)]
    slow = []
    for _ in range(40):
        s = _connect(served, "127.0.0.6")
        s.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                  b"Content-Length: 1000\r\n\r\nSELEC")
        slow.append(s)
    partial = []
    for _ in range(40):
        s = _connect(served, "127.0.0.7")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        partial.append(s)
    try:
        time.sleep(0.3)
        started = time.monotonic()
        assert [_ask(served, source="127.0.0.1") for _ in range(5)] == [200] * 5
        assert time.monotonic() - started < 5
        # within the time limits every hostile connection is answered 408 (or 503 past the
        # per-address cap) and closed
        for s in idle + slow + partial:
            data, _ = _until_closed(s)
            assert data == b"" or data.split(b" ")[1] in (b"408", b"503"), data[:80]
    finally:
        for s in idle + slow + partial:
            s.close()
    assert _ask(served) == 200


def _workers(supervisor: int) -> list[int]:
    import pathlib

    children = pathlib.Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def test_killed_workers_are_replaced_and_the_others_answer(served):
    """A crash loop (every worker killed again and again) never ends the service."""
    import os
    import signal

    first = _workers(served.pid)
    assert len(first) == 2
    survivor = first[1]
    for _ in range(4):  # kill the other worker over and over, just after each start
        for pid in _workers(served.pid):
            if pid != survivor:
                os.kill(pid, signal.SIGKILL)
        assert _ask(served) == 200  # the survivor answers meanwhile
        deadline = time.monotonic() + 30  # its replacement is started (with a backoff: it died young)
        while time.monotonic() < deadline and len(set(_workers(served.pid)) - {survivor}) < 1:
            time.sleep(0.05)
    os.kill(survivor, signal.SIGKILL)  # and the survivor too: both are replaced
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(_workers(served.pid)) < 2 or set(_workers(served.pid)) & set(first)):
        time.sleep(0.2)
    assert len(_workers(served.pid)) == 2
    assert [_ask(served) for _ in range(6)] == [200] * 6
    assert "exited (status -9)" in served.log.read_text()


# ---- 4. one body-size rule ----------------------------------------------------------------------

def test_a_chunked_body_over_the_limit_is_refused_whole(app):
    """Two statements separated by more than KG_MAX_BODY of spaces: nothing runs, 413."""
    update = ("INSERT DATA { GRAPH <http://x/g> { <http://x/a> <http://x/p> 1 } }" + " " * (1_100_000)
              + " ; INSERT DATA { GRAPH <http://x/g> { <http://x/b> <http://x/p> 2 } }")
    import io

    c = app.test_client()
    r = c.post("/sparql", input_stream=io.BytesIO(update.encode()), headers={
        "Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}",
        "Transfer-Encoding": "chunked"})
    assert r.status_code == 413
    r = _query(app, "ASK { GRAPH <http://x/g> { ?s ?p ?o } }")
    assert json.loads(r.get_data())["boolean"] is False


def test_chunked_bodies_over_the_limit_are_413_on_the_real_server(served):
    port = urllib.parse.urlsplit(served).port
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest("POST", "/sparql")
    c.putheader("Content-Type", "application/sparql-query")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    chunk = b" " * 65536
    try:
        for _ in range(20):  # 1.25 MiB
            c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        c.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may close the connection once it has answered 413
    assert c.getresponse().status == 413


# ---- 5. every client error is a 4xx with a message and the security headers ---------------------

@pytest.mark.parametrize("path", ["/search?q=ab%00c", "/search.json?q=%00", "/def/%7C", "/doc/%7C", "/def/%3C%3E",
                                  "/search?type=bogus&q=x", "/doc/corporation/%FF"])
def test_odd_urls_are_answered_without_a_5xx(app, path):
    r = app.test_client().get(path, headers={"Accept": "text/html"})
    assert r.status_code < 500, (path, r.status_code, r.get_data(as_text=True)[:200])
    assert r.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("text", ["CLEAR GRAPH <http://x/nonexistent>", "DROP GRAPH <http://x/nonexistent>",
                                  "CLEAR SILENT GRAPH <http://x/none>"])
def test_updates_on_missing_graphs_are_not_500(app, text):
    r = _update(app, text)
    assert r.status_code in (204, 400), r.get_data(as_text=True)


def test_our_own_bugs_are_500_with_a_request_id(app, monkeypatch):
    import kg.server.handler as handler

    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(handler.RequestHandler, "query", broken)
    r = _query(app, "ASK {}")
    assert r.status_code == 500 and "request id" in r.get_data(as_text=True)
    assert r.headers["X-Request-Id"] in r.get_data(as_text=True)
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# ---- 6. invalid UTF-8 is refused --------------------------------------------------------------

def test_invalid_utf8_in_the_query_string_is_a_400(app):
    r = app.test_client().get("/sparql?query=SELECT%20%2A%20WHERE%20%7B%20%3Fs%20%3Fp%20%22%FF%22%20%7D")
    assert r.status_code == 400 and "UTF-8" in r.get_data(as_text=True)


def test_invalid_utf8_in_a_form_is_a_400(app):
    r = app.test_client().post("/sparql", data=b"query=ASK%20%7B%7D%FF",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400


# ---- 7. clients ---------------------------------------------------------------------------------

@pytest.mark.parametrize("param,value,media", [("format", "xml", "application/rdf+xml"),
                                               ("output", "rdf", "application/rdf+xml"),
                                               ("format", "n3", "text/turtle"),
                                               ("format", "json", "application/ld+json")])
def test_format_parameters_for_construct(app, param, value, media):
    r = app.test_client().get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2", param: value})
    assert r.status_code == 200 and r.mimetype == media


def test_a_parameter_that_does_not_fit_leaves_a_valid_accept(app):
    r = app.test_client().get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2", "format": "csv"},
                              headers={"Accept": "application/n-triples"})
    assert r.status_code == 200 and r.mimetype == "application/n-triples"


def test_the_bearer_scheme_is_case_insensitive(app):
    r = _update(app, "INSERT DATA { GRAPH <http://x/h> { <http://x/a> <http://x/p> 1 } }", auth=f"bearer {TOKEN}")
    assert r.status_code == 204
    assert _update(app, "CLEAR GRAPH <http://x/h>", auth=f"Bearer {TOKEN}x").status_code == 403


def test_concurrent_updates_wait_their_turn(app):
    results: list[int] = []

    def insert(i):
        results.append(_update(app, f"INSERT DATA {{ GRAPH <http://x/c> {{ <http://x/{i}> <http://x/p> {i} }} }}").status_code)

    threads = [threading.Thread(target=insert, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [204] * 4
    r = _query(app, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://x/c> { ?s ?p ?o } }")
    assert json.loads(r.get_data())["results"]["bindings"][0]["n"]["value"] == "4"
