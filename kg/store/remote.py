"""The store interface over a remote SPARQL 1.1 engine: Query, Update and Graph Store Protocol.

Nothing here is engine-specific: ``query`` is a SPARQL Protocol request, ``update`` an Update
request, ``add`` Graph Store Protocol POSTs of N-Triples (in slices cut at line ends, or one
streamed POST: ``KG_SPARQL_POST_BYTES``), ``dump`` a Graph Store GET. The standard library's
:mod:`http.client` speaks it, with one kept-alive connection per thread and endpoint (a load asks
thousands of small questions).

A :class:`RemoteStore` is a *view*: it maps each logical graph (``{base}graph/houjin``) to the
engine graph that holds this version of it (``{base}graph/houjin/gen-000007``, see
:mod:`kg.store.remote_generations`). Graph names in the text it sends are renamed
(:mod:`kg.store.graph_names`), every query gets the view's graphs as its protocol dataset (the
union default graph, and the named graphs) unless it names its own, and engine graph names in
answers are renamed back: users and the project see only logical graph names. A view that builds
the next version copies a graph on its first write to it (inside the engine), and only that one.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import io
import json
import re
import threading
import time
import urllib.parse
from functools import lru_cache
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping, NamedTuple

import pyoxigraph as ox

from kg.errors import QueryRejected, StoreError
from kg.store.syntax import explain, located, query_form, star_order
from kg.rdf import BNode, IRI, Literal, Term, Triple
from kg.rdf.iri import NOT_IN_AN_IRI, fragment_prefix
from kg.store import results
from kg.store.graph_names import Dataset, every_graph_ops, rename_graphs
from kg.store.interface import Quad
from kg.store.overlay import Layer, group, rewrite
from kg.store.remote_async import LoopQueries
from kg.store.dialect import VIRTUOSO_PROBE
from kg.store.virtuoso_loader import VirtuosoLoader
from kg.store.oxigraph import _FORMATS, _line_slices, from_ox, to_ox

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
#: where an engine that cannot keep GeoSPARQL WKT literals holds them (KG_SPARQL_WKT=opaque)
_OPAQUE_WKT = "urn:x-kg:geosparql-wktLiteral"
_SOLUTIONS = "application/sparql-results+json"
_SOLUTIONS_XML = "application/sparql-results+xml"
#: the start of SPARQL JSON solutions as engines write them: the variables, then the rows
_SOLUTIONS_HEAD = re.compile(rb'\s*\{\s*"head"\s*:\s*\{\s*"vars"\s*:\s*(\[[^\]]*\])\s*\}\s*,'
                             rb'\s*"results"\s*:\s*\{\s*"bindings"\s*:\s*\[')
_NTRIPLES = "application/n-triples"
_ACCEPT_ANY = f"{_SOLUTIONS}, {_NTRIPLES};q=0.9"
#: bytes of N-Triples per Graph Store POST of a parsed load when KG_SPARQL_POST_BYTES is 0, and
#: per chunk of a streamed POST
DEFAULT_SLICE = 4 << 20


#: an engine's answer to a transaction it rolled back as a deadlock (SQLSTATE 40001 "serialization
#: failure"; Virtuoso: "SR172: Transaction deadlocked"): sending the request again is the cure
_DEADLOCK = re.compile(r"\b40001\b|deadlock", re.IGNORECASE)
#: an engine's answer to an update that names a graph it does not hold (Oxigraph: "The graph <g>
#: does not exist"; Virtuoso: "graph <g> has not been explicitly created before")
_MISSING_GRAPH = re.compile(r"does not exist|has not been (?:explicitly )?created", re.IGNORECASE)


class Deadlocked(StoreError):
    """The engine rolled a request back as a deadlock (and did so on every try)."""


class MissingGraph(StoreError):
    """The engine refused an update naming a graph it does not hold; ``said``: its words."""

    def __init__(self, message: str, said: str):
        super().__init__(message)
        self.said = said


class SparqlClient:
    """The engine's three endpoints, with optional HTTP Basic credentials (never shown)."""

    def __init__(self, query_url: str, update_url: str, store_url: str, *, user: str | None = None,
                 password: str | None = None, timeout: float = 60.0, opaque_wkt: bool = False, retries: int = 5,
                 update_quads: int = 2000, post_bytes: int = 32 << 20, write_timeout: float = 3600.0,
                 loop_connections: int = 16, bulk: VirtuosoLoader | None = None, results: str = "json",
                 subjects: int = 500):
        self.query_url, self.update_url, self.store_url = query_url, update_url, store_url
        #: most queries in flight at once from one event loop (KG_QUERY_THREADS, :meth:`on_loop`)
        self.loop_connections = loop_connections
        self.timeout, self.retries = timeout, retries
        #: seconds a write (an Update, a Graph Store request) may wait for its answer (KG_SPARQL_WRITE_TIMEOUT)
        self.write_timeout = write_timeout
        #: most quads a DELETE DATA / INSERT DATA request names (KG_SPARQL_UPDATE_QUADS)
        self.update_quads = update_quads
        #: bytes of N-Triples per Graph Store POST of a load; 0: one streamed POST (KG_SPARQL_POST_BYTES)
        self.post_bytes = post_bytes
        #: the engine's own bulk loader for big loads, if it has one set up (KG_VIRTUOSO_SQL)
        self.bulk = bulk
        #: the answer format of our own reads: "json" or "xml" (KG_SPARQL_RESULTS)
        self.results = results
        #: most subjects one read of our own names (KG_SPARQL_SUBJECTS)
        self.subjects = subjects
        #: (what we write, what the engine holds): every body out and every answer in is translated
        self._swap = (_WKT, _OPAQUE_WKT) if opaque_wkt else None
        self._swap_bytes = (_WKT.encode(), _OPAQUE_WKT.encode()) if opaque_wkt else None
        self._auth = None
        if user:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._auth = f"Basic {token}"
        self._local = threading.local()
        self._on_loop: LoopQueries | None = None
        self._virtuoso: bool | None = None  # found out on first use (:attr:`virtuoso`)

    def __repr__(self) -> str:  # never the credentials
        return f"SparqlClient({self.query_url!r}, {self.update_url!r}, {self.store_url!r})"

    # -- the protocol --
    def query(self, text: str, *, default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = (),
              accept: str = _ACCEPT_ANY) -> tuple[str, bytes]:
        """(media type, body) of a SPARQL Protocol "query via URL-encoded POST" (§2.1.2): the one
        form every engine takes (Virtuoso 7 never answers a "POST directly"); percent-encoding
        costs ~90 ns a byte, 45 ms for a 10,000-entity VALUES query."""
        return self._send("POST", *self.query_request(text, default_graphs=default_graphs, named_graphs=named_graphs,
                                                      accept=accept))

    def query_request(self, text: str, *, default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = (),
                      accept: str = _ACCEPT_ANY) -> tuple[str, bytes, dict[str, str]]:
        """(URL, body, headers) of :meth:`query`'s request, which :mod:`kg.store.remote_async`
        sends from an event loop."""
        body = urllib.parse.urlencode([("query", self._out(text))]) + _dataset_params(tuple(default_graphs),
                                                                                    tuple(named_graphs))
        return self.query_url, body.encode("ascii"), {"Content-Type": "application/x-www-form-urlencoded",
                                                      "Accept": accept}

    @property
    def virtuoso(self) -> bool:
        """Whether the engine is OpenLink Virtuoso, whose own syntax some of our requests use
        there (:mod:`kg.store.dialect`): whether it takes one query in that syntax. Found out
        once, by the engine itself: a proxy in front may write a ``Server`` header of its own."""
        if self._virtuoso is None:
            try:
                self.query(VIRTUOSO_PROBE)
                self._virtuoso = True
            except QueryRejected:  # any other engine: a syntax error
                self._virtuoso = False
        return self._virtuoso

    @property
    def authorization(self) -> str | None:
        """The Authorization header's value, if credentials are set (never shown anywhere)."""
        return self._auth

    def on_loop(self) -> LoopQueries:
        """This client's queries in the running event loop (made on its first use there)."""
        mine = self._on_loop
        if mine is None or mine.loop is not asyncio.get_running_loop():
            mine = self._on_loop = LoopQueries(self, connections=self.loop_connections)
        return mine

    def update(self, text: str, *, using_graphs: Iterable[str] = (), using_named_graphs: Iterable[str] = ()) -> None:
        params = [("using-graph-uri", g) for g in using_graphs] + [("using-named-graph-uri", g) for g in using_named_graphs]
        self._send("POST", _with(self.update_url, params), self._out(text).encode("utf-8"),
                   {"Content-Type": "application/sparql-update"}, write=True)

    def post_graph(self, graph: str, ntriples: bytes) -> None:
        """Graph Store Protocol POST: add triples to ``graph`` (created if new)."""
        if self._swap:
            ntriples = ntriples.replace(*self._swap_bytes)
        self._send("POST", self._graph_url(graph), ntriples, {"Content-Type": _NTRIPLES}, write=True)

    def bulk_load(self, graph: str, slices: Iterable[bytes]) -> None:
        """N-Triples into ``graph`` through :attr:`bulk`, the engine's own loader."""
        if self._swap:
            slices = (piece.replace(*self._swap_bytes) for piece in slices)
        self.bulk.load(graph, slices)

    def post_graph_stream(self, graph: str, chunks: Iterable[bytes]) -> None:
        """One Graph Store POST of every chunk, sent as it comes (chunked transfer coding, RFC 9112
        §7.1): the engine loads a stream of any length as one request. Never sent again: the
        chunks are gone once sent (a build that fails is thrown away whole).

        An engine may take a chunked body and store nothing of it (Virtuoso 7 answers 201): the
        first triple sent is looked up after the answer, and its absence is an error."""
        first: list[bytes] = []

        def noting_the_first_triple(chunks: Iterable[bytes]) -> Iterator[bytes]:
            for chunk in chunks:
                if not first:
                    whole = chunk[:1 << 16].split(b"\n")[:-1]  # the chunk's first whole lines
                    first.extend([line for line in whole if line.strip()[:1] in (b"<", b"_")][:1])
                yield chunk

        chunks = noting_the_first_triple(chunks)
        if self._swap:
            chunks = (chunk.replace(*self._swap_bytes) for chunk in chunks)
        url = self._graph_url(graph)
        parts = urllib.parse.urlsplit(url)
        headers = {"Content-Type": _NTRIPLES, "Transfer-Encoding": "chunked"}
        if self._auth:
            headers["Authorization"] = self._auth
        conn = self._connection(parts, fresh=True)  # a kept-alive one the engine closed cannot be retried
        conn.timeout = self.write_timeout
        try:
            try:
                conn.request("POST", _request_target(parts), body=chunks, headers=headers, encode_chunked=True)
            except (BrokenPipeError, ConnectionResetError) as exc:
                # the engine stopped reading: it may have answered why before it closed
                try:
                    response = conn.getresponse()
                except (OSError, http.client.HTTPException):
                    raise StoreError(f"the SPARQL engine at {_shown(url)} closed the connection while a load "
                                     f"was sent to it: {exc}") from None
            else:
                response = conn.getresponse()
            self._answer(response, url, None, False)
        except TimeoutError:
            raise self.no_answer(url, write=True) from None
        except (OSError, http.client.HTTPException) as exc:
            raise StoreError(f"the SPARQL engine at {_shown(url)} broke off a load: {exc or type(exc).__name__}") from None
        finally:
            conn.close()  # whatever happened, nothing else is sent on a connection a stream was
        if first and not self._holds(graph, first[0].decode("utf-8")):
            raise StoreError(f"the SPARQL engine at {_shown(url)} answered a load sent as one chunked POST "
                             "but did not store it: set KG_SPARQL_POST_BYTES to a size (32M) for this engine")

    def unreachable(self, url: str, exc: OSError) -> StoreError:
        return StoreError(f"cannot reach the SPARQL engine at {_shown(url)}: {exc}")

    def broke_off(self, url: str, exc: BaseException) -> StoreError:
        """A connection cut or timed out while the answer was read."""
        return StoreError(f"the SPARQL engine at {_shown(url)} broke off its answer: {exc or type(exc).__name__}")

    def no_answer(self, url: str, *, write: bool = False) -> StoreError:
        if write:
            return StoreError(f"the SPARQL engine at {_shown(url)} did not answer a write within "
                              f"{self.write_timeout:g} s (KG_SPARQL_WRITE_TIMEOUT)")
        return StoreError(f"the SPARQL engine at {_shown(url)} did not answer within {self.timeout:g} s "
                          "(KG_QUERY_TIMEOUT/KG_UPDATE_TIMEOUT + 30)")

    def _holds(self, graph: str, ntriples_line: str) -> bool:
        """Whether ``graph`` holds the triple of an N-Triples line (an indexed lookup)."""
        _, body = self.query(f"ASK {{ GRAPH <{graph}> {{ {ntriples_line} }} }}", accept=_SOLUTIONS)
        return json.loads(body).get("boolean") in (True, 1, "true", "1")

    def get_graph(self, graph: str, out: IO[bytes]) -> None:
        """Graph Store Protocol GET of ``graph`` as N-Triples, streamed into ``out``."""
        self._send("GET", self._graph_url(graph), None, {"Accept": _NTRIPLES}, out=out, missing_ok=True)

    def _out(self, text: str) -> str:
        return text.replace(*self._swap) if self._swap else text

    def _graph_url(self, graph: str) -> str:
        sep = "&" if "?" in self.store_url else "?"
        return f"{self.store_url}{sep}{urllib.parse.urlencode({'graph': graph})}"

    # -- HTTP --
    def _connection(self, url: urllib.parse.SplitResult, fresh: bool = False) -> http.client.HTTPConnection:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        key = (url.scheme, url.netloc)
        conn = pool.get(key)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
            conn = pool[key] = cls(url.hostname, url.port, timeout=self.timeout)
        return conn

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str], *,
              out: IO[bytes] | None = None, missing_ok: bool = False, write: bool = False) -> tuple[str, bytes]:
        """``write``: an Update or Graph Store request, which waits KG_SPARQL_WRITE_TIMEOUT."""
        for attempt in range(self.retries + 1):
            try:
                return self._send_once(method, url, body, headers, out=out, missing_ok=missing_ok, write=write)
            except Deadlocked:
                if attempt == self.retries:
                    raise
                time.sleep(0.5 * 2 ** attempt)  # the engine rolled the request back: send it again
        raise AssertionError("unreachable")

    def _send_once(self, method: str, url: str, body: bytes | None, headers: dict[str, str], *,
                   out: IO[bytes] | None, missing_ok: bool, write: bool) -> tuple[str, bytes]:
        parts = urllib.parse.urlsplit(url)
        target = _request_target(parts)
        if self._auth:
            headers = {**headers, "Authorization": self._auth}
        for attempt in (0, 1):
            conn = self._connection(parts, fresh=attempt > 0)
            conn.timeout = self.write_timeout if write else self.timeout  # a kept-alive socket takes the request's own
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if attempt:  # a kept-alive connection the engine had closed is retried once
                    raise StoreError(f"the SPARQL engine at {_shown(url)} closed the connection: {exc}") from None
            except TimeoutError:
                conn.close()
                raise self.no_answer(url, write=write) from None
            except OSError as exc:
                conn.close()
                raise self.unreachable(url, exc) from None
        try:
            return self._answer(response, url, out, missing_ok)
        except (OSError, http.client.HTTPException) as exc:
            # a connection cut or timed out while its answer was read cannot carry the next request
            conn.close()
            raise self.broke_off(url, exc) from None

    def _answer(self, response: http.client.HTTPResponse, url: str, out: IO[bytes] | None,
                missing_ok: bool) -> tuple[str, bytes]:
        media = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if 200 <= response.status < 300 and out is not None:  # streamed into ``out``
            back = (self._swap_bytes[1], self._swap_bytes[0]) if self._swap else None
            carry = b""  # translated by whole lines: a name is never cut between two chunks
            while chunk := response.read(1 << 20):
                if back:
                    chunk = carry + chunk
                    cut = chunk.rfind(b"\n") + 1
                    chunk, carry = chunk[:cut].replace(*back), chunk[cut:]
                out.write(chunk)
            out.write(carry.replace(*back) if back else b"")
            return media, b""
        return self.answered(response.status, response.reason, media, response.read(), url, missing_ok=missing_ok)

    def answered(self, status: int, reason: str, media: str, body: bytes, url: str, *,
                 missing_ok: bool = False) -> tuple[str, bytes]:
        """(media type, body) of a whole answer the engine gave (``media`` without parameters),
        or the error it means."""
        if 200 <= status < 300:
            return media, body.replace(self._swap_bytes[1], self._swap_bytes[0]) if self._swap else body
        first = _error_text(body, media) or reason
        if missing_ok and status == 404:
            return media, b""
        if status == 400:
            raise QueryRejected(first)
        if status >= 500 and _MISSING_GRAPH.search(first):
            raise MissingGraph(f"the SPARQL engine at {_shown(url)} answered HTTP {status}: {first}", first)
        if status >= 500 and _DEADLOCK.search(first):
            raise Deadlocked(f"the SPARQL engine at {_shown(url)} answered HTTP {status}: {first} "
                             f"(sent {self.retries + 1} times)")
        if status in (401, 403):
            raise StoreError(f"the SPARQL engine at {_shown(url)} refused our credentials (HTTP {status}); "
                             "check KG_SPARQL_USER and KG_SPARQL_PASSWORD")
        raise StoreError(f"the SPARQL engine at {_shown(url)} answered HTTP {status}: {first}")




def _absent(graph: str) -> str:
    """The engine name a graph this version does not hold is read under: one no engine holds, so
    it reads as empty, as on the embedded store (a graph of that name that somebody else keeps on
    the engine is not part of any version).

    >>> _absent("http://x/g?a=1")
    'urn:x-kg:absent:http%3A%2F%2Fx%2Fg%3Fa%3D1'
    """
    return "urn:x-kg:absent:" + urllib.parse.quote(graph, safe="")


@lru_cache(maxsize=64)
def _dataset_params(default_graphs: tuple[str, ...], named_graphs: tuple[str, ...]) -> str:
    """``&default-graph-uri=…&named-graph-uri=…`` of a query: the same dozen graph names on every
    query of a served version, encoded once."""
    params = [("default-graph-uri", g) for g in default_graphs] + [("named-graph-uri", g) for g in named_graphs]
    return "&" + urllib.parse.urlencode(params) if params else ""


def _error_text(body: bytes, media: str) -> str:
    """The engine's error message on one line: an HTML page's text without its markup (Virtuoso
    answers errors as HTML), the first line of plain text, at most 300 characters.

    >>> _error_text(b"<html><body><h3>Request Failed</h3><pre>Error 42000\\nRDFGE: bad box</pre></body></html>", "text/html")
    'Request Failed Error 42000 RDFGE: bad box'
    >>> _error_text(b"Parser error at 1:5: expected WHERE\\nmore", "text/plain")
    'Parser error at 1:5: expected WHERE'
    """
    text = body.decode("utf-8", "replace")
    if media in ("text/html", "application/xhtml+xml") or text.lstrip().startswith("<"):
        text = re.sub(r"(?is)<(script|style|title|head)\b.*?</\1>|<!DOCTYPE[^>]*>|<[^>]+>", " ", text)
        text = " ".join(text.split())
    else:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        text = lines[0].strip() if lines else ""
    return text if len(text) <= 300 else text[:300] + "…"


def _request_target(parts: urllib.parse.SplitResult) -> str:
    """The request target (RFC 9112 §3.2) of a URL: its path and query."""
    return (parts.path or "/") + ("?" + parts.query if parts.query else "")


def _with(url: str, params: list[tuple[str, str]]) -> str:
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)


def _shown(url: str) -> str:
    """The endpoint's URL without any user:password part or parameters."""
    parts = urllib.parse.urlsplit(url)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


# ---- answers --------------------------------------------------------------------------------------

def _term(binding: dict | None, rename: Mapping[str, str]) -> Term | None:
    if binding is None:
        return None
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return IRI(rename.get(value, value))
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        lang = binding.get("xml:lang")
        datatype = binding.get("datatype")
        if datatype == _XSD_BOOLEAN and value in ("1", "0"):  # Virtuoso's solutions: the canonical form
            value = "true" if value == "1" else "false"
        return Literal(value, None if lang or datatype == _XSD_STRING else datatype, lang)
    raise StoreError(f"the SPARQL engine answered a term of unsupported type {kind!r}")


class RemoteSolutions:
    """SELECT solutions read from SPARQL JSON results; engine graph names renamed back.

    ``raw``: the engine's JSON answer itself, which :meth:`serialize` hands on unchanged when it
    is what it would write (JSON asked for, columns in the engine's order, no engine graph name
    to rename, no more rows than the cap, no ``typed-literal`` of the 2008 format, no ``\\u``
    escapes where we write UTF-8, as Virtuoso escapes every non-ASCII character): reading
    and writing the terms again was ~14% of a one-entity SELECT's CPU in ``kg serve`` over an
    engine (bench/README.md, session 13)."""

    def __init__(self, variables: list[str], rows: list[dict] | None, rename: Mapping[str, str], *,
                 raw: bytes | None = None, raw_variables: list[str] | None = None,
                 names: "re.Pattern[bytes] | None" = None):
        """``rows`` None: read from ``raw`` when first needed (an answer handed on is not read);
        ``names``: a pattern finding any engine graph name (the keys of ``rename``) in ``raw``."""
        self.variables = variables
        self._rows = rows
        self._rename = rename
        self._raw = raw
        self._raw_variables = raw_variables
        self._names = names

    @property
    def rows(self) -> list[dict]:
        if self._rows is None:
            self._rows = json.loads(self._raw)["results"]["bindings"]
        return self._rows

    def _passes_through(self, fmt: str, max_rows: int, variables: list[str]) -> bool:
        raw = self._raw
        return (raw is not None and fmt == "json" and variables == self._raw_variables
                # a row takes at least 3 bytes ({} and a comma): a short answer is within the cap unread
                and (len(raw) <= 3 * max_rows or len(self.rows) <= max_rows)
                and b'"typed-literal"' not in raw and b"\\u" not in raw
                and (self._names is None or self._names.search(raw) is None))

    def __iter__(self) -> Iterator[dict]:
        rename = self._rename
        for row in self.rows:
            yield _Row({v: _term(b, rename) for v, b in row.items()})

    def serialize(self, fmt: str, *, max_rows: int, variables: list[str] | None = None) -> tuple[bytes, bool]:
        variables = variables or self.variables
        if self._passes_through(fmt, max_rows, variables):
            return self._raw, False
        rows, truncated = results.capped(([None if row[v] is None else to_ox(row[v]) for v in variables]
                                          for row in self), max_rows)
        return results.serialize_select(variables, rows, fmt), truncated


class _View(dict):
    """Logical graph → the engine graph holding it, with the reverse map (and a pattern finding
    any engine name in an answer) kept until the view changes: every answer needs them."""

    _known: tuple[dict[str, str], "re.Pattern[bytes] | None"] | None = None

    def back(self) -> dict[str, str]:
        return self._reverse()[0]

    def engine_names(self) -> "re.Pattern[bytes] | None":
        """A pattern matching any engine graph name of the view (None: the view is empty)."""
        return self._reverse()[1]

    def _reverse(self):
        if self._known is None:
            back = {physical: logical for logical, physical in self.items()}
            names = re.compile(b"|".join(re.escape(p.encode()) for p in back)) if back else None
            self._known = (back, names)
        return self._known

    def _changed(method):  # noqa: N805 -- a decorator of this class's mutators
        def changed(self, *args, **kwargs):
            self._known = None
            return method(self, *args, **kwargs)
        return changed

    __setitem__ = _changed(dict.__setitem__)
    __delitem__ = _changed(dict.__delitem__)
    pop = _changed(dict.pop)
    popitem = _changed(dict.popitem)
    update = _changed(dict.update)
    setdefault = _changed(dict.setdefault)
    clear = _changed(dict.clear)
    del _changed


class _Asked(NamedTuple):
    """A query as sent to the engine (:meth:`RemoteStore._asked`)."""

    sparql: str  # as the user wrote it
    head: str  # the BASE and PREFIX lines put before it
    text: str  # as sent: the head, then the text with engine graph names
    dataset: dict  # default_graphs / named_graphs of the protocol request, if any
    accept: str
    prefixes: Mapping[str, str] | None

    def rejected(self, exc: QueryRejected) -> QueryRejected:
        """The engine's parser message, made plain as the embedded store's (lines of the user's text)."""
        where = located(str(exc), self.head.count("\n"), self.sparql.count("\n") + 1)
        return QueryRejected(explain(self.sparql, where, self.prefixes))


class _Row(dict):
    def __missing__(self, key: str) -> None:
        return None


class RemoteTriples:
    def __init__(self, triples: list):
        self._triples = triples

    def __iter__(self) -> Iterator[Triple]:
        return ((from_ox(t.subject), t.predicate.value, from_ox(t.object)) for t in self._triples)

    def serialize(self, fmt: str, *, max_triples: int, prefixes: Mapping[str, str] | None = None) -> tuple[bytes, bool]:
        triples, truncated = results.capped(self._triples, max_triples)
        return results.serialize_triples(triples, fmt, prefixes), truncated


# ---- the store ------------------------------------------------------------------------------------

class RemoteStore:
    """One version of the data on the engine: logical graph → the engine graph holding it.

    A build's view also has ``writable(graph)``, which returns the engine graph a write to
    ``graph`` goes to, or a :class:`~kg.store.overlay.Layer` when the graph is a served one that
    the build changes in place at its switch (reads then go through the layer), and
    ``materialise(graph)``, which turns a layer into a graph of the build's own. Without them the
    view is read-only.
    """

    subjects_together = False  # the engine may interleave subjects (Virtuoso does)
    loads_in_process = False  # see kg.store.interface.WriteStore

    @property
    def subjects_per_read(self) -> int:
        return self.client.subjects  # KG_SPARQL_SUBJECTS

    def __init__(self, client: SparqlClient, view: Mapping[str, str],
                 writable: Callable[[str], "str | Layer"] | None = None,
                 dropped: Callable[[str, str], None] | None = None,
                 materialise: Callable[[str], str] | None = None):
        self.client = client
        self.view = _View(view)
        self.layers: dict[str, Layer] = {}
        self._writable = writable
        self._dropped = dropped
        self._materialise = materialise
        self._claiming = threading.Lock()

    @property
    def _back(self) -> dict[str, str]:
        return self.view.back()

    def _select(self, text: str, **dataset) -> list[dict[str, Term]]:
        """The solutions of a query of our own, as rows of our terms (unbound: absent), asked in
        the format of KG_SPARQL_RESULTS: Virtuoso 7 writes SPARQL XML 4x faster than JSON,
        which Oxigraph server writes as fast and we read faster (bench/README.md, session 17)."""
        if self.client.results == "json":
            media, body = self.client.query(text, accept=_SOLUTIONS, **dataset)
            return [{v: _term(b, {}) for v, b in row.items()} for row in json.loads(body)["results"]["bindings"]]
        media, body = self.client.query(text, accept=_SOLUTIONS_XML, **dataset)
        try:
            solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)
            names = [v.value for v in solutions.variables]
            # (Virtuoso writes booleans as true/false here: no need of _term's fix for its JSON)
            return [{n: from_ox(row[n]) for n in names if row[n] is not None} for row in solutions]
        except SyntaxError as exc:
            raise StoreError(f"the SPARQL engine's answer ({media or 'no media type'}) is not SPARQL XML results: "
                             f"{exc}") from None

    def _engine_graphs(self) -> list[str]:
        """Every engine graph this view reads (layers: served, added and deleted)."""
        out = [p for g, p in self.view.items() if g not in self.layers]
        for layer in self.layers.values():
            out += layer.graphs
        return out

    def _where(self, pattern: str, graph: str | None) -> tuple[str, list[str]] | None:
        """A WHERE body binding ``pattern`` (and ``?g``, a served engine graph) in ``graph``
        (None: every graph), and the named graphs it needs; None when there is no such graph.

        One branch per graph with its name written out: engines answer ``GRAPH <g> {…}`` from
        their indexes, where ``GRAPH ?g {…}`` with inline data inside is slow (8 s against 0.1 s
        for 300 subjects in Oxigraph server)."""
        graphs = [graph] if graph is not None else list(self.view)
        if graph is not None and graph not in self.view or not graphs:
            return None
        branches, named = [], []
        for g in graphs:
            layer = self.layers.get(g)
            if layer is not None:
                branches.append(f"{{ {group(layer, pattern)} BIND(<{layer.served}> AS ?g) }}")
                named += layer.graphs
            else:
                p = self.view[g]
                branches.append(f"{{ GRAPH <{p}> {{ {pattern} }} BIND(<{p}> AS ?g) }}")
                named.append(p)
        return " UNION ".join(branches), named

    # -- reading --
    def query(self, sparql: str, *, prefixes: Mapping[str, str] | None = None, base_iri: str | None = None,
              default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = ()):
        if self.layers:  # a build's query of a graph it changes: through the layer, or materialised
            plain = [p for g, p in self.view.items() if g not in self.layers]
            rewritten, left = rewrite(sparql, self.layers, prefixes, plain)
            left.update(g for g in (*default_graphs, *named_graphs) if g in self.layers)
            if left:
                for graph in sorted(left):
                    self._materialise_layer(graph)
                plain = [p for g, p in self.view.items() if g not in self.layers]
                rewritten, _ = rewrite(sparql, self.layers, prefixes, plain)
            sparql = rewritten
        return self._query(sparql, prefixes, base_iri, default_graphs, named_graphs)

    def _query(self, sparql, prefixes, base_iri, default_graphs, named_graphs):
        asked = self._asked(sparql, prefixes, base_iri, default_graphs, named_graphs)
        try:
            media, body = self.client.query(asked.text, accept=asked.accept, **asked.dataset)
        except QueryRejected as exc:
            raise asked.rejected(exc) from None
        return self._answer(asked, media, body)

    async def query_async(self, sparql: str, *, prefixes: Mapping[str, str] | None = None, base_iri: str | None = None,
                          default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = ()):
        """:meth:`query` from an event loop, which awaits the engine's answer instead of a thread
        waiting for it. Served views only: a build's view with layers may write to materialise one."""
        if self.layers:
            raise RuntimeError("a view with layers (a build's) is queried with query(), not from an event loop")
        asked = self._asked(sparql, prefixes, base_iri, default_graphs, named_graphs)
        url, body, headers = self.client.query_request(asked.text, accept=asked.accept, **asked.dataset)
        try:
            media, answer = await self.client.on_loop().send(url, body, headers)
        except QueryRejected as exc:
            raise asked.rejected(exc) from None
        return self._answer(asked, media, answer)

    def _asked(self, sparql, prefixes, base_iri, default_graphs, named_graphs) -> "_Asked":
        """What is sent to the engine for a query: the text with engine graph names, its
        protocol dataset and the answer types it takes."""
        dataset = Dataset()
        names = {g: p for g, p in self.view.items() if g not in self.layers}
        text = rename_graphs(sparql, names, prefixes, dataset)
        absent = {}
        if dataset.graphs:  # engine graphs already (a layer's, written by rewrite()) are not absent
            held = set(self.view) | set(self._engine_graphs())
            absent = {g: _absent(g) for g in dataset.graphs if g not in held}
        if absent:  # named in the text, not in this version: read as an empty graph, as embedded
            text = rename_graphs(sparql, {**names, **absent}, prefixes)
        head = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in (prefixes or {}).items())
        if base_iri:
            head = f"BASE <{base_iri}>\n" + head
        defaults, named = list(default_graphs), list(named_graphs)
        if defaults or named:
            kwargs = {"default_graphs": [self.view.get(g) or _absent(g) for g in defaults],
                      "named_graphs": [self.view.get(g) or _absent(g) for g in named]}
        elif dataset.from_clause:
            kwargs = {}
        else:  # the served version: its graphs are the union default graph and the named graphs
            graphs = self._engine_graphs()
            # and the absent ones, which no engine holds: Virtuoso 7 answers ASK { GRAPH <g> {…} }
            # true for a graph outside the dataset (SELECT is right)
            graphs += sorted(absent.values())
            kwargs = {"default_graphs": [p for g, p in self.view.items() if g not in self.layers] or ["urn:x-kg:nothing"],
                      "named_graphs": graphs or ["urn:x-kg:nothing"]}
        form = query_form(sparql)
        accept = _NTRIPLES if form in ("CONSTRUCT", "DESCRIBE") else _SOLUTIONS if form else _ACCEPT_ANY
        return _Asked(sparql, head, head + text, kwargs, accept, prefixes)

    def _answer(self, asked: "_Asked", media: str, body: bytes):
        """The result of a query from the engine's answer, engine graph names renamed back."""
        sparql = asked.sparql
        back = self._back
        if media in ("application/sparql-results+json", "application/json"):
            head = _SOLUTIONS_HEAD.match(body)
            if head is not None:  # the rows are read only if they must be written again
                engine_order, rows = json.loads(head.group(1)), None
            else:
                answer = json.loads(body)
                if "boolean" in answer:
                    return bool(answer["boolean"])
                engine_order, rows = answer["head"].get("vars", []), answer["results"]["bindings"]
            variables = star_order(sparql, engine_order)  # SELECT *: as written
            return RemoteSolutions(variables, rows, back, raw=body, raw_variables=engine_order,
                                   names=self.view.engine_names())
        if media in (_NTRIPLES, "text/plain"):
            triples = [ox.Triple(_renamed(t.subject, back), t.predicate, _renamed(t.object, back))
                       for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
            return RemoteTriples(triples)
        raise StoreError(f"the SPARQL engine answered a query with {media or 'no media type'}")

    def quads(self, subject: str | None = None, predicate: str | None = None, object: Term | None = None,
              graph: str | None = None) -> Iterator[Quad]:
        s = _iri_or_var(subject, "?s")
        p = _iri_or_var(predicate, "?p")
        o = "?o" if object is None else _nt(object)
        where = self._where(f"{s} {p} {o}", graph)
        if where is None:
            return iter(())
        body, graphs = where
        rows = self._select(f"SELECT DISTINCT * WHERE {{ {body} }}", named_graphs=graphs)
        back = self._back

        def out() -> Iterator[Quad]:
            for row in rows:
                g = str(row["g"])
                yield Quad(IRI(subject) if subject is not None else row["s"],
                           predicate if predicate is not None else str(row["p"]),
                           object if object is not None else row["o"], back.get(g, g))
        return out()

    def has(self, subject: str | None = None, predicate: str | None = None, object: Term | None = None,
            graph: str | None = None) -> bool:
        s, p = _iri_or_var(subject, "?s"), _iri_or_var(predicate, "?p")
        o = "?o" if object is None else _nt(object)
        where = self._where(f"{s} {p} {o}", graph)
        if where is None:
            return False
        body, graphs = where
        media, answer = self.client.query(f"ASK {{ {body} }}", named_graphs=graphs, accept=_SOLUTIONS)
        return bool(json.loads(answer)["boolean"])

    def quads_of(self, subjects: Iterable[str], predicates: Iterable[str] | None = None,
                 graph: str | None = None) -> Iterator[Quad]:
        """One request per :attr:`subjects_per_read` subjects (VALUES), whatever the number of predicates. Each
        predicate is written as a constant (a UNION of patterns): ``VALUES ?p`` beside ``VALUES
        ?s`` made Oxigraph 0.5 scan the graph, 143 s for 500 corporations of a million against
        0.01 s (bench/README.md, bench_national.py)."""
        subjects = list(dict.fromkeys(subjects))
        if predicates is None:
            pattern = "?s ?p ?o"
        else:
            pattern = " UNION ".join(f"{{ ?s {_iri_or_var(p, '')} ?o BIND({_iri_or_var(p, '')} AS ?p) }}"
                                     for p in dict.fromkeys(predicates))
            if not pattern:
                return
        step = self.subjects_per_read
        for i in range(0, len(subjects), step):
            values = " ".join(_iri_or_var(s, "") for s in subjects[i:i + step])
            yield from self._quads_of(values, graph, pattern)

    def named_graphs(self) -> list[str]:
        """The view's graphs that hold a triple (an emptied graph is no graph, as embedded)."""
        return sorted(g for g in self.view if self.has(graph=g))

    def count(self, graph: str) -> int:
        """Triples in ``graph``; through a layer, the served count corrected by the changes
        (served − removed ∩ served + added − added ∩ what stays): no scan beyond the count."""
        if graph not in self.view:
            return 0
        if graph not in self.layers:
            return self._count(f"GRAPH <{self.view[graph]}> {{ ?s ?p ?o }}", [self.view[graph]])
        L = self.layers[graph]
        t = "?s ?p ?o"
        return (self._count(f"GRAPH <{L.served}> {{ {t} }}", L.graphs)
                - self._count(f"GRAPH <{L.deleted}> {{ {t} }} GRAPH <{L.served}> {{ {t} }}", L.graphs)
                + self._count(f"GRAPH <{L.added}> {{ {t} }}", L.graphs)
                - self._count(f"GRAPH <{L.added}> {{ {t} }} GRAPH <{L.served}> {{ {t} }} "
                              f"FILTER NOT EXISTS {{ GRAPH <{L.deleted}> {{ {t} }} }}", L.graphs))

    def _count(self, body: str, graphs: list[str]) -> int:
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {body} }}", named_graphs=graphs)
        return int(rows[0]["n"].value) if rows else 0

    def entity(self, iri: str, graph: str | None = None) -> list[Quad]:
        """The entity and its fragment nodes, one query per level of fragments (usually two)."""
        return self.entities([iri], graph)[iri]

    def entities(self, iris: Iterable[str], graph: str | None = None) -> dict[str, list[Quad]]:
        """:meth:`entity` of each, :attr:`subjects_per_read` subjects a request: the entities, then their fragment
        nodes level by level (a fragment node may be an entity of its own too: a past record)."""
        out: dict[str, list[Quad]] = {iri: [] for iri in dict.fromkeys(iris)}
        seen = {iri: {iri} for iri in out}
        own = {iri: fragment_prefix(iri) for iri in out}
        frontier: dict[str, list[str]] = {iri: [iri] for iri in out}  # subject: the entities it belongs to
        while frontier:
            subjects, following = list(frontier), {}
            step = self.subjects_per_read
            for i in range(0, len(subjects), step):
                for q in self._quads_of(" ".join(f"<{s}>" for s in subjects[i:i + step]), graph):
                    for owner in frontier[str(q.subject)]:
                        out[owner].append(q)
                        o = q.object
                        if o.__class__ is IRI and o.startswith(own[owner]) and o not in seen[owner]:
                            seen[owner].add(o)
                            following.setdefault(str(o), []).append(owner)
            frontier = following
        return out

    def _quads_of(self, values: str, graph: str | None, pattern: str = "?s ?p ?o") -> list[Quad]:
        # the VALUES go inside every GRAPH group: an engine need not push them into a UNION
        where = self._where(f"VALUES ?s {{ {values} }} {pattern}", graph)
        if where is None:
            return []
        body, graphs = where
        rows = self._select(f"SELECT DISTINCT ?s ?p ?o ?g WHERE {{ {body} }}", named_graphs=graphs)
        back = self._back
        return [Quad(r["s"], str(r["p"]), r["o"], back.get(str(r["g"]), str(r["g"]))) for r in rows]

    def dump(self, graph: str, path: Path) -> None:
        """The graph as N-Triples written as the embedded store writes them (one space between
        terms, UTF-8 as it is): an engine writes its own (Virtuoso: tabs, ``\\u`` escapes), and
        a dump's lines are what its content digest is computed from (:mod:`kg.load.digest`)."""
        if graph in self.layers:
            self._materialise_layer(graph)
        if graph not in self.view:
            path.write_bytes(b"")
            return
        raw = path.with_name(path.name + ".engine")
        try:
            with open(raw, "wb") as fh:
                self.client.get_graph(self.view[graph], fh)
            try:
                ox.serialize(ox.parse(path=str(raw), format=ox.RdfFormat.N_TRIPLES), str(path), ox.RdfFormat.N_TRIPLES)
            except (SyntaxError, ValueError) as exc:
                raise StoreError(f"the SPARQL engine's N-Triples of {graph} could not be read: {exc}") from None
        finally:
            raw.unlink(missing_ok=True)

    # -- writing (a build's view) --
    def _target(self, graph: str) -> "str | Layer":
        if self._writable is None:
            raise StoreError("this view of the remote store is read-only")
        with self._claiming:  # a build's links are written by a thread beside its records (kg.link.addresses)
            target = self._writable(graph)
            if isinstance(target, Layer):
                self.layers[graph] = target
                self.view[graph] = target.served
            else:
                self.view[graph] = target
        return target

    def _added_to(self, graph: str) -> str:
        target = self._target(graph)
        return target.added if isinstance(target, Layer) else target

    def _materialise_layer(self, graph: str) -> None:
        self.view[graph] = self._materialise(graph)
        self.layers.pop(graph, None)

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        if self._writable is None:
            raise StoreError("this view of the remote store is read-only")
        try:  # CLEAR/DROP ALL empties this version's graphs, never the whole engine
            sparql, everything = every_graph_ops(sparql)
        except ValueError as exc:
            raise QueryRejected(str(exc)) from None
        if everything:
            for graph in list(self.view):
                self.remove_graph(graph)
            if not sparql:
                return
        probe = Dataset()
        rename_graphs(sparql, {}, None, probe)
        # every graph the update names is copied before it is written (GRAPH ?g: every graph)
        for graph in sorted(probe.graphs | (set(self.view) if probe.variable_graph else set())):
            self._target(graph)
        for graph in sorted(self.layers):  # an update reads and writes graphs directly
            self._materialise_layer(graph)
        dataset = Dataset()
        text = rename_graphs(sparql, self.view, None, dataset)
        if base_iri:
            text = f"BASE <{base_iri}>\n{text}"
        graphs = list(self.view.values())
        try:
            if dataset.using_clause or not graphs:
                self.client.update(text)
            else:
                self.client.update(text, using_graphs=graphs, using_named_graphs=graphs)
        except MissingGraph as exc:  # CLEAR/DROP of a graph that does not exist: the request's fault
            back = self._back
            raise QueryRejected(re.sub(r"<([^<>\s]*)>", lambda m: f"<{back.get(m.group(1), m.group(1))}>",
                                       exc.said)) from None

    def add(self, *, path: Path | None = None, text: str | None = None, stream: IO[bytes] | None = None,
            fmt: str = "nquads", graph: str | None = None, base_iri: str | None = None, bulk: bool = False,
            slice_bytes: int | None = None, parallel: int | None = None) -> None:
        """Graph Store POSTs of N-Triples, ``KG_SPARQL_POST_BYTES`` at a time, one graph each
        (``slice_bytes`` and ``parallel`` bound the embedded engine's memory and cores, not this).
        N-Triples into one graph with ``KG_SPARQL_POST_BYTES=0`` go as one streamed POST, and a
        ``bulk`` one through the engine's own loader when it has one (``KG_VIRTUOSO_SQL``)."""
        size = self.client.post_bytes or DEFAULT_SLICE
        if fmt == "ntriples" and graph is not None:
            target = self._added_to(graph)
            chunks = _line_slices(path=path, text=text, stream=stream, size=size)
            if bulk and self.client.bulk is not None:
                self.client.bulk_load(target, chunks)
            elif self.client.post_bytes:
                for chunk in chunks:
                    self.client.post_graph(target, chunk)
            else:
                self.client.post_graph_stream(target, chunks)
            return
        # any other format is parsed here and sent as N-Triples per graph
        if path is not None:
            source = open(path, "rb")
        else:
            source = io.BytesIO(text.encode("utf-8")) if text is not None else stream
        try:
            kwargs = {"base_iri": base_iri} if base_iri else {}
            parsed = ox.parse(source, format=_FORMATS[fmt], **kwargs)
            buffers: dict[str, list[str]] = {}
            sizes: dict[str, int] = {}
            for q in parsed:
                if graph is not None:
                    g = graph
                elif isinstance(q, ox.Quad) and isinstance(q.graph_name, ox.NamedNode):
                    g = q.graph_name.value
                else:
                    raise StoreError("the remote store keeps every triple in a named graph; this one has none")
                line = f"{q.subject} {q.predicate} {q.object} .\n"
                buffers.setdefault(g, []).append(line)
                sizes[g] = sizes.get(g, 0) + len(line)
                if sizes[g] >= size:
                    self.client.post_graph(self._added_to(g), "".join(buffers.pop(g)).encode("utf-8"))
                    sizes[g] = 0
            for g, lines in buffers.items():
                if lines:
                    self.client.post_graph(self._added_to(g), "".join(lines).encode("utf-8"))
        finally:
            if path is not None:
                source.close()

    def remove(self, quads: Iterable[Quad]) -> None:
        """DELETE DATA in requests of bounded size (``client.update_quads`` each: an engine's parser
        has its limits); from a layer, the quads leave its added triples and join its deleted ones."""
        ops: list[str] = []
        targets: dict[str, "str | Layer"] = {}
        count = 0

        def send() -> None:
            if ops:
                self.client.update(" ;\n".join(ops))
            ops.clear()

        batch: dict[str, list[str]] = {}
        for q in quads:
            if q.graph is None:
                continue
            if q.graph not in targets:
                if q.graph not in self.view:
                    continue  # nothing of that graph in this version
                targets[q.graph] = self._target(q.graph)
            batch.setdefault(q.graph, []).append(f"{_nt(q.subject)} <{q.predicate}> {_nt(q.object)} .")
            count += 1
            if count >= self.client.update_quads:
                ops.extend(_removals(batch, targets))
                batch, count = {}, 0
                send()
        ops.extend(_removals(batch, targets))
        send()

    def remove_graph(self, graph: str) -> None:
        if graph in self.view:
            physical = self.view.pop(graph)
            layer = self.layers.pop(graph, None)
            if self._dropped is not None:
                self._dropped(graph, physical)
                if layer is not None:
                    self._dropped(graph, layer.added)
                    self._dropped(graph, layer.deleted)

    def flush(self) -> None:
        """Every request is already durable on the engine."""

    def close(self) -> None:
        pass


def _removals(batch: Mapping[str, list[str]], targets: Mapping[str, "str | Layer"]) -> list[str]:
    ops = []
    for graph, triples in batch.items():
        body = " ".join(triples)
        target = targets[graph]
        if isinstance(target, Layer):
            ops.append(f"DELETE DATA {{ GRAPH <{target.added}> {{ {body} }} }}")
            ops.append(f"INSERT DATA {{ GRAPH <{target.deleted}> {{ {body} }} }}")
        else:
            ops.append(f"DELETE DATA {{ GRAPH <{target}> {{ {body} }} }}")
    return ops


def _renamed(term, back: Mapping[str, str]):
    if isinstance(term, ox.NamedNode) and term.value in back:
        return ox.NamedNode(back[term.value])
    return term


def _iri_or_var(value: str | None, var: str) -> str:
    if value is None:
        return var
    if NOT_IN_AN_IRI.search(value):
        raise QueryRejected(f"{value!r} is not a valid IRI")
    return f"<{value}>"


def _nt(term: Term) -> str:
    if isinstance(term, Literal):
        return term.nt()
    if isinstance(term, BNode):
        raise StoreError("blank nodes cannot be named in a request to a remote engine")
    return _iri_or_var(str(term), "")
