"""Big loads into Virtuoso through its own bulk loader (KG_VIRTUOSO_SQL): kg.store.virtuoso_loader,
on a real Virtuoso 7 (the session's engine, wiped before each test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kg.errors import StoreError

_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"


def _loader(virtuoso, directory: Path | None = None, **kw):
    from kg.store.virtuoso_loader import VirtuosoLoader

    settings = dict(virtuoso.extra)
    return VirtuosoLoader(sql=settings["virtuoso_sql"], user="dba", password="dba",
                          directory=directory or Path(settings["virtuoso_load_dir"]), **kw)


def _view(virtuoso, loader, *, post_bytes: int = 64 << 10):
    from kg.store.remote import RemoteStore, SparqlClient

    client = SparqlClient(virtuoso.query, virtuoso.update, virtuoso.store, post_bytes=post_bytes, opaque_wkt=True,
                          bulk=loader)
    return RemoteStore(client, {}, writable=lambda graph: graph + "/gen-000001")


def test_a_big_load_goes_through_virtuosos_loader_file_by_file(virtuoso, monkeypatch):
    """A bulk add of 60,000 lines (3.2 MB) in 256 KiB files: each file is ld_add'ed and loaded,
    then one checkpoint; no Graph Store POST is sent; Japanese text and a WKT literal (kept
    opaque on Virtuoso) come back as written; no file and no load-list entry is left."""
    import http.client

    virtuoso.wipe()
    loader = _loader(virtuoso, file_bytes=256 << 10)
    statements: list[str] = []
    real_run = type(loader).run
    monkeypatch.setattr(type(loader), "run", lambda self, text: statements.append(text) or real_run(self, text))
    posts: list[str] = []
    real_request = http.client.HTTPConnection.request
    monkeypatch.setattr(http.client.HTTPConnection, "request",
                        lambda conn, method, url, *a, **kw: (posts.append(url) if method == "POST" and "crud" in url
                                                              else None) or real_request(conn, method, url, *a, **kw))
    lines = b"".join(b'<http://x/s%d> <http://x/p> "%d \xe6\xa0\xaa\xe5\xbc\x8f\xe4\xbc\x9a\xe7\xa4\xbe" .\n' % (i, i)
                     for i in range(60_000))
    lines += f'<http://x/place> <http://x/geometry> "POINT(139.691706 35.689487)"^^<{_WKT}> .\n'.encode()
    view = _view(virtuoso, loader)
    view.add(text=lines.decode("utf-8"), fmt="ntriples", graph="http://x/g", bulk=True)

    loads = [s for s in statements if "TTLP_MT" in s]
    assert len(loads) == -(-len(lines) // (256 << 10)) == 13
    assert statements[-1].strip() == "checkpoint;"
    assert posts == []
    assert view.count("http://x/g") == 60_001
    assert [q.object.value for q in view.quads("http://x/s59999")] == ["59999 株式会社"]
    [point] = view.quads("http://x/place")
    assert (point.object.value, point.object.datatype) == ("POINT(139.691706 35.689487)", _WKT)
    assert list(loader.directory.glob("kg-*.nt")) == []


def test_a_small_load_still_goes_as_graph_store_posts(virtuoso, monkeypatch):
    """Not ``bulk`` (a small dataset, a daily diff): no files, no checkpoint, a POST."""
    virtuoso.wipe()
    loader = _loader(virtuoso)
    monkeypatch.setattr(type(loader), "run", lambda self, text: pytest.fail(f"isql ran {text!r}"))
    view = _view(virtuoso, loader)
    view.add(text="<http://x/a> <http://x/p> <http://x/o> .\n", fmt="ntriples", graph="http://x/g")
    assert view.count("http://x/g") == 1


def test_a_file_the_loader_refuses_fails_the_load_with_virtuosos_words(virtuoso):
    """A broken line in the second file: the load stops with the loader's own message naming the
    file and line (Virtuoso's loader skips such a line in silence with its usual flags); no file
    is left; the client's next bulk load works."""
    virtuoso.wipe()
    loader = _loader(virtuoso, file_bytes=64 << 10)
    view = _view(virtuoso, loader, post_bytes=16 << 10)
    good = "".join(f"<http://x/s{i}> <http://x/p> <http://x/o> .\n" for i in range(3000))
    with pytest.raises(StoreError, match=r"bulk loader refused \S+/kg-\d+-[0-9a-f]{8}-\d{5}\.nt: 37000: SP029: TURTLE RDF loader, line \d+: Invalid"):
        view.add(text=good + "<http://x/broken <http://x/p> .\n" + good, fmt="ntriples", graph="http://x/g", bulk=True)
    assert list(loader.directory.glob("kg-*.nt")) == []
    view.add(text=good, fmt="ntriples", graph="http://x/h", bulk=True)
    assert view.count("http://x/h") == 3000


def test_a_wrong_sql_password_is_a_clear_error_that_never_shows_it(virtuoso):
    """isql refuses the login: one line with Virtuoso's reason, without the password; nothing of
    the load is left on disk."""
    from kg.store.virtuoso_loader import VirtuosoLoader

    virtuoso.wipe()
    settings = dict(virtuoso.extra)
    loader = VirtuosoLoader(sql=settings["virtuoso_sql"], user="dba", password="not-the-password-x9",
                            directory=Path(settings["virtuoso_load_dir"]))
    view = _view(virtuoso, loader)
    with pytest.raises(StoreError) as caught:
        view.add(text="<http://x/a> <http://x/p> <http://x/o> .\n", fmt="ntriples", graph="http://x/g", bulk=True)
    message = str(caught.value)
    assert "Bad login" in message and "not-the-password-x9" not in message and "\n" not in message
    assert "not-the-password-x9" not in repr(loader)
    assert list(loader.directory.glob("kg-*.nt")) == []


def test_the_sweep_removes_a_stopped_loads_files_only(virtuoso):
    """A load killed between writing a file and loading it leaves the file, under its process id:
    the next start's sweep removes it, and leaves a live process's files alone."""
    import subprocess

    loader = _loader(virtuoso)
    loader.directory.mkdir(parents=True, exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = loader.directory / f"kg-{dead.pid}-deadbeef-00000.nt"
    live = loader.directory / f"kg-{os.getpid()}-cafef00d-00000.nt"
    for path in (stale, live):
        path.write_text("<http://x/a> <http://x/p> <http://x/o> .\n")
    loader.sweep()
    assert not stale.exists() and live.exists()
    live.unlink()


def test_a_killed_loads_isql_dies_with_it_and_virtuoso_stops_loading(virtuoso, tmp_path):
    """``kg load`` killed while Virtuoso loads a file for it (all 3M triples in one file): its isql
    is killed too, so the connection closes and the graph stops growing before the file's end
    (Virtuoso ends a dead client's statement)."""
    import subprocess
    import sys
    import textwrap
    import time

    virtuoso.wipe()
    settings = dict(virtuoso.extra)
    script = tmp_path / "load.py"
    script.write_text(textwrap.dedent(f"""
        from pathlib import Path
        from kg.store.virtuoso_loader import VirtuosoLoader
        lines = (b'<http://x/s%d> <http://x/p> "%d" .\\n' % (i, i) for i in range(3_000_000))
        slices = (b"".join(next(lines) for _ in range(100_000)) for _ in range(30))
        VirtuosoLoader(sql={settings["virtuoso_sql"]!r}, user="dba", password="dba",
                       directory=Path({settings["virtuoso_load_dir"]!r}), file_bytes=1 << 30).load("http://x/big", slices)
    """))
    load = subprocess.Popen([sys.executable, str(script)])
    deadline = time.monotonic() + 120
    # isql at work (a query of the graph being loaded can wait for the loader on a busy machine)
    while subprocess.run(["pgrep", "-f", f"isql.* {settings['virtuoso_sql']} "], capture_output=True).stdout == b"":
        assert time.monotonic() < deadline and load.poll() is None, "the load never reached Virtuoso"
        time.sleep(0.1)
    time.sleep(1)
    load.kill()
    load.wait()
    counts = [_count(virtuoso, "http://x/big")]
    while len(counts) < 3 or counts[-1] != counts[-2]:  # Virtuoso ends the dead client's statement
        assert len(counts) < 30, f"the graph never stopped growing: {counts}"
        time.sleep(1)
        counts.append(_count(virtuoso, "http://x/big"))
    time.sleep(3)
    assert _count(virtuoso, "http://x/big") == counts[-1] < 3_000_000, counts  # one file: isql alive would finish it
    assert subprocess.run(["pgrep", "-f", f"isql.* {settings['virtuoso_sql']} "], capture_output=True).stdout == b""


def _count(virtuoso, graph: str) -> int:
    import urllib.parse
    import urllib.request
    import json

    body = urllib.parse.urlencode({"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    request = urllib.request.Request(virtuoso.query, data=body.encode(),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        return int(json.load(answer)["results"]["bindings"][0]["n"]["value"])


def test_kg_virtuoso_sql_without_a_load_dir_is_a_clear_error(virtuoso, tmp_path):
    from kg.settings import load_settings
    from kg.store.remote_generations import client_from

    settings = load_settings({}, data_dir=str(tmp_path), **{**virtuoso.overrides(), "virtuoso_load_dir": None})
    with pytest.raises(StoreError, match="KG_VIRTUOSO_SQL needs KG_VIRTUOSO_LOAD_DIR"):
        client_from(settings)
