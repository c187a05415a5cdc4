"""Real SPARQL engines for the tests: Oxigraph server (``oxigraph`` on PyPI), started once per
session on a free loopback port, wiped before each test that uses it.

A test module opts in with ``pytestmark = pytest.mark.engines``: its tests that use the
``settings`` fixture then run once against the embedded store and once per engine found here
(an engine that is not installed is a skip, naming what installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

#: backends a module marked ``engines`` runs against (the first is the embedded store)
BACKENDS = ("embedded", "oxigraph-server")


@dataclass
class Engine:
    name: str
    query: str
    update: str
    store: str
    proc: subprocess.Popen

    def env(self) -> dict[str, str]:
        return {"KG_STORE": "sparql", "KG_SPARQL_QUERY": self.query, "KG_SPARQL_UPDATE": self.update,
                "KG_SPARQL_STORE": self.store}

    def overrides(self) -> dict[str, str]:
        return {"store": "sparql", "sparql_query": self.query, "sparql_update": self.update,
                "sparql_store": self.store}

    def wipe(self) -> None:
        """Every graph dropped: each test starts with an empty engine."""
        _post(self.update, "DROP ALL")

    def graphs(self) -> list[str]:
        import json

        body = urllib.parse.urlencode({"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"}).encode()
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


def start_oxigraph(location: Path):
    """``oxigraph serve`` on a free port; yields the :class:`Engine`, stops it after."""
    import pytest

    from support.server import free_port

    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph; .ci/run does)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(location.parent / "oxigraph.log", "w")
    proc = subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2):
                break
        except urllib.error.HTTPError:
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("oxigraph serve did not start: " + (location.parent / "oxigraph.log").read_text())
            time.sleep(0.1)
    try:
        yield Engine("oxigraph-server", url + "/query", url + "/update", url + "/store", proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
