"""What the query path does with one request: run it on the served generation and serialise
the answer (see :mod:`kg.server.executor` for where it runs and how the time limit is kept)."""

from __future__ import annotations

import asyncio
import json
import threading
import traceback

from kg.errors import EntityNotFound, KGError, NotAcceptable
from kg.rdf.iri import Minter
from kg.server.answer import Answer
from kg.server.formats import Format, by_short_name, negotiate, offered
from kg.server.guard import Guard
from kg.settings import Settings
from kg.server.sparql_text import appearance_order
from kg.store import open_home
from kg.store.changelog import ChangeLog, utc_now
from kg.store.counts import graph_triples
from kg.store.describe import GenerationCache, attributions, describe, description_json, description_triples
from kg.store.hubs import read_hubs
from kg.store.results import serialize_boolean


class RequestHandler:
    """Answers query, update, describe and ping requests (plain dicts, so they can cross a pipe)."""

    def __init__(self, settings: Settings):
        self.home = open_home(settings, create=False)
        self.served = self.home.served()
        self.minter = Minter(settings.base)
        self._prefixes = self.minter.prefixes()
        self.guard = Guard.from_settings(settings)
        self.max_rows = settings.max_rows
        self.page_size = settings.page_size
        self.hub_min = settings.hub_min
        self.page_cache = settings.page_cache
        self.update_wait = settings.update_timeout
        self.changes_retention = settings.changes_retention
        self._cache: tuple[str | None, GenerationCache] = (None, GenerationCache(limit=self.page_cache))
        self._graphs: tuple[str | None, bytes] = ("", b"")
        self.geocode_limits = {"block_cache": settings.geocode_block_cache, "max_length": settings.geocode_max_length}
        self._geocoder: tuple[str | None, object] = ("", None)
        self._geocoder_lock = threading.Lock()

    def _current(self):
        """(name, store, what pages learnt of it): the cache changes with the generation."""
        name, store = self.served.get()
        if self._cache[0] != name:
            self._cache = (name, GenerationCache(hubs=read_hubs(self.home.gens / name) if name else {},
                                                limit=self.page_cache))
        return name, store, self._cache[1]

    def handle(self, request: dict) -> Answer:
        kind = request["kind"]
        if kind == "query":
            return self.query(request)
        if kind == "update":
            return self.update(request)
        if kind == "describe":
            return self.describe(request)
        if kind == "ping":
            name, _, _ = self._current()
            return Answer(b"ok", "text/plain", headers={"X-KG-Generation": name or ""})
        if kind == "geocode":
            return self.geocode(request)
        if kind == "graphs":  # triples per named graph of the served generation (service description)
            name, store, _ = self._current()
            if self._graphs[0] != name:  # counted once per generation: the links graph alone takes ms
                self._graphs = (name, json.dumps(graph_triples(store, self.minter)).encode())
            return Answer(self._graphs[1], "application/json", headers={"X-KG-Generation": name or ""})
        raise ValueError(f"unknown request kind {kind!r}")

    def _asked(self, request: dict) -> tuple[str | None, object, dict]:
        """(generation, its store, the query's arguments) of a query request the guard lets by."""
        text = request["query"]
        self.guard.check_query(text, one_subject_known=request.get("one_subject", False))
        name, store, _ = self._current()
        # only the prefixes the text may use: handing the engine all of them costs more than a lookup
        prefixes = {p: iri for p, iri in self._prefixes.items() if p + ":" in text}
        return name, store, {"sparql": text, "prefixes": prefixes, "base_iri": request.get("base_iri"),
                             "default_graphs": request.get("default_graphs") or (),
                             "named_graphs": request.get("named_graphs") or ()}

    async def query_async(self, request: dict) -> Answer:
        """:meth:`query` from an event loop, over an engine (whose store has ``query_async``):
        only for answers of bounded size (one subject's), which are serialised on the loop."""
        if self.served.due():  # the engine's pointer is read again: a round trip the loop must not wait on
            await asyncio.get_running_loop().run_in_executor(None, self.served.get)
        name, store, args = self._asked(request)
        result = await store.query_async(**args)
        return self._serialized(result, args["sparql"], request, name)

    def query(self, request: dict) -> Answer:
        name, store, args = self._asked(request)
        text = args["sparql"]
        result = store.query(**args)
        try:
            return self._serialized(result, text, request, name)
        except Exception as exc:
            # the answer is dropped here, in this thread, not with the traceback in the web
            # thread: pyoxigraph's results may only be dropped by the thread that made them
            # (found by test_fuzz: "PyQueryTriples is unsendable, but is being dropped on another thread")
            if not isinstance(exc, KGError):  # our bug: where it happened stays in the log
                exc.add_note("".join(traceback.format_tb(exc.__traceback__)))
            del result
            raise exc.with_traceback(None)

    def _serialized(self, result, text: str, request: dict, name: str | None) -> Answer:
        wanted, accept = request.get("format"), request.get("accept")
        headers = {"X-KG-Generation": name or ""}
        if isinstance(result, bool):
            fmt = self._choose(wanted, accept, "boolean")
            return Answer(serialize_boolean(result, fmt.name), fmt.media_type, False, headers)
        if hasattr(result, "variables"):
            fmt = self._choose(wanted, accept, "solutions")
            variables = appearance_order(text, result.variables)
            body, truncated = result.serialize(fmt.name, max_rows=self.max_rows, variables=variables)
            unit = "rows"
        else:
            fmt = self._choose(wanted, accept, "graph")
            body, truncated = result.serialize(fmt.name, max_triples=self.max_rows, prefixes=self._prefixes)
            unit = "triples"
        if truncated:
            headers["X-KG-Truncated"] = f"results cut at {self.max_rows} {unit} (KG_MAX_ROWS)"
        return Answer(body, fmt.media_type, truncated, headers)

    @staticmethod
    def _choose(wanted: str | None, accept: str | None, kind: str) -> Format:
        """The ``format``/``output`` parameter's format when it fits this answer, else by Accept."""
        formats = offered(kind)
        if wanted:
            named = by_short_name(wanted, kind) or next((f for f in formats if f.media_type == wanted), None)
            if named is not None:
                return named
            if not accept:
                accept = wanted  # a media type the answer cannot take: 406 below
        fmt = negotiate(accept, formats)
        if fmt is None:
            raise NotAcceptable("none of the requested types can be produced for this query; available: "
                                + ", ".join(f.media_type for f in formats))
        return fmt

    def describe(self, request: dict) -> Answer:
        name, store, cache = self._current()
        d = describe(store, request["iri"], self.minter, prop=request.get("prop"), offset=request.get("offset", 0),
                     limit=self.page_size, cache=cache, cls=request.get("class"), class_limit=self.hub_min)
        headers = {"X-KG-Generation": name or ""}
        if not d.found:
            raise EntityNotFound(f"{request['iri']} についてのデータはありません。検索してください。 (No data about this IRI.)")
        fmt = request["format"]
        if fmt == "page":
            graphs = {q.graph for q in d.quads if q.graph}
            body = json.dumps(description_json(d, attributions(store, self.minter, graphs)), ensure_ascii=False)
            return Answer(body.encode("utf-8"), "application/json", headers=headers)
        from kg.store import serialize

        return Answer(serialize(description_triples(d), fmt, self._prefixes), "", headers=headers)

    def _current_geocoder(self):
        """(generation, geocoder): built on the first geocode request of each served generation."""
        name, store = self.served.get()
        with self._geocoder_lock:
            if self._geocoder[0] != name or self._geocoder[1] is None:
                from kg.geocode import geocoder_for

                self._geocoder = (name, geocoder_for(store, self.minter, **self.geocode_limits))
            return self._geocoder

    def geocode(self, request: dict) -> Answer:
        """Addresses ``[[id, text], ...]`` geocoded and serialised (``format``: geojson, csv, jsonl)."""
        from kg.geocode.formats import MEDIA_TYPES, serialize

        name, geocoder = self._current_geocoder()
        answers = [geocoder.geocode(text, ident) for ident, text in request["addresses"]]
        fmt = request.get("format") or "geojson"
        headers = {"X-KG-Generation": name or ""}
        if request.get("single") and answers[0].not_loaded:
            headers["X-KG-Not-Loaded"] = "1"
        return Answer(serialize(answers, fmt, single=bool(request.get("single"))), MEDIA_TYPES[fmt], headers=headers)

    def update(self, request: dict) -> Answer:
        self.guard.check_update(request["update"])
        with self.home.build(wait=self.update_wait) as build:
            build.store.update(request["update"], base_iri=request.get("base_iri"))
            # an update is not a load: the content digests it may have changed are forgotten, so
            # the next load computes them afresh (kg verify reports the store ahead of the journal)
            meta, quads = self.minter.graph("meta"), self.minter.term("contentQuads")
            build.store.update(f"DELETE WHERE {{ GRAPH <{meta}> {{ ?d <{quads}> ?n }} }}")
            # and so are the load-time statistics (kg.load.statistics): the next load counts them
            build.store.remove_graph(self.minter.graph("statistics"))
            if self.changes_retention > 0:  # the change feed: this generation's difference is not recorded
                ChangeLog(self.home.root).unrecorded(build.path.name, self.home.current_name(), kind="sparql-update",
                                                     published=utc_now(), keep=self.changes_retention)
        return Answer(b"", "text/plain")
