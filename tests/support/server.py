"""Helpers for server tests: apps over seeded stores, and the W3C manifest reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.store import open_home
from support import BASE

CONFORMANCE = Path(__file__).parents[3] / "shared" / "conformance"


def seed(where, graphs: dict[str, Path | str]) -> None:
    """Make a fresh generation holding exactly ``graphs`` (name → N-Triples file or text) in a
    data directory or the store the settings ``where`` name."""
    home = open_home(where)
    current = home.open_current()
    with home.build(copy_all_except=current.named_graphs() if current else []) as b:
        b.store.update("CLEAR ALL")
        for name, data in graphs.items():
            if isinstance(data, Path):
                b.store.add(path=data, fmt="ntriples", graph=name)
            else:
                b.store.add(text=data, fmt="ntriples", graph=name)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedURL(str):
    """The URL of a running ``kg serve``, with the supervisor's process id and its log file."""

    pid: int
    log: Path


def start_server(data_dir: Path, cwd: Path, *, kg: Path | None = None, **env: str):
    """``kg serve`` on ``data_dir`` at a free loopback port; yields its URL, stops it after.

    Its output goes to ``cwd/kg-serve.log`` (a pipe nobody reads would fill and stall it)."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    environ = {**os.environ, "KG_DATA_DIR": str(data_dir), "KG_BASE_URI": BASE, "KG_PORT": str(port),
               "KG_HOST": "127.0.0.1", **env}
    kg = kg or Path(sys.executable).parent / "kg"
    log = Path(cwd) / "kg-serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(kg), "serve"], env=environ, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                text=True)
    url = ServedURL(f"http://127.0.0.1:{port}")
    url.pid, url.log = proc.pid, log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if b"gen-" in r.read():
                    break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("kg serve did not start: " + log.read_text())
    if proc.poll() is not None:
        pytest.fail("kg serve exited: " + log.read_text())
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def answering_server(answer):
    """A loopback HTTP server standing in for a remote API (never for an engine: those run for
    real): each GET or POST is answered by ``answer(method, path, body)`` → (status, body bytes,
    content type). Returns the server (``server.url``); ``server.shutdown()`` stops it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _reply(self):
            size = int(self.headers.get("Content-Length") or 0)
            status, body, ctype = answer(self.command, self.path, self.rfile.read(size) if size else b"")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server
