"""Queries run in worker processes that can be killed: the time limit pyoxigraph lacks.

pyoxigraph has no query timeout and a running query holds its thread. So each query is sent to a
pool of worker processes (each with its own read-only store handle, reopened when the served
generation changes); the web process waits on a pipe with the time limit and, past it, kills the
worker and starts a fresh one. Other requests keep being served by the other workers, and the
workers also take query execution and serialisation off the web process's GIL.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kg.settings import Settings


class QueryTimeout(Exception):
    pass


class QueryRejected(Exception):
    """The query is malformed or cannot be answered (HTTP 400)."""


class ServiceBusy(Exception):
    """No worker became free in time (HTTP 503)."""


class NotAcceptable(Exception):
    """No offered media type fits the Accept header (HTTP 406)."""


class EntityNotFound(Exception):
    """Nothing is known about the IRI (HTTP 404)."""


@dataclass
class Answer:
    body: bytes
    media_type: str
    truncated: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def _worker_main(conn, data_dir: str, base: str, max_rows: int) -> None:
    from kg.server.work import Worker

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker = Worker(data_dir, base, max_rows)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            conn.send(("ok", worker.handle(request)))
        except Exception as exc:  # the message goes back to the client
            conn.send(("error", (type(exc).__name__, str(exc))))


class _Proc:
    def __init__(self, ctx, settings: Settings):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, str(settings.data_path), settings.base,
                                                              settings.max_rows), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        try:
            os.kill(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, TypeError):
            pass
        self.process.join(timeout=5)
        self.conn.close()


class Executor:
    """A fixed pool of query worker processes shared by the web threads."""

    def __init__(self, settings: Settings, size: int | None = None):
        self.settings = settings
        self.size = max(1, size or settings.workers)
        self._ctx = mp.get_context("spawn")
        self._idle: queue.Queue[_Proc] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(self.size):
            self._idle.put(_Proc(self._ctx, settings))

    def run(self, request: dict[str, Any], timeout: float | None = None) -> Answer:
        timeout = self.settings.query_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            proc = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise ServiceBusy(f"all {self.size} query workers stayed busy for {timeout:g} s") from None
        try:
            proc.conn.send(request)
            remaining = max(0.0, deadline - time.monotonic())
            if not proc.conn.poll(remaining):
                proc.kill()
                proc = _Proc(self._ctx, self.settings)
                raise QueryTimeout(f"query stopped after the time limit of {timeout:g} s "
                                   f"(KG_QUERY_TIMEOUT); narrow it down or add a LIMIT")
            status, payload = proc.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            proc.kill()
            proc = _Proc(self._ctx, self.settings)
            raise QueryRejected("the query worker died while answering this query") from None
        finally:
            if not self._closed:
                self._idle.put(proc)
            else:
                proc.kill()
        if status == "ok":
            return payload
        kind, message = payload
        if kind in ("SyntaxError", "ValueError", "QueryRejected"):
            raise QueryRejected(message)
        if kind == "NotAcceptable":
            raise NotAcceptable(message)
        if kind == "EntityNotFound":
            raise EntityNotFound(message)
        if kind == "StoreBusy":
            raise ServiceBusy(message)
        raise RuntimeError(f"{kind}: {message}")

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break
