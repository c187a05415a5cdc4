"""``kg serve``: the app under granian (an HTTP server written in Rust) with worker processes.

Why granian and in-process queries: measured on this machine with wrk at concurrency 8, waitress
(pure-Python HTTP) in front of a pool of query processes answered a one-entity SELECT about 14x
slower than ``oxigraph serve``. Here each granian worker process parses HTTP in Rust and runs the
query in a thread of its own (:class:`~kg.server.executor.InlineExecutor`, pyoxigraph releases
the GIL while it evaluates). A query past the time limit is answered with the timeout error and
its process is then recycled, which granian notices and respawns; the other workers serve on.
"""

from __future__ import annotations

import os

from flask import Flask

from kg.settings import Settings, load_settings


def worker_app() -> Flask:
    """The app of one worker process (granian calls this factory in each of them)."""
    from kg.server import create_app
    from kg.server.executor import InlineExecutor

    settings = load_settings()
    return create_app(settings, executor=InlineExecutor(settings))


def serve(settings: Settings, *, log_level: str = "error") -> None:
    """Serve until interrupted; the settings reach the workers through ``KG_*`` variables."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    os.environ.update(settings.environ())
    Granian(
        "kg.server.wsgi:worker_app", factory=True, interface=Interfaces.WSGI,
        address=settings.host, port=settings.port, workers=max(1, settings.workers),
        blocking_threads=8, backpressure=64,
        respawn_failed_workers=True, respawn_interval=0.5,
        log_level=LogLevels(log_level),
    ).serve()
