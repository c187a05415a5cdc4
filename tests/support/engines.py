"""Real SPARQL engines for the tests: Oxigraph server (``oxigraph`` on PyPI) and OpenLink
Virtuoso (Debian's ``virtuoso-opensource``), each started once per session on free loopback ports,
wiped before each test that uses it.

A test module opts in with ``pytestmark = pytest.mark.engines``: its tests that use the
``settings`` fixture then run once against the embedded store and once per engine found here
(an engine that is not installed is a skip, naming what installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

#: backends a module marked ``engines`` runs against (the first is the embedded store)
BACKENDS = ("embedded", "oxigraph-server", "virtuoso")


@dataclass
class Engine:
    name: str
    query: str
    update: str
    store: str
    proc: subprocess.Popen
    #: graphs the engine holds of its own (Virtuoso's system graphs), which a wipe keeps
    system_graphs: tuple[str, ...] = ()

    #: further settings the engine needs (``sparql_wkt``: Virtuoso cannot keep WKT literals)
    extra: tuple[tuple[str, str], ...] = ()

    def env(self) -> dict[str, str]:
        return {"KG_" + k.upper(): str(v) for k, v in self.overrides().items()}

    def overrides(self) -> dict:
        """The settings as values (``load_settings(**…)``), each parsed as its variable would be."""
        from kg.settings import SETTINGS

        parse = {s.name: s.parse for s in SETTINGS}
        return {"store": "sparql", "sparql_query": self.query, "sparql_update": self.update,
                "sparql_store": self.store, **{k: parse[k](v) for k, v in self.extra}}

    #: an SQL wipe for engines that cannot list their graphs quickly (Virtuoso), run through isql
    sql: list[str] | None = None

    def wipe(self) -> None:
        """Every graph dropped (but the engine's own): each test starts with an empty engine."""
        if not self.system_graphs:
            _post(self.update, "DROP ALL")
            return
        keep = ", ".join(f"iri_to_id('{g}')" for g in self.system_graphs)
        done = subprocess.run([*self.sql, f"exec=DELETE FROM DB.DBA.RDF_QUAD WHERE G NOT IN ({keep});"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "Error" not in done.stdout, done.stdout + done.stderr

    def graphs(self) -> list[str]:
        """Every graph the engine holds, as the engine itself lists them."""
        import json

        if self.sql:  # Virtuoso answers the SPARQL below by scanning every quad
            done = subprocess.run([*self.sql, "exec=SELECT DISTINCT id_to_iri(G) FROM DB.DBA.RDF_QUAD;"],
                                  capture_output=True, text=True, timeout=120)
            return sorted(line.strip() for line in done.stdout.splitlines()
                          if re.match(r"^\S+:\S", line.strip()) and " " not in line.strip())

        # GRAPH ?g {} would do, but Virtuoso 7 answers it with one unbound row
        body = urllib.parse.urlencode({"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"}).encode()
        req = urllib.request.Request(self.query, data=body, headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return sorted(b["g"]["value"] for b in json.load(r)["results"]["bindings"])


def _post(url: str, update: str) -> None:
    req = urllib.request.Request(url, data=update.encode(), headers={"Content-Type": "application/sparql-update"})
    with urllib.request.urlopen(req, timeout=60):
        pass


def oxigraph_binary() -> str | None:
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


def _start_answering(name: str, ports: int, launch: Callable[..., subprocess.Popen], probe: Callable[..., str], *,
                     patience: float, said: Callable[[], str], reset: Callable[[], None]) -> tuple:
    """Start an engine on ``ports`` free ports until it answers ``probe(*ports)``; returns
    (process, ports).

    Ports are free when picked, not when bound: another process (a second test run on the
    machine) may take one first, and the engine then exits at once. So an engine that exits
    before it answers is started again (after ``reset``) on other ports, up to three times; one
    that neither answers nor exits within ``patience`` seconds fails the test with what it said.
    """
    import pytest

    from support.server import free_port

    attempt = 0
    while True:
        attempt += 1
        picked = tuple(free_port() for _ in range(ports))
        proc = launch(*picked)
        deadline = time.monotonic() + patience
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(probe(*picked), timeout=2):
                    return proc, picked
            except OSError:
                time.sleep(0.1)
        proc.kill()
        proc.wait(30)
        if time.monotonic() >= deadline or attempt == 3:
            pytest.fail(f"{name} did not start (attempt {attempt}): {said()}")
        reset()


def start_oxigraph(location: Path):
    """``oxigraph serve`` on a free port; yields the :class:`Engine`, stops it after."""
    import pytest

    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph; .ci/run does)")
    log = open(location.parent / "oxigraph.log", "w")

    def launch(port: int) -> subprocess.Popen:
        return subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT)

    proc, (port,) = _start_answering(
        "oxigraph serve", 1, launch, lambda port: f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", patience=30,
        said=lambda: (location.parent / "oxigraph.log").read_text(errors="replace")[-1000:],
        reset=lambda: shutil.rmtree(location, ignore_errors=True))
    url = f"http://127.0.0.1:{port}"
    try:
        # loads as the README has them for Oxigraph server: one streamed POST, bulk-loaded
        yield Engine("oxigraph-server", url + "/query", url + "/update", url + "/store", proc,
                     extra=(("sparql_store", url + "/store?no_transaction"), ("sparql_post_bytes", "0")))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
ServerThreads = 10
MaxClientConnections = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 1000000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""


def start_virtuoso(location: Path):
    """OpenLink Virtuoso 7 (``virtuoso-t``) in ``location`` on free ports, with SPARQL Update
    granted to the endpoint's user; yields the :class:`Engine`, stops it after."""
    import pytest

    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        pytest.skip("OpenLink Virtuoso is not installed (apt-get install virtuoso-opensource; .ci/run does)")
    location.mkdir(parents=True, exist_ok=True)
    log = open(location / "stdout.log", "w")
    ini = location / "virtuoso.ini"

    def launch(sql_port: int, http_port: int) -> subprocess.Popen:
        ini.write_text(_VIRTUOSO_INI.format(d=location, sql_port=sql_port, http_port=http_port))
        return subprocess.Popen([binary, "-f", "-c", str(ini)], stdout=log, stderr=subprocess.STDOUT, cwd=location)

    def reset() -> None:  # the next attempt starts from an empty database
        for stale in location.glob("virtuoso*"):
            if stale.name != "virtuoso.ini":
                stale.unlink()

    proc, (sql_port, http_port) = _start_answering(
        "virtuoso-t", 2, launch, lambda sql_port, http_port: f"http://127.0.0.1:{http_port}/sparql?query=ASK%7B%7D",
        patience=120, reset=reset,
        said=lambda: "".join(p.read_text(errors="replace")[-1000:]
                             for p in (location / "stdout.log", location / "virtuoso.log") if p.exists()))
    url = f"http://127.0.0.1:{http_port}"
    grant = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                           capture_output=True, text=True, timeout=60)
    if grant.returncode != 0:
        proc.kill()
        pytest.fail("could not grant SPARQL_UPDATE on Virtuoso: " + grant.stdout + grant.stderr)
    engine = Engine("virtuoso", url + "/sparql", url + "/sparql", url + "/sparql-graph-crud", proc,
                    # big loads as the README has them for Virtuoso: its own bulk loader
                    extra=(("sparql_wkt", "opaque"), ("sparql_results", "xml"), ("virtuoso_sql", f"127.0.0.1:{sql_port}"),
                           ("virtuoso_password", "dba"), ("virtuoso_load_dir", str(location / "load"))),
                    sql=[isql, f"127.0.0.1:{sql_port}", "dba", "dba"])
    engine.system_graphs = tuple(engine.graphs())
    try:
        yield engine
    finally:
        proc.kill()  # its data is thrown away: no shutdown checkpoint to wait for
        proc.wait(30)
        log.close()
