"""Two ways to run queries under the time limit pyoxigraph lacks (it has no query timeout).

* :class:`Executor` -- a pool of query worker processes: the web process waits on a pipe with the
  time limit and, past it, kills the worker and starts a fresh one. Safe inside any WSGI server
  (tests, waitress), at the price of a process hop per request.
* :class:`InlineExecutor` -- queries run in threads of the web process itself (pyoxigraph releases
  the GIL while it evaluates), so a request costs no hop. Past the time limit the request is
  answered with the timeout error and the whole web process is recycled once its other requests
  are done: ``kg serve`` starts another worker process at once.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Awaitable, Callable, Iterator

from kg import errors
from kg.errors import QueryRejected, QueryTimeout, ServiceBusy
from kg.server.answer import Answer
from kg.server.sparql_text import one_subject
from kg.settings import Settings


def _translated(kind: str, message: str) -> Exception | None:
    """The project exception a worker raised, rebuilt from its class name (it came through a pipe)."""
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.KGError) and cls is not errors.ProtocolError:
        return cls(message)
    return None


def timed_out(timeout: float) -> QueryTimeout:
    return QueryTimeout(f"query stopped after the time limit of {timeout:g} s (KG_QUERY_TIMEOUT); "
                        "narrow it down or add a LIMIT")


async def _awaited(answer: Awaitable[Answer], timeout: float) -> Answer:
    """``answer`` within the time limit (over an engine: its HTTP request is cut at the limit)."""
    import asyncio

    try:
        async with asyncio.timeout(timeout):
            return await answer
    except TimeoutError:
        raise timed_out(timeout) from None


def _worker_main(conn, settings: Settings) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # queries run in a thread with a large stack (deep but allowed queries recurse in the engine)
    threading.stack_size(settings.query_stack)
    thread = threading.Thread(target=_answer_pipe, args=(conn, settings), name="kg-query")
    thread.start()
    thread.join()


def _answer_pipe(conn, settings: Settings) -> None:
    from kg.server.handler import RequestHandler

    worker = RequestHandler(settings)
    _warm(lambda: worker)
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


def _warm(handler: Callable[[], Any]) -> None:
    """Open the served generation now, not on the first query (~0.25 s for a 38 GB store at 5.3M,
    which that query would wait for); a failure here is met again, and answered, by that query.
    ``handler`` gives the RequestHandler to warm."""
    try:
        handler().handle({"kind": "ping"})
    except Exception:  # noqa: BLE001 -- e.g. the engine is not up yet
        pass


class _Proc:
    def __init__(self, ctx, settings: Settings):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, settings), daemon=True)
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
    """A fixed pool of query worker processes shared by the web threads.

    A query about one constant subject (:func:`kg.server.sparql_text.one_subject`: what a system
    resolving an identifier asks) cannot run away, so it is answered here, without the hop to a
    worker process (``KG_QUERY_ONE_SUBJECT_HERE``): the hop cost more than the query.
    """

    def __init__(self, settings: Settings, size: int | None = None):
        self.settings = settings
        self.size = max(1, size or settings.worker_processes)
        self._ctx = mp.get_context("spawn")
        self._idle: queue.Queue[_Proc] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._here = None  # a RequestHandler of this process, made on the first query it answers
        for _ in range(self.size):
            self._idle.put(_Proc(self._ctx, settings))
        if settings.query_one_subject_here:  # opened while the query processes start, not on a query
            threading.Thread(target=lambda: _warm(self._handler_here), name="kg-warm", daemon=True).start()

    def _answered_here(self, request: dict[str, Any]):
        """The handler of this process when ``request`` is a query it answers itself, else None."""
        if request.get("kind") != "query" or not self.settings.query_one_subject_here:
            return None
        if not one_subject(request["query"]):
            return None
        request["one_subject"] = True  # the guard need not read it again
        return self._handler_here()

    def _handler_here(self):
        if self._here is None:
            with self._lock:
                if self._here is None:
                    from kg.server.handler import RequestHandler

                    self._here = RequestHandler(self.settings)
        return self._here

    def run(self, request: dict[str, Any], timeout: float | None = None) -> Answer:
        here = self._answered_here(request)
        if here is not None:
            return here.handle(request)
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
                raise timed_out(timeout)
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
        raise _translated(kind, message) or RuntimeError(f"{kind}: {message}")

    async def run_async(self, request: dict[str, Any], timeout: float | None = None) -> Answer:
        import asyncio

        here = self._answered_here(request)
        if here is not None:
            if self.settings.store == "oxigraph":  # bounded and quick (~0.2 ms): no thread hop either
                return here.handle(request)
            # over an engine it is an HTTP round trip, which the loop awaits (no thread waits for it)
            return await _awaited(here.query_async(request), self.settings.query_timeout if timeout is None else timeout)
        return await asyncio.get_running_loop().run_in_executor(None, self.run, request, timeout)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break


def _recycle_process() -> None:
    import sys

    print(f"kg: worker process {os.getpid()} ends after a query passed the time limit; the server starts "
          "a fresh one", file=sys.stderr, flush=True)
    os._exit(RECYCLE_EXIT)


#: exit status of a web process recycled after a runaway query (`kg serve` starts another at once)
RECYCLE_EXIT = 75


class InlineExecutor:
    """Runs requests in a thread pool of this process; a runaway query recycles the process.

    ``on_runaway`` is called (once) after a query passed the time limit and every other request
    of this executor has finished or ``grace`` seconds have passed, whichever comes first; it
    defaults to ending the process so that the server starts a fresh one.
    """

    def __init__(self, settings: Settings, *, threads: int | None = None, grace: float | None = None,
                 on_runaway=_recycle_process):
        from kg.server.handler import RequestHandler

        self.settings = settings
        self.size = threads or settings.query_threads
        self._worker = RequestHandler(settings)
        # deep (but allowed) queries recurse in the engine: give its threads room (virtual memory)
        threading.stack_size(settings.query_stack)
        self._pool = cf.ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="kg-query")
        self._grace = settings.recycle_grace if grace is None else grace
        self._on_runaway = on_runaway
        self._lock = threading.Lock()
        self._active = 0
        self._recycling = False

    def run(self, request: dict[str, Any], timeout: float | None = None) -> Answer:
        timeout = self.settings.query_timeout if timeout is None else timeout
        with self._slot() as slot:
            submitted = self._pool.submit(self._worker.handle, request)
            try:
                return submitted.result(timeout)
            except cf.TimeoutError:
                raise self._timeout(slot, submitted, timeout) from None

    async def run_async(self, request: dict[str, Any], timeout: float | None = None) -> Answer:
        """:meth:`run` for an event loop: no thread waits for the query but the one running it."""
        import asyncio

        timeout = self.settings.query_timeout if timeout is None else timeout
        if self.settings.store != "oxigraph" and request.get("kind") == "query" and one_subject(request["query"]):
            request["one_subject"] = True  # an HTTP round trip to the engine, awaited by the loop
            with self._slot():
                return await _awaited(self._worker.query_async(request), timeout)
        with self._slot() as slot:
            submitted = self._pool.submit(self._worker.handle, request)
            try:
                async with asyncio.timeout(timeout):  # no extra task per query, unlike wait_for
                    return await asyncio.wrap_future(submitted)
            except TimeoutError:
                raise self._timeout(slot, submitted, timeout) from None

    @contextmanager
    def _slot(self) -> Iterator[dict]:
        """One request in progress; a runaway one (``slot["runaway"]``) starts the recycling."""
        with self._lock:
            if self._recycling:  # about to be replaced: a clean 503 now beats a connection cut later
                raise ServiceBusy("this worker process is being replaced after a runaway query; retry")
            self._active += 1
        slot = {"runaway": False}
        try:
            yield slot
        finally:
            with self._lock:
                self._active -= 1
                start = slot["runaway"] and not self._recycling
                self._recycling = self._recycling or slot["runaway"]
            if start:
                threading.Thread(target=self._recycle, name="kg-recycle", daemon=True).start()

    def _timeout(self, slot: dict, submitted: cf.Future, timeout: float) -> Exception:
        """The error to answer once the time limit passed (and whether the query now runs away)."""
        if submitted.cancel():  # it never started: every thread was busy
            return ServiceBusy(f"all {self.size} query threads stayed busy for {timeout:g} s")
        slot["runaway"] = True
        return timed_out(timeout)

    def _recycle(self) -> None:
        """Wait for the other requests to finish (bounded), then hand over to ``on_runaway``."""
        deadline = time.monotonic() + self._grace
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    break
            time.sleep(0.02)
        time.sleep(0.2)  # let the server write the last responses out
        self._on_runaway()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
