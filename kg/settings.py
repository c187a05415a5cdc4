"""Every setting in one table (name, default, help), read from ``KG_*`` variables and CLI options.

Like datasette's SETTINGS: the table is the documentation; ``kg --help``, the README and a test
all read it, so a setting cannot exist without being explained.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    #: never printed (``kg settings`` shows it masked), never recorded in provenance
    secret: bool = False

    @property
    def env(self) -> str:
        return "KG_" + self.name.upper()


def _bytes(text: str) -> int:
    text = text.strip().upper()
    for suffix, factor in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if text.endswith(suffix) or text.endswith(suffix + "B"):
            return int(float(text.rstrip("B")[:-1]) * factor)
    return int(text)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("a whole number of at least 1")
    return value


def _store_kind(text: str) -> str:
    kind = text.strip().lower()
    if kind not in ("oxigraph", "sparql"):
        raise ValueError("one of oxigraph (embedded) or sparql (a remote engine's SPARQL endpoints)")
    return kind


def _results_format(text: str) -> str:
    fmt = text.strip().lower()
    if fmt not in ("json", "xml"):
        raise ValueError("one of json (SPARQL JSON results) or xml (SPARQL XML results)")
    return fmt


def _wkt_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in ("verbatim", "opaque"):
        raise ValueError("one of verbatim (the engine keeps GeoSPARQL WKT literals as written) or opaque")
    return mode


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./kg-data", "Directory of the on-disk store, its generations, reports and the search index."),
    Setting("base_uri", "http://localhost:8000/", "Base of every minted IRI ({base}id/..., {base}def/...); recorded in the store at load time.", str),
    Setting("update_token", None, "Bearer token that allows SPARQL Update on /sparql; unset means the endpoint is read-only."),
    Setting("query_timeout", 30.0, "Seconds a SPARQL query may run before it is stopped with an error.", float),
    Setting("max_rows", 100_000, "Most result rows a SELECT returns over HTTP; the answer says when it was cut.", int),
    Setting("max_query_length", 256 << 10, "Longest query or update text the endpoint runs, in characters.", _bytes),
    Setting("max_nesting", 256, "Deepest nesting of groups, parentheses and brackets in a query (the engine overflows its stack near 2,500).", int),
    Setting("max_patterns", 1000, "Most triple patterns (separators . ; ,) in a query.", int),
    Setting("remote_allowed", None, "Space- or comma-separated IRIs that SERVICE may call and LOAD may fetch; unset means the server never opens a connection for a query or update."),
    Setting("query_stack", 256 << 20, "Stack size of the threads that run queries, in bytes (virtual memory; deep queries need more than the default 8 MiB).", _bytes),
    Setting("max_body", 1 << 20, "Largest request body accepted by the server, in bytes (suffixes K, M, G allowed).", _bytes),
    Setting("host", "127.0.0.1", "Interface `kg serve` listens on."),
    Setting("port", 8000, "TCP port `kg serve` listens on.", int),
    Setting("idle_timeout", 10.0, "Seconds a connection may stay silent, on arrival or between requests, before `kg serve` closes it.", float),
    Setting("header_timeout", 10.0, "Seconds a client may take to send a request's headers from their first byte (then 408 and close).", float),
    Setting("max_header_bytes", 65536, "Largest request line and headers in bytes (then 431 and close).", int),
    Setting("body_timeout", 10.0, "Seconds a client may take to send a request's body (then 408).", float),
    Setting("client_requests", 32, "Requests one client address may have in progress at once per worker process (then 503).", int),
    Setting("client_connections", 64, "Connections one client address may hold open at once per worker process (then 503 and close).", int),
    Setting("max_connections", 2048, "Connections each worker process holds open at once (then 503 and close).", int),
    Setting("restart_backoff_max", 30.0, "Longest wait, in seconds, before `kg serve` starts a worker process again after it exited soon after its start.", float),
    Setting("workers", 0, "Worker processes of `kg serve` (processes, not threads: one Python process is GIL-bound); 0: one per CPU the process may run on (two on a two-core machine, one under `taskset -c 1`).", int),
    Setting("batch_size", 5000, "Entities validated and written per batch during a load.", int),
    Setting("pending_entities", 200_000, "Entities a load writes before it commits them to the store, so that an entity seen again later in the same file updates them (also when one is seen again).", int),
    Setting("small_source", 256 << 10, "A source whose triples take fewer bytes than this is written transactionally, not bulk-loaded (a bulk load costs tens of ms a call whatever its size).", _bytes),
    Setting("bulk_slice", 32 << 20, "Bytes of N-Triples one bulk-load call takes: the engine holds several times a call's input in memory until it returns (a 400k-row 地番 file peaked at 1.7 GB in one call, 0.4 GB in 32 MiB slices; 200k corporations: 0.62 GB in 64 MiB slices, 1.7 GB in 256 MiB), so this bounds a load's memory; 0: the whole source in one call.", _bytes),
    Setting("bulk_threads", 2, "Slices the embedded store bulk-loads at once: one call parses on one core, so slices loaded side by side use the others (200k corporations' N-Triples in 32 MiB slices: 50 s one at a time, 33 s two at a time, the engine's own loader of the whole file 36 s); memory grows with it.", int),
    Setting("column_batch", 4 << 20, "Bytes of an NTA corporate-number CSV mapped at once as column expressions (pyarrow) when a sorted UTF-8 file loads into an empty dataset: ~10 µs a row instead of ~370 µs for the per-row mapping, which still maps every row the expressions cannot show is valid; 0: every row mapped per row.", _bytes),
    Setting("checked_batch", 256 << 20, "Bytes of N-Triples of an update (a load into a non-empty dataset) up to which each commit's lines are checked against the store, so that the dataset's triple and class counts are carried forward instead of counted (a scan of the whole graph: 30 s at a million corporations); a larger commit has the graph counted afresh.", _bytes),
    Setting("small_flush", 32 << 20, "Bytes of transactional writes after which a load flushes the store's write buffers (keeps memory flat over thousands of small files).", _bytes),
    Setting("page_size", 20, "Incoming links per property shown on an entity page, and hits per search page.", int),
    Setting("hub_min", 1000, "Links through one property that make an entity a hub, whose incoming counts a load takes in advance (a page splits a property with fewer links by the class of what links).", int),
    Setting("search_build_memory", 16 << 20, "Bytes of text a load's search indexer gathers in memory before it writes them into the text index (SQLite FTS5's hashsize): each write is a segment merged again later, so the text index of 5.3M corporations was written in 74 s at FTS5's own 1 MiB and in 43 s at 16 MiB (the whole search index: 166 → 134 s).", _bytes),
    Setting("search_max_hits", 1000, "Search matches ranked per query (the count shown stops there).", int),
    Setting("page_timeout", 20.0, "Seconds the home page, the catalogue and the health check may spend on their own queries.", float),
    Setting("update_timeout", 60.0, "Seconds a SPARQL Update (or a query's update generation) may run.", float),
    Setting("query_processes", 2, "Query processes per `kg serve` worker: a runaway query costs its process, not the worker and its connections (0: queries run in threads of the worker, about twice as fast, but a runaway recycles the worker and cuts its other requests).", int),
    Setting("query_one_subject_here", 1, "1: a SELECT of one triple pattern about a constant subject (what a system resolving an identifier asks; its cost is bounded by one entity) is answered by the worker itself, without the hop to a query process (measured: the hop cost more than the query); 0: every query goes to a query process.", int),
    Setting("query_threads", 16, "Threads per `kg serve` worker process that run queries (the engine releases the GIL while it evaluates); over an engine, also the most one-entity queries a worker has in flight to it at once.", int),
    Setting("recycle_grace", 2.0, "Seconds a worker process whose query ran past the time limit lets its other requests finish before it is replaced.", float),
    Setting("page_cache", 200_000, "Labels, incoming-link counts and law text (one entry a quad) a worker keeps per served generation for the pages (then it starts over).", int),
    Setting("retry_after", 5, "Seconds a client is told to wait (Retry-After) when the server is busy or a query timed out.", int),
    Setting("changes_retention", 100, "Generations whose changes (the quads each added and removed, gzip N-Quads under KG_DATA_DIR/changes) are kept and served at /changes/; older ones are deleted (0: record no changes, loads skip the capture).", int),
    Setting("changes_tee", 1, "1: a graph new in a load (a first load into an empty dataset) has its added patch copied from the N-Triples the load bulk-loads, as they are loaded (the cost is gzip); 0: read back from the store after the build (a decode of every quad; kept for comparison, bench/bench_changes.py).", int),
    Setting("changes_page_size", 50, "Generations per page of the change feed at /changes/.", int),
    Setting("changes_entities", 100, "Entities a change lists in the feed (all of them are in its entities.txt.gz).", int),
    Setting("geocode_max_batch", 10_000, "Most addresses one POST to /geocode may hold (then 413; the body is also bound by KG_MAX_BODY). `kg geocode` reads files of any size.", int),
    Setting("geocode_max_length", 500, "Longest address /geocode and `kg geocode` read, in characters (a longer one is answered with an error).", int),
    Setting("geocode_timeout", 120.0, "Seconds a /geocode request may take, including building the geocoding index of a newly served generation on its first request.", float),
    Setting("geocode_block_cache", 10_000, "Towns whose 住居表示 blocks and residences a worker keeps in memory for the geocoder (least recently used are dropped).", int),
    Setting("signature_policy", "warn", "What a load does with a source's detached OpenPGP signature (X.asc beside X or in its zip): ignore (check nothing), warn (check, record the verdict, load anyway) or require (refuse a file that is not verified, before it is read; NTA files without a signature too)."),
    Setting("nta_keyring", None, "OpenPGP public key file (binary keyring or ASCII-armoured, as the NTA publishes it) that source signatures are checked against with gpgv; unset means signatures are recorded as unchecked."),
    Setting("signing_key", None, "OpenPGP secret key file (unprotected, as `gpg --export-secret-keys` writes it) that signs the load journal, the catalogue and every dump; its public key is served at /.well-known/kg-signing-key.asc. Unset means unsigned output, as /datasets says. Never logged or served."),
    Setting("store", "oxigraph", "Where the graph lives: `oxigraph` (embedded, in KG_DATA_DIR) or `sparql` (a remote SPARQL 1.1 engine at KG_SPARQL_QUERY, KG_SPARQL_UPDATE and KG_SPARQL_STORE; the search index and hub counts stay in KG_DATA_DIR).", _store_kind),
    Setting("sparql_query", None, "With KG_STORE=sparql: the engine's SPARQL 1.1 Query endpoint (Oxigraph server: http://host:7878/query; Fuseki: http://host:3030/ds/query)."),
    Setting("sparql_update", None, "With KG_STORE=sparql: the engine's SPARQL 1.1 Update endpoint (Oxigraph server: /update; Fuseki: /ds/update)."),
    Setting("sparql_store", None, "With KG_STORE=sparql: the engine's Graph Store HTTP Protocol endpoint (Oxigraph server: /store; Fuseki: /ds/data)."),
    Setting("sparql_user", None, "With KG_STORE=sparql: user name for HTTP Basic authentication at the engine (unset: none)."),
    Setting("sparql_password", None, "With KG_STORE=sparql: password for HTTP Basic authentication at the engine; never printed, never recorded.", secret=True),
    Setting("sparql_retries", 5, "With KG_STORE=sparql: times a request the engine rolled back as a deadlock (SQLSTATE 40001: Virtuoso 7 answers `SR172: Transaction deadlocked` to a Graph Store POST now and then at 200k corporations) is sent again, after 0.5, 1, 2, ... s; nothing of a rolled-back request was applied.", int),
    Setting("sparql_post_bytes", 32 << 20, "With KG_STORE=sparql: bytes of N-Triples one Graph Store POST of a load carries; 0: a load's N-Triples into one graph (every dataset's records, its links) go as one POST in chunked transfer coding, read from the mapping as it writes them. Oxigraph server's `/store?no_transaction` makes each POST a bulk load of its own and compacts after it: 200k corporations' 714 MB as 22 POSTs cost it 83 CPU s and a 1,415 MB store, as one 65 CPU s and 928 MB. One POST is never sent again after a failure (a build that fails is thrown away whole). The engine must store a chunked request body: Virtuoso 7 answers one 201 and stores nothing, which the load finds (it looks the first triple up) and fails on; keep slices there.", _bytes),
    Setting("sparql_write_timeout", 3600.0, "With KG_STORE=sparql: seconds the client waits for the engine's answer to a write (an Update, a Graph Store POST); queries wait KG_QUERY_TIMEOUT/KG_UPDATE_TIMEOUT + 30. Oxigraph server holds a write while it compacts after a bulk load: the first write after the 134M triples of 5.3M corporations waited 370 s.", float),
    Setting("sparql_update_quads", 2000, "With KG_STORE=sparql: most quads one DELETE DATA / INSERT DATA request names (Virtuoso 7's SPARQL parser runs out of stack between 2,000 and 5,000: `SP030 … memory exhausted`; found on a 200k-corporation daily diff).", int),
    Setting("sparql_subjects", 500, "With KG_STORE=sparql: most subjects one read of kg's own names in its VALUES (an entity's description, a load's lookups of the old descriptions it replaces and of what its rows refer to, `kg validate`): each request costs the engine a compile and a round trip, and its answer grows with it (500 corporations: ~2.2 MB). Virtuoso 7 read 500 real ABR entities in 0.11 s as SPARQL XML.", _positive_int),
    Setting("sparql_wkt", "verbatim", "With KG_STORE=sparql: `opaque` stores GeoSPARQL WKT literals on the engine under the datatype urn:x-kg:geosparql-wktLiteral and turns them back in every answer, for engines that rewrite or reject them (Virtuoso 7 rounds their coordinates to 32-bit floats and refuses a CRS IRI: openlink/virtuoso-opensource#456, #803); `verbatim` sends them as they are.", _wkt_mode),
    Setting("sparql_results", "json", "With KG_STORE=sparql: the answer format kg asks the engine for in its own reads (an entity, a load's lookups, `kg validate`; queries it serves keep the client's): `xml` for OpenLink Virtuoso 7, which writes SPARQL XML results 4x faster than JSON (500 entities: 0.11 s against 0.43 s); `json` elsewhere (Oxigraph server: the same speed, and JSON is quicker for us to read).", _results_format),
    Setting("virtuoso_sql", None, "With KG_STORE=sparql on OpenLink Virtuoso: host:port of its SQL server (`ServerPort` of `[Parameters]` in virtuoso.ini, 1111 by default). Set, a big load (a dataset's records, its links) goes into files that isql loads with `DB.DBA.TTLP_MT`, as Virtuoso's bulk loader does, then a `checkpoint`; unset, as Graph Store POSTs, which Virtuoso 7 runs one at a time on one core (5.3M corporations: 2.50x its loader). Needs KG_VIRTUOSO_LOAD_DIR."),
    Setting("virtuoso_user", "dba", "With KG_VIRTUOSO_SQL: the SQL user that loads (it needs `TTLP_MT`, file access and `checkpoint`: dba)."),
    Setting("virtuoso_password", None, "With KG_VIRTUOSO_SQL: that user's password; never printed or recorded, but isql takes it on its command line, where other users of the loading machine can see it while isql runs.", secret=True),
    Setting("virtuoso_load_dir", None, "With KG_VIRTUOSO_SQL: directory the load writes N-Triples files into and Virtuoso reads them from, at the same path on both sides, listed in `DirsAllowed` of virtuoso.ini; each file is deleted once loaded."),
    Setting("virtuoso_file_bytes", 256 << 20, "With KG_VIRTUOSO_SQL: bytes of N-Triples per file of a bulk load; a file is loaded while the next is written, so up to three are on disk at once.", _bytes),
    Setting("virtuoso_isql", None, "With KG_VIRTUOSO_SQL: the isql program (unset: `isql-vt`, Debian's name, else `isql`)."),
    Setting("jgrants_api", "https://api.jgrants-portal.go.jp/exp", "Base URL of the jGrants public API that `kg fetch jgrants` calls (/v1/public/subsidies, /v1 or /v2/public/subsidies/id/{id} are appended).", str),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings: defaults < environment < explicit overrides (CLI options)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in _BY_NAME:
            return self.values.get(name, _BY_NAME[name].default)
        raise AttributeError(name)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    @property
    def worker_processes(self) -> int:
        """``KG_WORKERS``, or for 0 the CPUs this process may run on: two workers sharing one
        CPU answered 22% fewer one-entity queries than one (bench/README.md, session 15)."""
        return self.workers if self.workers > 0 else max(1, len(os.sched_getaffinity(0)))

    @property
    def base(self) -> str:
        base = self.base_uri
        return base if base.endswith(("/", "#")) else base + "/"

    def with_overrides(self, **overrides: Any) -> "Settings":
        merged = dict(self.values)
        for name, value in overrides.items():
            if name not in _BY_NAME:
                raise KeyError(f"unknown setting {name!r}")
            if value is not None:
                merged[name] = value
        return Settings(merged)

    def environ(self) -> dict[str, str]:
        """The explicitly set values as ``KG_*`` variables, for handing to worker processes."""
        return {_BY_NAME[name].env: str(value) for name, value in self.values.items() if value is not None}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read ``KG_*`` variables; a malformed value names the variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{setting.env}={raw!r}: {exc}") from None
    return Settings(values).with_overrides(**overrides)


def settings_table() -> str:
    """The settings as a Markdown table (for the README and ``kg settings``)."""
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = "(unset)" if s.default is None else f"`{s.default}`"
        lines.append(f"| `{s.env}` | {default} | {s.help} |")
    return "\n".join(lines)
