"""What a query worker process does with one request (see :mod:`kg.server.executor`)."""

from __future__ import annotations

import os
import threading

import pyoxigraph as ox

from kg.conneg import best_match
from kg.describe import GenerationCache
from kg.hubs import read_hubs
from kg.iri import Minter
from kg.results import (GRAPH_OFFER, SELECT_OFFER, SELECT_TYPES, SHORT_NAMES, native_select, serialize_boolean,
                        serialize_select, serialize_triples)
from kg.server.executor import Answer
from kg.sparql_text import appearance_order
from kg.store import Generations

ASK_OFFER = ["application/sparql-results+json", "application/sparql-results+xml", "application/json", "application/xml"]


class NotAcceptable(Exception):
    pass


class EntityNotFound(Exception):
    pass


class Worker:
    def __init__(self, data_dir: str, base: str, max_rows: int):
        self.gens = Generations(data_dir, create=False)
        self.minter = Minter(base)
        self._prefixes = self.minter.prefixes()
        self.max_rows = max_rows
        self._name: str | None = None
        self._empty = ox.Store()
        self._lock = threading.Lock()
        self._pointer = str(self.gens.pointer)
        self._stamp: tuple[int, int] | None = None
        self._current: tuple[ox.Store, GenerationCache] = (self._empty, GenerationCache())

    def store(self) -> ox.Store:
        """The served generation, reopened when CURRENT names a new one."""
        return self._served()[0]

    def _served(self) -> tuple[ox.Store, GenerationCache]:
        """The served store and what pages learnt of it, as one pair (they change together)."""
        try:
            st = os.stat(self._pointer)
            stamp = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp is None or stamp != self._stamp:  # CURRENT is replaced by rename: a new inode
            name = self.gens.current_name()
            if name != self._name:
                with self._lock:  # several query threads may notice the switch at once
                    if name != self._name:
                        store = self.gens.open_current() if name else None
                        cache = GenerationCache(hubs=read_hubs(self.gens.gens / name) if name else {})
                        self._current = (store if store is not None else self._empty, cache)
                        self._name = name
            self._stamp = stamp
        return self._current

    def handle(self, request: dict) -> Answer:
        kind = request["kind"]
        if kind == "query":
            return self.query(request)
        if kind == "update":
            return self.update(request)
        if kind == "describe":
            return self.describe(request)
        if kind == "ping":
            self.store()
            return Answer(b"ok", "text/plain", headers={"X-KG-Generation": self._name or ""})
        raise ValueError(f"unknown request kind {kind!r}")

    def query(self, request: dict) -> Answer:
        store = self.store()
        text = request["query"]
        # only the prefixes the text may use: handing pyoxigraph all of them costs more than a lookup
        prefixes = {name: iri for name, iri in self._prefixes.items() if name + ":" in text}
        kwargs: dict = {"prefixes": prefixes, "base_iri": request.get("base_iri")}
        defaults, named = request.get("default_graphs") or [], request.get("named_graphs") or []
        if defaults or named:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in defaults]
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named]
        else:
            kwargs["use_default_graph_as_union"] = True
        result = store.query(text, **kwargs)
        wanted = request.get("format")
        accept = SHORT_NAMES.get(wanted, wanted) if wanted else request.get("accept")
        headers = {"X-KG-Generation": self._name or ""}
        if isinstance(result, ox.QuerySolutions):
            media = self._choose(accept, SELECT_OFFER)
            native = [v.value for v in result.variables]
            variables = appearance_order(text, native)
            if variables == native:
                body = native_select(result, SELECT_TYPES[media], self.max_rows)
                if body is not None:
                    return Answer(body, media, False, headers)
                result = store.query(text, **kwargs)  # too big to be sure: count the rows
            rows, truncated = self._capped(([s[v] for v in variables] for s in result), "rows", headers)
            return Answer(serialize_select(variables, rows, SELECT_TYPES[media]), media, truncated, headers)
        if isinstance(result, ox.QueryBoolean):
            media = self._choose(accept, ASK_OFFER)
            return Answer(serialize_boolean(bool(result), SELECT_TYPES[media]), media, False, headers)
        media = self._choose(accept, GRAPH_OFFER)
        triples, truncated = self._capped(result, "triples", headers)
        return Answer(serialize_triples(triples, media, self.minter.prefixes()), media, truncated, headers)

    def _capped(self, items, unit: str, headers: dict) -> tuple[list, bool]:
        """At most KG_MAX_ROWS items; says so in a header when the result was cut."""
        out = []
        for item in items:
            if len(out) >= self.max_rows:
                headers["X-KG-Truncated"] = f"results cut at {self.max_rows} {unit} (KG_MAX_ROWS)"
                return out, True
            out.append(item)
        return out, False

    @staticmethod
    def _choose(accept: str | None, offer: list[str]) -> str:
        media = best_match(accept, offer)
        if media is None:
            raise NotAcceptable("none of the requested types can be produced for this query; available: " + ", ".join(offer))
        return media

    def describe(self, request: dict) -> Answer:
        import json

        from kg.describe import attributions, describe, description_json, description_triples

        store, cache = self._served()
        d = describe(store, request["iri"], self.minter, prop=request.get("prop"), offset=request.get("offset", 0),
                     cache=cache)
        headers = {"X-KG-Generation": self._name or ""}
        if not d.found:
            raise EntityNotFound(f"no data about {request['iri']}")
        if request["media"] == "json":
            graphs = {q.graph_name.value for q in d.triples if isinstance(q.graph_name, ox.NamedNode)}
            body = json.dumps(description_json(d, attributions(store, self.minter, graphs)), ensure_ascii=False)
            return Answer(body.encode("utf-8"), "application/json", headers=headers)
        return Answer(serialize_triples(description_triples(d), request["media"], self.minter.prefixes()),
                      request["media"], headers=headers)

    def update(self, request: dict) -> Answer:
        with self.gens.build() as build:
            build.store.update(request["update"], base_iri=request.get("base_iri"))
        return Answer(b"", "text/plain")
